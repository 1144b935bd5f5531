"""Label Studio pulls against a local server standing in for its export API: the export is
streamed whole, with the token header; a cut-off export or a refused token loads nothing; new
annotations in a later export load, an unchanged export loads nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from etl.pull_settings import LabelStudioPull
from etl.pulls import http
from etl.pulls.run import run_pull
from etl.reader import SnapshotReader
from etl.settings import Settings
from etl.warehouse import open_warehouse
from tests.etl.fake_api import FakeApi, Request, serving

EXPORT = json.loads((Path(__file__).parent / "fixtures" / "labelstudio_export.json").read_text())


class Project:
    """The project's tasks as the export API returns them; tests add annotations."""

    def __init__(self) -> None:
        self.tasks = copy.deepcopy(EXPORT)

    def export(self, request: Request) -> tuple[int, bytes]:
        assert request.path == "/api/projects/5/export"
        assert request.query == {"exportType": "JSON"}
        return 200, json.dumps(self.tasks).encode()


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "sleep", lambda seconds: None)
    monkeypatch.setenv("TEST_LS_TOKEN", "ls-token")


def labelstudio(api: FakeApi) -> LabelStudioPull:
    return LabelStudioPull(
        name="ls",
        kind="labelstudio",
        url=api.url,
        project="5",
        token_env="TEST_LS_TOKEN",
        every="15m",
        retries=1,
        backoff_seconds=0.01,
    )


def annotation_count(settings: Settings) -> int:
    with SnapshotReader(settings).cursor() as cur:
        return cur.execute("SELECT count(*) FROM assignments").fetchone()[0]


def test_an_export_loads_and_only_new_annotations_land_later(settings: Settings):
    project = Project()
    with serving(FakeApi(project.export)) as api:
        first = run_pull(settings, labelstudio(api))
        assert first.result == "loaded"
        assert api.requests[0].headers["Authorization"] == "Token ls-token"
        before = annotation_count(settings)
        assert before > 0

        assert run_pull(settings, labelstudio(api)).result == "nothing new"

        added = copy.deepcopy(project.tasks[0]["annotations"][0])
        added |= {"id": 999, "completed_by": {"id": 77}, "ground_truth": False}
        project.tasks[0]["annotations"].append(added)
        third = run_pull(settings, labelstudio(api))
        assert (third.result, third.rows_loaded > 0) == ("loaded", True)
        assert annotation_count(settings) == before + 1


ERRORS = {
    "cut": "failed after 2 attempts",
    "eof": "is no complete JSON document",
    "401": "refused the token",
}


@pytest.mark.parametrize("trick", sorted(ERRORS))
def test_a_cut_off_export_or_a_refused_token_loads_nothing(settings: Settings, trick: str):
    with serving(FakeApi(Project().export, script=[trick] * 5)) as api:
        outcome = run_pull(settings, labelstudio(api))
    assert outcome.result == "failed"
    assert ERRORS[trick] in outcome.error
    with open_warehouse(settings) as con:
        assert con.execute("SELECT count(*) FROM assignments").fetchone() == (0,)
    assert not (settings.pulls_dir / "ls").exists()
