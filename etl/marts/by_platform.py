"""A figures rebuild that fails on one platform's data leaves the other platforms' figures
rebuilt: the failing platform's keep their last good build, and say why.

The unit is the platform because the marts are built that way: a worker is a pseudonym on one
platform, work sessions (and so active time, pay per hour, throughput) run across a worker's
projects on one platform, and every mart table but a few cross-platform ones has `platform` in
its grain. A project's figures depend on its platform's other projects through shared sessions,
so a platform's figures are rebuilt whole or kept whole.

How: the build runs over the whole warehouse first (the common case costs nothing more). When
it raises, it is run again over each platform's data alone (temporary views in front of the
warehouse tables, `only_platforms`; together about one more build), and the platforms whose
own build raises are the failing ones. The build then runs over the other platforms' data, and
the failing platforms' rows of every mart, and the cross-platform tables (no `platform`
column: the whole period's wage, the fairness audits, the notes), are put back as they were in
the snapshot published before the rebuild (the last good build). When every platform fails, or
none does alone (a failure of the whole, not of one platform's data), every mart is put back
and the error is raised: the figures then lag as a whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from etl.settings import Settings
from etl.warehouse import replace_table, staged, transaction

log = logging.getLogger(__name__)

Build = Callable[[duckdb.DuckDBPyConnection, Settings], object]

IN_SCOPE = "platform IN (SELECT platform FROM mart_platforms)"
# What the marts read, narrowed to the platforms in scope (the staged frame `mart_platforms`).
SCOPED_TABLES: dict[str, str] = {
    "platforms": IN_SCOPE,
    "projects": IN_SCOPE,
    "milestones": IN_SCOPE,
    "workers": IN_SCOPE,
    "items": IN_SCOPE,
    "assignments": IN_SCOPE,
    # a worker's answers: through their assignment (the view below, already narrowed)
    "annotations": "assignment_uid IN (SELECT assignment_uid FROM assignments)",
    "earnings": IN_SCOPE,
    "time_entries": f"platform IS NULL OR {IN_SCOPE}",  # tracked time no platform claims
}
PLATFORMS_SQL = " UNION ".join(
    f"SELECT DISTINCT platform FROM {table} WHERE platform IS NOT NULL"
    for table in ("projects", "workers", "assignments", "earnings", "time_entries")
)
PREVIOUS = "mart_previous"
REASON_CHARS = 500


def rebuild(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    build: Build,
    tables: Iterable[str],
    previous: Path | None,
) -> dict[str, str]:
    """Run `build` (which writes the mart `tables`); return the platforms whose figures were
    kept at their last good build (the marts of the snapshot `previous`), each with the reason.
    Raises the build's error when no platform's figures could be rebuilt."""
    try:
        build(con, settings)
        return {}
    except Exception as exc:
        error = exc
    tables = list(tables)
    platforms = [p for (p,) in con.sql(f"{PLATFORMS_SQL} ORDER BY 1").fetchall()]
    log.warning("rebuilding the figures failed (%r); trying each platform alone", error)
    failing: dict[str, str] = {}
    if len(platforms) > 1:
        for platform in platforms:
            try:
                with only_platforms(con, [platform]):
                    build(con, settings)
            except Exception as exc:
                failing[platform] = reason(exc)
    healthy = [p for p in platforms if p not in failing]
    if not failing or not healthy:  # a failure of the whole, or of every platform
        keep_previous(con, previous, tables, None)
        raise error
    try:
        with only_platforms(con, healthy):
            build(con, settings)
    except Exception:
        keep_previous(con, previous, tables, None)
        raise error from None
    log.warning("figures of %s kept at their last good build: %s", sorted(failing), failing)
    keep_previous(con, previous, tables, sorted(failing))
    return failing


def reason(exc: BaseException) -> str:
    """What an error says, on one line and short enough to show."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + "..."


@contextmanager
def only_platforms(con: duckdb.DuckDBPyConnection, platforms: list[str]) -> Iterator[None]:
    """For the block, every table the marts read shows only the rows of `platforms` (temporary
    views of the same names, which DuckDB resolves before the warehouse's own tables)."""
    database = _quoted(con.sql("SELECT current_database()").fetchall()[0][0])
    with staged(con, mart_platforms=_platforms(platforms)):
        try:
            for table, where in SCOPED_TABLES.items():
                con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {table} AS "
                    f"SELECT * FROM {database}.main.{table} WHERE {where}"
                )
            yield
        finally:
            for table in reversed(SCOPED_TABLES):
                con.execute(f"DROP VIEW IF EXISTS temp.main.{table}")


def keep_previous(
    con: duckdb.DuckDBPyConnection,
    previous: Path | None,
    tables: list[str],
    platforms: list[str] | None,
) -> None:
    """Put back the rows of `platforms` (all rows when None), and every row of the tables with
    no `platform` column, of each mart table the snapshot `previous` holds."""
    if previous is None or not previous.is_file():
        return
    path = str(previous).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS {PREVIOUS} (READ_ONLY)")
    try:
        kept = {name: _columns(con, PREVIOUS, name) for name in tables}
        with staged(con, mart_platforms=_platforms(platforms or [])), transaction(con):
            for table, columns in kept.items():
                if not columns:
                    continue  # not built before: nothing to put back
                source = f"{PREVIOUS}.main.{table}"
                if platforms is None or "platform" not in columns:
                    replace_table(con, table, f"SELECT * FROM {source}")
                    continue
                shared = ", ".join(_quoted(c) for c in _columns(con, None, table) if c in columns)
                con.execute(f"DELETE FROM {table} WHERE {IN_SCOPE}")
                con.execute(
                    f"INSERT INTO {table} ({shared}) SELECT {shared} FROM {source} WHERE {IN_SCOPE}"
                )
    finally:
        con.execute(f"DETACH {PREVIOUS}")


def _columns(con: duckdb.DuckDBPyConnection, database: str | None, table: str) -> list[str]:
    """The columns of `table` in `database` (the warehouse when None); none when it is absent."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'"
        " AND database_name = coalesce(?, current_database()) ORDER BY column_index",
        [table, database],
    ).fetchall()
    return [name for (name,) in rows]


def _platforms(platforms: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"platform": platforms}, schema={"platform": pl.String})


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
