"""Lineage: the `etl_runs`, `etl_files`, `etl_rejects` and `mart_builds` rows that trace every
figure to the run and the files it came from.

A run's row is written when it starts (a run still 'running' at the next start was killed) and
when it ends; a file's row is written inside the file's own transaction, so it exists exactly
when the file's rows do, except for a failed file, which is recorded alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from etl.sources.base import ParseResult
from etl.warehouse import staged, transaction


@dataclass
class FileResult:
    """What happened to one input file; the stable `ingest --json` fields come first."""

    path: str
    format: str | None
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    status: str = "failed"
    error: str | None = None
    platform: str | None = None
    file_id: int | None = None
    notes: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def start_run(con: duckdb.DuckDBPyConnection, trigger: str) -> int:
    """Record a new run as running; return its id."""
    with transaction(con):
        # A run still 'running' was killed: nothing of its unfinished file was committed.
        con.execute(
            "UPDATE etl_runs SET status = 'failed', finished_at = ? WHERE status = 'running'",
            [datetime.now(UTC)],
        )
        run_id = con.execute("SELECT nextval('etl_run_ids')").fetchall()[0][0]
        con.execute(
            "INSERT INTO etl_runs (run_id, trigger, started_at, status)"
            " VALUES (?, ?, ?, 'running')",
            [run_id, trigger, datetime.now(UTC)],
        )
    return int(run_id)


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, status: str) -> None:
    with transaction(con):
        con.execute(
            "UPDATE etl_runs SET finished_at = ?, status = ? WHERE run_id = ?",
            [datetime.now(UTC), status, run_id],
        )


def run_status(results: list[FileResult]) -> str:
    """'succeeded' when no file failed, 'failed' when all did (or every file was skipped as no
    export: nothing was there to load), else 'partial'."""
    tried = [r for r in results if r.status != "skipped"]
    failed = sum(r.status == "failed" for r in tried)
    if not tried and results:
        return "failed"
    if failed == 0:
        return "succeeded"
    return "failed" if failed == len(tried) else "partial"


def insert_file_row(
    con: duckdb.DuckDBPyConnection, run_id: int, path: Path, sha: str, parsed: ParseResult
) -> int:
    """The `etl_files` row of a file being loaded (inside its transaction); return its id."""
    file_id = con.execute("SELECT nextval('etl_file_ids')").fetchall()[0][0]
    con.execute(
        "INSERT INTO etl_files (file_id, run_id, source, path, sha256, format, status, loaded_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'loaded', ?)",
        [file_id, run_id, parsed.platform, str(path), sha, parsed.format, datetime.now(UTC)],
    )
    return int(file_id)


def finish_file(
    con: duckdb.DuckDBPyConnection,
    result: FileResult,
    rows_read: int,
    rejected: int,
    notes: list[str],
) -> None:
    """Record the file's counts in `result` and in its etl_files row."""
    result.rows_read, result.rows_rejected, result.notes = rows_read, rejected, list(notes)
    result.status = "loaded" if result.rows_inserted or result.rows_updated else "unchanged"
    con.execute(
        "UPDATE etl_files SET rows_read = ?, rows_inserted = ?, rows_updated = ?,"
        " rows_rejected = ?, status = ? WHERE file_id = ?",
        [
            result.rows_read,
            result.rows_inserted,
            result.rows_updated,
            result.rows_rejected,
            result.status,
            result.file_id,
        ],
    )


def loaded_before(con: duckdb.DuckDBPyConnection, sha: str) -> tuple[int, str] | None:
    """The id and path of the last file with these bytes that loaded, if any."""
    return loaded_before_many(con, [sha]).get(sha)


def loaded_before_many(
    con: duckdb.DuckDBPyConnection, shas: list[str]
) -> dict[str, tuple[int, str]]:
    """The rule for bytes seen before, for `ingest` and pulls alike: bytes that loaded (rows
    merged, or nothing to change) are not read again; bytes whose file failed are tried again,
    since a failure may come from settings or an importer since fixed. Each hash among `shas`
    that loaded, with the id and path of its last file."""
    if not shas:
        return {}
    rows = con.execute(
        "SELECT sha256, max(file_id), arg_max(path, file_id) FROM etl_files"
        " WHERE list_contains(?::VARCHAR[], sha256) AND status <> 'failed' GROUP BY sha256",
        [list(shas)],
    ).fetchall()
    return {sha: (int(file_id), str(path)) for sha, file_id, path in rows}


def last_taking_run(con: duckdb.DuckDBPyConnection) -> int | None:
    """The newest run that took a file's bytes (rows merged, or nothing to change), if any."""
    row = con.execute("SELECT max(run_id) FROM etl_files WHERE status <> 'failed'").fetchone()
    return None if row[0] is None else int(row[0])


def record_known_file(
    con: duckdb.DuckDBPyConnection, run_id: int, path: Path, sha: str, r: FileResult
) -> None:
    """A file whose bytes were loaded before: recorded unchanged, nothing merged."""
    r.status = "unchanged"
    _record_unmerged(con, run_id, path, sha, r)


def record_failed_file(
    con: duckdb.DuckDBPyConnection, run_id: int, path: Path, sha: str, r: FileResult
) -> None:
    """A file that loaded nothing, with the reason (`r.error`); sets `r.file_id`."""
    r.status = "failed"
    _record_unmerged(con, run_id, path, sha, r)


def _record_unmerged(
    con: duckdb.DuckDBPyConnection, run_id: int, path: Path, sha: str, r: FileResult
) -> None:
    """The `etl_files` row of a file nothing was merged from, with `r`'s status and error."""
    with transaction(con):
        file_id = con.execute("SELECT nextval('etl_file_ids')").fetchall()[0][0]
        r.file_id = int(file_id)
        con.execute(
            "INSERT INTO etl_files (file_id, run_id, source, path, sha256, format, status, error,"
            " loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [file_id, run_id, r.platform, str(path), sha, r.format, r.status, r.error,
             datetime.now(UTC)],
        )  # fmt: skip


def insert_rejects(con: duckdb.DuckDBPyConnection, file_id: int, rejects: pl.DataFrame) -> None:
    """Quarantine a file's rejected records (`record_no`, `reason`, scrubbed `raw`)."""
    if rejects.is_empty():
        return
    with staged(con, _stage_rejects=rejects):
        insert_staged_rejects(con, file_id, "_stage_rejects")


def insert_staged_rejects(con: duckdb.DuckDBPyConnection, file_id: int, relation: str) -> int:
    """Quarantine the rejected records of the SQL relation `relation`; return how many."""
    inserted = con.execute(
        "INSERT INTO etl_rejects (file_id, record_no, reason, raw)"
        f" SELECT ?, record_no, reason, raw FROM {relation}",
        [file_id],
    ).fetchall()[0][0]
    return int(inserted)


# Per platform whose figures a build kept: the run its kept figures were built after (the last
# build's, or what the last build itself kept them from).
SINCE_SQL = """
WITH last AS (SELECT max(run_id) AS run_id FROM mart_builds)
SELECT s.platform, CASE WHEN l.platform IS NULL THEN last.run_id ELSE l.since_run END
FROM lagging_now AS s CROSS JOIN last
LEFT JOIN mart_lagging AS l ON l.run_id = last.run_id AND l.platform = s.platform
"""


def record_mart_build(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    started: datetime,
    finished: datetime,
    lagging: dict[str, str] | None = None,
) -> None:
    """A rebuild of the marts from the warehouse as it was after run `run_id`, with the
    platforms whose figures it kept at their last good build (`lagging`: platform, reason)."""
    lagging = lagging or {}
    now = pl.DataFrame(
        {"platform": list(lagging), "reason": list(lagging.values())},
        schema={"platform": pl.String, "reason": pl.String},
    )
    with staged(con, lagging_now=now), transaction(con):
        since = dict(con.sql(SINCE_SQL).fetchall()) if lagging else {}
        con.execute(
            "INSERT INTO mart_builds (run_id, started_at, finished_at) VALUES (?, ?, ?)",
            [run_id, started, finished],
        )
        for platform, why in lagging.items():
            con.execute(
                "INSERT INTO mart_lagging (run_id, platform, since_run, reason)"
                " VALUES (?, ?, ?, ?)",
                [run_id, platform, since[platform], why],
            )
