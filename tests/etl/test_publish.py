"""A run publishes its rows first and its figures after, so readers never wait for the marts,
and the dashboard says when the figures lag the rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import etl.publish
from cli.commands.status import collect_status
from dashboard.pages import PAGES
from dashboard.queries.shell import figures_behind
from dashboard.routing import render_page
from dashboard.url_state import Filters
from etl.load import ingest
from etl.publish import publish
from etl.reader import SnapshotReader
from etl.warehouse import open_warehouse
from tests.dashboard.viewers import ADMIN, viewer_data
from tests.etl.test_load import fake_source, write  # noqa: F401

pytestmark = pytest.mark.usefixtures("fake_source")
OVERVIEW = next(page for page in PAGES if page.path == "/")


def one(snapshot: Path, sql: str) -> int:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def text_of(component) -> str:
    return str(component.to_plotly_json() if hasattr(component, "to_plotly_json") else component)


def test_the_data_snapshot_is_current_before_the_figures_are_rebuilt(settings, tmp_path):
    ingest(settings, [write(tmp_path / "a.json", [[1, "W1", "submitted"]])])
    seen = {}

    def look(snapshot: Path) -> None:
        seen["current"] = SnapshotReader(settings).current_name() == snapshot.name
        seen["rows"] = one(snapshot, "SELECT count(*) FROM assignments")
        seen["built_for"] = one(snapshot, "SELECT max(run_id) FROM mart_builds")
        seen["in_figures"] = one(snapshot, "SELECT sum(assignments) FROM mart_activity_daily")

    with open_warehouse(settings) as con:
        con.execute("INSERT INTO assignments SELECT * REPLACE ('fake:2' AS assignment_uid) "
                    "FROM assignments")  # fmt: skip
        final = publish(con, settings, 7, data_published=look)
    assert seen == {"current": True, "rows": 2, "built_for": 1, "in_figures": 1}
    assert SnapshotReader(settings).current_name() == final.name
    assert one(final, "SELECT max(run_id) FROM mart_builds") == 7
    assert one(final, "SELECT sum(assignments) FROM mart_activity_daily") == 2


def test_a_failed_rebuild_leaves_the_rows_published_and_says_the_figures_lag(
    settings,
    tmp_path,
    monkeypatch,
):
    ingest(settings, [write(tmp_path / "a.json", [[1, "W1", "submitted"]])])
    admin = viewer_data(settings, ADMIN)
    assert figures_behind(admin) is None
    monkeypatch.setattr(etl.publish, "build_marts", _fail)
    with pytest.raises(RuntimeError, match="marts broke"):
        ingest(settings, [write(tmp_path / "b.json", [[2, "W2", "submitted"]])])

    admin = viewer_data(settings, ADMIN)
    assert admin.frame("SELECT count(*) AS n FROM assignments")["n"][0] == 2
    behind = figures_behind(admin)
    assert (behind["data_run"], behind["figures_run"]) == (2, 1)
    page = text_of(render_page(OVERVIEW, admin, Filters()))
    assert "Figures are being updated" in page and "Run 2 is loaded" in page
    figures = collect_status(SnapshotReader(settings), runs=5)["figures"]
    assert (figures["built_after_run"], figures["behind"]) == (1, True)

    monkeypatch.undo()
    ingest(settings, [write(tmp_path / "c.json", [[3, "W3", "submitted"]])])
    admin = viewer_data(settings, ADMIN)
    assert figures_behind(admin) is None
    assert collect_status(SnapshotReader(settings), runs=5)["figures"]["behind"] is False
    assert "Figures are being" not in text_of(render_page(OVERVIEW, admin, Filters()))


def test_the_first_load_says_its_figures_are_being_computed(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(etl.publish, "build_marts", _fail)
    with pytest.raises(RuntimeError):
        ingest(settings, [write(tmp_path / "a.json", [[1, "W1", "submitted"]])])
    admin = viewer_data(settings, ADMIN)
    assert admin.frame("SELECT count(*) AS n FROM assignments")["n"][0] == 1
    page = text_of(render_page(OVERVIEW, admin, Filters()))
    assert "Figures are being computed" in page and "predates" not in page


def _fail(con: duckdb.DuckDBPyConnection, settings) -> list[str]:
    raise RuntimeError("marts broke")
