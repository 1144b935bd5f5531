"""The marts: the derived tables the dashboard and the read-only commands read, rebuilt after
every run, in the order of `MARTS` (the quality marts read `mart_project_fields`, the
project-tracking marts the quality marts).

Each mart states the grain of every table it writes: the columns one row is unique on (a test
checks it on a built warehouse). A SQL mart is a query in `sql/marts/` whose header names its
grain (`-- grain: col, col`); the Python marts compute their tables with `metrics/`.

A build that fails on one platform's data rebuilds the other platforms' figures and keeps the
failing platform's at their last good build (`etl.marts.by_platform`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import duckdb

from etl.marts import earnings, fairness, projects, quality
from etl.resources import MARTS_DIR as SQL_DIR
from etl.settings import Settings
from etl.warehouse import replace_table

GRAIN_PREFIX = "-- grain:"


@dataclass(frozen=True)
class Mart:
    """One step of the build: its name, the grain of each table it writes, how it builds."""

    name: str
    grains: dict[str, tuple[str, ...]]
    build: Callable[[duckdb.DuckDBPyConnection, Settings], None]


def sql_grain(query: str, file_name: str) -> tuple[str, ...]:
    """The columns a SQL mart's `-- grain:` header names."""
    for line in query.splitlines():
        if line.startswith(GRAIN_PREFIX):
            return tuple(c.strip() for c in line.removeprefix(GRAIN_PREFIX).split(","))
    raise ValueError(f"sql/marts/{file_name} has no '{GRAIN_PREFIX} col, col' header line")


def sql_mart(table: str, file_name: str) -> Mart:
    """The mart `table`, the rows of the query in `sql/marts/<file_name>`."""
    query = (SQL_DIR / file_name).read_text()
    return Mart(table, {table: sql_grain(query, file_name)}, partial(_build_sql, table, query))


def _build_sql(table: str, query: str, con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    replace_table(con, table, query)


MARTS: tuple[Mart, ...] = (
    sql_mart("mart_activity_daily", "10_activity_daily.sql"),
    sql_mart("mart_projects", "11_projects.sql"),
    sql_mart("mart_file_projects", "12_file_projects.sql"),
    sql_mart("mart_project_fields", "14_project_fields.sql"),
    Mart("earnings", earnings.GRAINS, earnings.build),
    Mart("quality", quality.GRAINS, quality.build),
    Mart("fairness", fairness.GRAINS, fairness.build),  # reads the earnings ledger
    Mart("projects", projects.GRAINS, projects.build),  # reads the quality marts
)


def build_marts(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Rebuild every mart; return their names in build order."""
    for mart in MARTS:
        mart.build(con, settings)
    return [mart.name for mart in MARTS]


def mart_tables() -> list[str]:
    """Every table the marts write, in build order."""
    return [table for mart in MARTS for table in mart.grains]
