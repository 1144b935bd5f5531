"""Scope changes from the template to the forecast: `crowdmeter ingest` loads them (a re-import
of the same day updates the change), and `etl.tracking` hands them to the forecast, which uses
the scope in force on its day; a snapshot from before migration 006 reads as no changes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from etl.load import ingest
from etl.reader import SnapshotReader
from etl.resources import SCHEMA_DIR
from etl.settings import Settings
from etl.tracking import read_plans, track_projects

PLAN = (
    "platform,project_id,starts_on,due_on,target_items,labels_per_item\n"
    "mturk,B1,2026-03-01,2026-04-30,1000,3\n"
)
CHANGES = "platform,project_id,changed_on,target_items,reason\n"


def test_scope_changes_load_update_in_place_and_reach_the_forecast(
    settings: Settings, tmp_path: Path
) -> None:
    plan, changes, edited = tmp_path / "plan.csv", tmp_path / "changes.csv", tmp_path / "c2.csv"
    plan.write_text(PLAN)
    changes.write_text(CHANGES + "mturk,B1,2026-03-20,1200,client added items\n")
    edited.write_text(CHANGES + "mturk,B1,2026-03-20,1300,client added more\n"
                      "mturk,B1,2026-04-10,1250,duplicates removed\n")  # fmt: skip
    first = ingest(settings, [plan, changes])
    assert [f.format for f in first.files] == ["projects", "scope_changes"]
    again = ingest(settings, [edited])
    assert (again.files[0].rows_inserted, again.files[0].rows_updated) == (1, 1)

    reader = SnapshotReader(settings)
    (project,) = read_plans(reader.frame)
    assert project.scope_changes == [
        (date(2026, 3, 20), 1300, "client added more"),
        (date(2026, 4, 10), 1250, "duplicates removed"),
    ]
    scopes = {
        as_of: track_projects(reader.frame, settings, as_of=as_of)[0].forecast.scope
        for as_of in (date(2026, 3, 19), date(2026, 3, 20), date(2026, 4, 30))
    }
    # items, not items x labels: the marts count accepted items (docs/METRICS.md, "Burn-up")
    assert scopes == {date(2026, 3, 19): 1000, date(2026, 3, 20): 1300, date(2026, 4, 30): 1250}


def test_a_snapshot_from_before_the_scope_changes_migration_has_no_changes() -> None:
    con = duckdb.connect()
    con.execute((SCHEMA_DIR / "001_core.sql").read_text())
    con.execute("INSERT INTO projects (platform, project_id, target_items) VALUES ('m', 'B', 5)")

    def query(sql: str, params: dict | None) -> object:
        return con.sql(sql, params=params).pl()

    (project,) = read_plans(query)
    assert (project.target_items, project.scope_changes) == (5, [])
