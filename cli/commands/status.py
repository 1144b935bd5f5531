"""`crowdmeter status`: freshness per source, last runs and rejects, from the published snapshot."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC
from typing import TYPE_CHECKING

from cli.output import print_json
from etl.errors import UserError

if TYPE_CHECKING:
    from etl.reader import SnapshotReader
    from etl.settings import Settings

HAS_LAGGING_SQL = (
    "SELECT count(*) > 0 AS present FROM duckdb_tables() WHERE table_name = 'mart_lagging'"
)
RUNS_SQL = """
SELECT run_id, trigger, started_at, finished_at, status,
       (SELECT count(*) FROM etl_files f WHERE f.run_id = r.run_id)::BIGINT AS files,
       (SELECT count(*) FROM etl_files f WHERE f.run_id = r.run_id AND f.status = 'failed')::BIGINT
           AS failed_files
FROM etl_runs r ORDER BY run_id DESC LIMIT ?
"""

SOURCES_SQL = """
WITH files AS (
    SELECT source AS platform, count(*)::BIGINT AS files, max(loaded_at) AS last_loaded_at,
           sum(rows_rejected)::BIGINT AS rows_rejected
    FROM etl_files WHERE status <> 'failed' GROUP BY source
), facts AS (
    SELECT platform, count(*)::BIGINT AS assignments,
           count(DISTINCT worker_id)::BIGINT AS workers, max(submitted_at) AS latest_activity
    FROM assignments GROUP BY platform
)
SELECT f.platform, f.files, f.last_loaded_at, f.rows_rejected,
       coalesce(a.assignments, 0)::BIGINT AS assignments, coalesce(a.workers, 0)::BIGINT AS workers,
       a.latest_activity
FROM files f LEFT JOIN facts a USING (platform)
ORDER BY f.platform
"""

# Workers and platforms are those with recorded work (an assignment, a time entry or an
# earnings line), projects those with assignments, as the Overview page counts them; never the
# dimension tables, which also hold what only an import template or a plan named.
TOTALS_SQL = """
WITH work AS (
    SELECT worker_id, platform, project_id FROM assignments UNION ALL
    SELECT worker_id, platform, project_id FROM time_entries UNION ALL
    SELECT worker_id, platform, project_id FROM earnings
)
SELECT (SELECT count(DISTINCT platform) FROM work)::BIGINT AS platforms,
       (SELECT count(DISTINCT (platform, project_id)) FROM assignments)::BIGINT AS projects,
       (SELECT count(DISTINCT worker_id) FROM work)::BIGINT AS workers,
       (SELECT count(*) FROM assignments)::BIGINT AS assignments,
       (SELECT count(*) FROM annotations)::BIGINT AS annotations,
       (SELECT count(*) FROM time_entries)::BIGINT AS time_entries,
       (SELECT count(*) FROM earnings)::BIGINT AS earnings,
       (SELECT count(*) FROM etl_rejects)::BIGINT AS rejects
"""

FAILED_SQL = """
SELECT file_id, run_id, path, format, error FROM etl_files
WHERE status = 'failed' ORDER BY file_id DESC LIMIT 20
"""

REJECTS_SQL = """
SELECT r.file_id, f.path, r.record_no, r.reason, r.raw
FROM etl_rejects r JOIN etl_files f USING (file_id)
WHERE r.file_id = ? ORDER BY r.record_no LIMIT ?
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "status",
        help="freshness, last runs and rejects",
        description="Show what the published snapshot holds: sources, runs, failures, rejects.",
    )
    parser.add_argument("--runs", type=int, default=5, help="how many recent runs to show")
    parser.add_argument("--rejects", type=int, metavar="FILE_ID", help="list one file's rejects")
    parser.add_argument("--limit", type=int, default=50, help="rejects to list at most")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.set_defaults(func=run)


def collect_status(reader: SnapshotReader, runs: int) -> dict:
    """The status figures as plain data (what `--json` prints)."""
    from etl.pulls.status import recorded_states, source_statuses
    from etl.reader import FIGURES_SQL, LAGGING_SQL

    recorded = recorded_states(reader.settings)
    return {
        "snapshot": reader.current_name(),
        "totals": rows(reader, TOTALS_SQL)[0],
        "pulls": source_statuses(reader.settings, recorded),
        "sources": rows(reader, SOURCES_SQL),
        "runs": rows(reader, RUNS_SQL, [runs]),
        "failed_files": rows(reader, FAILED_SQL),
        "figures": _figures(
            rows(reader, FIGURES_SQL)[0],
            rows(reader, LAGGING_SQL) if rows(reader, HAS_LAGGING_SQL)[0]["present"] else [],
        ),
    }


def rows(reader: SnapshotReader, sql: str, params: list | None = None) -> list[dict]:
    """One bound query's rows as dicts, straight from DuckDB: status needs no Polars (it would
    double the command's start-up time)."""
    with reader.cursor() as cur:
        result = cur.execute(sql, params or [])
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _figures(row: dict, lagging: list[dict]) -> dict | None:
    """The dashboard figures' last rebuild, whether a newer run awaits one, and the platforms
    whose figures it kept at an older build (platform, since_run, reason)."""
    from etl.reader import figures_lag

    if row["figures_run"] is None:
        return None
    return {
        "built_after_run": row["figures_run"],
        "built_at": row["figures_built_at"],
        "behind": figures_lag(row),
        "lagging": lagging,
    }


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.reader import NoSnapshot, SnapshotReader

    reader = SnapshotReader(settings)
    try:
        if args.rejects is not None:
            return _print_rejects(reader, args.rejects, args.limit, args.json)
        status = collect_status(reader, args.runs)
    except NoSnapshot as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print_json(status)
    else:
        print_status(status)
    return 0


def _print_rejects(reader: SnapshotReader, file_id: int, limit: int, as_json: bool) -> int:
    files = rows(reader, "SELECT path FROM etl_files WHERE file_id = ?", [file_id])
    if not files:
        raise UserError(
            f"No file {file_id} in the snapshot; `crowdmeter status` lists the files, and "
            "`crowdmeter ingest` prints each file's id beside its rejects."
        )
    rejects = rows(reader, REJECTS_SQL, [file_id, limit])
    if as_json:
        print_json(rejects)
    elif not rejects:
        print(f"file {file_id} ({files[0]['path']}) has no rejected records")
    for r in [] if as_json else rejects:
        print(f"{r['path']} record {r['record_no']}: {r['reason']}\n    {r['raw']}")
    return 0


def _when(moment: object) -> str:
    """A stored time as a person reads it: to the minute, in UTC; 'none' when there is none."""
    if moment is None:
        return "none"
    if hasattr(moment, "astimezone") and getattr(moment, "tzinfo", None) is not None:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(moment)


def print_status(status: dict) -> None:
    from etl.pulls.status import failing

    t = status["totals"]
    print(f"snapshot {status['snapshot']}")
    print(
        f"  {t['platforms']} platforms, {t['projects']} projects, {t['workers']:,} workers,"
        f" {t['assignments']:,} assignments, {t['time_entries']:,} time entries,"
        f" {t['earnings']:,} earnings lines, {t['rejects']:,} rejected records"
    )
    figures = status["figures"]
    if figures is None:
        print("  the dashboard's figures are not built yet")
    else:
        late = " (still being rebuilt for the newest run)" if figures["behind"] else ""
        print(
            f"  figures built after run {figures['built_after_run']},"
            f" at {_when(figures['built_at'])}{late}"
        )
        for kept in figures["lagging"]:
            since = kept["since_run"]
            built = f"built after run {since}" if since is not None else "not built yet"
            print(
                f"  figures of {kept['platform']} lag ({built}): rebuilding them failed:"
                f" {kept['reason']}"
            )
    if status["pulls"]:
        print("pull sources:")
    for p in status["pulls"]:
        print(
            f"  {p['name']:<14} {p['kind']:<11} {p['schedule']:<18} {p['last_result']}"
            f" at {p['last_finished_at']}, {p['files_loaded'] or 0} files,"
            f" {p['rows_loaded'] or 0:,} rows; next run {p['next_run_at']}"
        )
        if loud := failing(p):
            print(f"  {loud}", file=sys.stderr)
    print("sources:")
    for s in status["sources"]:
        print(
            f"  {s['platform']:<14} {s['files']:>4} file{'s' if s['files'] != 1 else ' '},"
            f" last loaded {_when(s['last_loaded_at'])},"
            f" latest activity {_when(s['latest_activity'])}, {s['assignments']:,} assignments,"
            f" {s['rows_rejected']:,} rejects"
        )
    print("recent runs:")
    for r in status["runs"]:
        print(
            f"  run {r['run_id']} ({r['trigger']}) {r['status']}: {r['files']} files,"
            f" {r['failed_files']} failed, finished {_when(r['finished_at'])}"
        )
    for f in status["failed_files"]:
        print(f"  failed file {f['file_id']} {f['path']}: {f['error']}")
