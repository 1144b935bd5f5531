"""The Pipeline page's pull sources: admins see every source with its schedule, result and next
run, a failing one in a red notice; managers see none of it."""

from __future__ import annotations

import json
from pathlib import Path

import plotly
import pytest

from dashboard.access import NotAllowed
from dashboard.pages import pipeline
from dashboard.queries import pipeline as q
from dashboard.url_state import Filters
from etl.pulls.run import run_pull
from etl.settings import Settings
from tests.dashboard.viewers import ADMIN, MANAGER, viewer_data

MTURK = Path(__file__).resolve().parents[1] / "etl" / "fixtures" / "mturk_batch.csv"


@pytest.fixture
def pulled(settings: Settings, tmp_path: Path) -> Settings:
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "batch.csv").write_bytes(MTURK.read_bytes())
    folder = {"kind": "folder", "settle_seconds": 0}
    with_pulls = settings.model_copy(
        update={
            "pulls": Settings(
                pulls=[
                    {**folder, "name": "drop", "path": str(tmp_path / "drop"), "every": "15m"},
                    {**folder, "name": "gone", "path": str(tmp_path / "gone"), "cron": "0 * * * *"},
                    {**folder, "name": "new", "path": str(tmp_path / "drop"), "every": "1d"},
                ]
            ).pulls
        }
    )
    for pull in with_pulls.pulls[:2]:
        run_pull(with_pulls, pull)
    return with_pulls


def text_of(layout) -> str:
    return json.dumps(layout, cls=plotly.utils.PlotlyJSONEncoder)


def test_admins_see_each_source_and_a_failing_one_loudly(pulled: Settings):
    data = viewer_data(pulled, ADMIN)
    sources = {row["name"]: row for row in q.pull_sources(data, Filters()).to_dicts()}
    assert sources["drop"]["last_result"] == "loaded" and sources["drop"]["rows_loaded"] == 3
    assert sources["gone"]["schedule"] == "cron 0 * * * *"
    assert (
        sources["gone"]["last_result"] == "failed" and "does not exist" in sources["gone"]["error"]
    )
    assert sources["new"]["last_result"] == "never run"
    shown = text_of(pipeline.layout(data, Filters()))
    assert "A pull source is failing" in shown and "pull gone FAILING" in shown
    assert "Run now" in shown


def test_managers_see_no_pull_sources(pulled: Settings):
    data = viewer_data(pulled, MANAGER)
    assert "Pull sources" not in text_of(pipeline.layout(data, Filters()))
    with pytest.raises(NotAllowed):
        q.pull_sources(data, Filters())
