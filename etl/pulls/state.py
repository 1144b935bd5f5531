"""The `pull_state` rows: each source's newest run (result, rows, error) and its next run.

Written at the end of a run under the writer lock, inside a `transaction()` of the warehouse,
and published with the run's snapshot, so readers see it beside the data it describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from etl.pull_settings import Pull
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


def record_outcome(
    con: duckdb.DuckDBPyConnection,
    pull: Pull,
    outcome: PullOutcome,
    next_run_at: datetime | None,
) -> None:
    """Replace the source's row with this run's outcome; failures in a row are counted."""
    failed = outcome.result == "failed"
    with transaction(con):
        before = con.execute(
            "SELECT failures_in_a_row, last_success_at FROM pull_state WHERE name = ?",
            [pull.name],
        ).fetchall()
        failures, last_success = before[0] if before else (0, None)
        con.execute("DELETE FROM pull_state WHERE name = ?", [pull.name])
        con.execute(
            "INSERT INTO pull_state (name, kind, schedule, last_started_at, last_finished_at,"
            " last_result, run_id, files_loaded, rows_loaded, error, notes, failures_in_a_row,"
            " last_success_at, next_run_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ],
        )


def known_hashes(con: duckdb.DuckDBPyConnection, hashes: list[str]) -> set[str]:
    """The hashes among `hashes` of files the warehouse has already taken (loaded, unchanged or
    failed: the same bytes would end the same way)."""
    if not hashes:
        return set()
    rows = con.execute(
        "SELECT DISTINCT sha256 FROM etl_files WHERE list_contains(?::VARCHAR[], sha256)",
        [hashes],
    ).fetchall()
    return {row[0] for row in rows}


def latest_run_id(con: duckdb.DuckDBPyConnection) -> int:
    """The newest ETL run's id (0 before the first), to name a snapshot published without one."""
    return int(con.execute("SELECT coalesce(max(run_id), 0) FROM etl_runs").fetchall()[0][0])
