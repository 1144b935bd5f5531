"""The `pull_state` rows: each source's newest run (result, rows, error), its next run, and
where an API source left off (`cursor`).

Written at the end of a run under the writer lock, inside a `transaction()` of the warehouse.
A run that loads nothing publishes no snapshot, so the rows are also written out as
`data_dir/pulls/status.json` (replaced atomically) after every run: `crowdmeter status` and
the Pipeline page read the sources' state there, fresh even when the snapshot is not.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from etl.pull_settings import Pull
from etl.pulls.status import status_path
from etl.settings import Settings
from etl.warehouse import transaction


@dataclass
class PullOutcome:
    """How one run of a source went."""

    started_at: datetime
    finished_at: datetime
    result: str  # 'loaded', 'nothing new' or 'failed'
    run_id: int | None = None
    files_loaded: int = 0
    rows_loaded: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    cursor: str | None = None  # where the next run starts, when this one moved it


def record_outcome(
    con: duckdb.DuckDBPyConnection,
    pull: Pull,
    outcome: PullOutcome,
    next_run_at: datetime | None,
) -> None:
    """Replace the source's row with this run's outcome; failures in a row are counted, and
    the cursor moves only with a run that did not fail."""
    failed = outcome.result == "failed"
    with transaction(con):
        before = con.execute(
            "SELECT failures_in_a_row, last_success_at, cursor FROM pull_state WHERE name = ?",
            [pull.name],
        ).fetchall()
        failures, last_success, cursor = before[0] if before else (0, None, None)
        if not failed and outcome.cursor is not None:
            cursor = outcome.cursor
        con.execute("DELETE FROM pull_state WHERE name = ?", [pull.name])
        con.execute(
            "INSERT INTO pull_state (name, kind, schedule, last_started_at, last_finished_at,"
            " last_result, run_id, files_loaded, rows_loaded, error, notes, failures_in_a_row,"
            " last_success_at, next_run_at, cursor)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                pull.name,
                pull.kind,
                pull.schedule,
                outcome.started_at,
                outcome.finished_at,
                outcome.result,
                outcome.run_id,
                outcome.files_loaded,
                outcome.rows_loaded,
                outcome.error,
                "; ".join(outcome.notes) or None,
                failures + 1 if failed else 0,
                last_success if failed else outcome.finished_at,
                next_run_at,
                cursor,
            ],
        )


def last_cursor(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """Where source `name`'s last successful run left off (None: take everything)."""
    row = con.execute("SELECT cursor FROM pull_state WHERE name = ?", [name]).fetchone()
    return None if row is None else row[0]


def write_status_file(con: duckdb.DuckDBPyConnection, settings: Settings) -> Path:
    """Every source's `pull_state` row (the cursor left out) as JSON, replaced atomically."""
    result = con.execute("SELECT * EXCLUDE (cursor) FROM pull_state ORDER BY name")
    names = [c[0] for c in result.description]
    rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    path = status_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_text(json.dumps(rows, default=_iso, indent=1) + "\n")
    os.replace(part, path)
    return path


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in pull_state is not JSON")
