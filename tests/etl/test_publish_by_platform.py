"""A figures rebuild that fails on one platform's data publishes the other platforms' figures
and keeps the failing platform's at their last good build, saying so everywhere figures lag."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

import etl.marts.earnings
from cli.commands.status import collect_status
from cli.main import main
from dashboard.pages import PAGES
from dashboard.routing import render_page
from dashboard.url_state import Filters
from etl import sources
from etl.load import ingest
from etl.publish import FiguresNotRebuilt, FiguresPartlyRebuilt
from etl.reader import SnapshotReader
from etl.sources.base import SourceOptions
from etl.warehouse import open_warehouse
from tests.dashboard.viewers import ADMIN, viewer_data
from tests.etl.test_load import fake_parse, write
from tests.etl.test_publish import text_of

OVERVIEW = next(page for page in PAGES if page.path == "/")
BROKEN = "year 0 is out of range"


def platform_parse(path: Path, fmt: str | None = None, options: SourceOptions = SourceOptions()):
    """The test format, its platform the file name's first word (`alpha_1.json`)."""
    result = fake_parse(path, fmt, options)
    platform = path.stem.split("_")[0]
    frames = {
        name: frame.with_columns(
            pl.col("assignment_uid").str.replace("fake:", f"{platform}:"),
            *([pl.lit(platform).alias("platform")] if "platform" in frame.columns else []),
        )
        for name, frame in result.frames.items()
    }
    return replace(result, platform=platform, frames=frames)


@pytest.fixture(autouse=True)
def platforms_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    two_platforms(monkeypatch)


def two_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "detect_format", lambda path: "fake", raising=False)
    monkeypatch.setattr(sources, "parse_file", platform_parse, raising=False)


def beta_breaks_pay(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on the pay ledger raises on any of platform beta's work, as a bad record would."""
    real = etl.marts.earnings.ledger_for

    def ledger_for(inputs, settings):
        if inputs.assignments["platform"].eq("beta").any():
            raise ValueError(BROKEN)
        return real(inputs, settings)

    monkeypatch.setattr(etl.marts.earnings, "ledger_for", ledger_for)


def always_fails(inputs, settings):
    raise ValueError(BROKEN)


def assignments_in_figures(settings) -> dict[str, int]:
    """Per platform: the assignments the activity mart of the current snapshot counts."""
    return dict(rows(settings, ACTIVITY_SQL))


def rows(settings, sql: str) -> list[tuple]:
    with SnapshotReader(settings).cursor() as cur:
        return cur.execute(sql).fetchall()


def load_both(folder: Path, n: int) -> list[Path]:
    """Files of one new assignment on each platform."""
    return [
        write(folder / f"alpha_{n}.json", [[n, f"A{n}", "submitted"]]),
        write(folder / f"beta_{n}.json", [[n, f"B{n}", "submitted"]]),
    ]


def lagging(settings) -> list[tuple]:
    figures = collect_status(SnapshotReader(settings), runs=5)["figures"]
    return [(r["platform"], r["since_run"], BROKEN in r["reason"]) for r in figures["lagging"]]


def overview(settings) -> str:
    return text_of(render_page(OVERVIEW, viewer_data(settings, ADMIN), Filters()))


def test_a_platform_whose_data_breaks_the_rebuild_keeps_its_last_figures(
    settings, tmp_path, monkeypatch
):
    ingest(settings, load_both(tmp_path, 1))
    assert assignments_in_figures(settings) == {"alpha": 1, "beta": 1}
    overall = rows(settings, OVERALL_SQL)

    beta_breaks_pay(monkeypatch)
    with pytest.raises(FiguresPartlyRebuilt) as raised:
        ingest(settings, load_both(tmp_path, 2))
    assert raised.value.lagging.keys() == {"beta"} and BROKEN in raised.value.lagging["beta"]
    assert raised.value.report.snapshot == SnapshotReader(settings).current_name()
    # alpha's figures are new; beta's, and those across platforms, the first build's
    assert assignments_in_figures(settings) == {"alpha": 2, "beta": 1}
    assert rows(settings, ALPHA_PAY_SQL) == [(2,)]
    assert rows(settings, OVERALL_SQL) == overall
    assert rows(settings, "SELECT max(run_id) FROM mart_builds") == [(2,)]
    assert collect_status(SnapshotReader(settings), runs=5)["figures"]["behind"] is False
    assert lagging(settings) == [("beta", 1, True)]
    page = overview(settings)
    assert "Some platforms' figures lag" in page and "beta: built after run 1" in page
    assert BROKEN in page and "Figures are being updated" not in page

    with pytest.raises(FiguresPartlyRebuilt):  # a second failing run keeps the same build
        ingest(settings, load_both(tmp_path, 3))
    assert assignments_in_figures(settings) == {"alpha": 3, "beta": 1}
    assert lagging(settings) == [("beta", 1, True)]

    monkeypatch.undo()  # the cause fixed: the next run rebuilds every platform
    two_platforms(monkeypatch)
    ingest(settings, [write(tmp_path / "alpha_4.json", [[4, "A4", "submitted"]])])
    assert assignments_in_figures(settings) == {"alpha": 4, "beta": 3}
    assert lagging(settings) == []
    assert "figures lag" not in overview(settings)


def test_ingest_json_names_the_lagging_platform(settings, tmp_path, capsys, monkeypatch):
    beta_breaks_pay(monkeypatch)
    files = load_both(tmp_path, 1)
    assert main(["--data-dir", str(settings.data_dir), "ingest", "--json", *map(str, files)]) == 2
    out = json.loads(capsys.readouterr().out)
    assert [f["status"] for f in out["files"]] == ["loaded", "loaded"]
    assert "beta" in out["figures_error"] and BROKEN in out["figures_error"]
    assert out["snapshot"] == SnapshotReader(settings).current_name()
    assert assignments_in_figures(settings) == {"alpha": 1}  # beta's were never built
    assert lagging(settings) == [("beta", None, True)]


def test_a_failure_on_every_platform_puts_every_figure_back(settings, tmp_path, monkeypatch):
    ingest(settings, load_both(tmp_path, 1))
    monkeypatch.setattr(etl.marts.earnings, "ledger_for", always_fails)
    with pytest.raises(FiguresNotRebuilt) as raised:
        ingest(settings, load_both(tmp_path, 2))
    assert not isinstance(raised.value, FiguresPartlyRebuilt)
    assert BROKEN in str(raised.value.__cause__)
    # the activity mart was rebuilt before the pay ledger raised: the warehouse has it back as
    # the last build made it, so the next snapshot's figures are that build's, not half new
    with open_warehouse(settings) as con:
        assert dict(con.sql(ACTIVITY_SQL).fetchall()) == {"alpha": 1, "beta": 1}


ACTIVITY_SQL = "SELECT platform, sum(assignments)::BIGINT FROM mart_activity_daily GROUP BY 1"
ALPHA_PAY_SQL = (
    "SELECT sum(tasks_pending)::BIGINT FROM mart_earnings_by_worker WHERE platform = 'alpha'"
)
OVERALL_SQL = "SELECT * FROM mart_earnings_wages_overall"
