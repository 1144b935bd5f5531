"""Every mart's table is unique on the grain it states, on the demo-like warehouse after its
first run and after the second (which reuses the quality figures), and the marts' list names
every table the build writes. The two tables the demo leaves empty (it has no unattributed
time and no currency without a rate) are checked on a small warehouse of their own."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from etl.marts import MARTS, earnings, sql_grain
from tests.etl.demo_warehouse import mart_tables

EMPTY_ON_THE_DEMO = ("mart_earnings_notes", "mart_earnings_unattributed")
# the demo has no spans or boxes: tests/dashboard/test_quality_regions.py checks that grain
NO_REGIONS_ON_THE_DEMO = ("mart_quality_regions",)
GRAINS = [(mart.name, table, grain) for mart in MARTS for table, grain in mart.grains.items()]


def repeated_keys(con: duckdb.DuckDBPyConnection, table: str, grain: tuple[str, ...]) -> list:
    """Values of `grain` held by more than one row of `table` (nulls count as values)."""
    if not grain:  # a one-row table
        return con.execute(f"SELECT count(*) FROM {table} HAVING count(*) > 1").fetchall()
    columns = ", ".join(f'"{c}"' for c in grain)
    return con.execute(
        f"SELECT {columns}, count(*) FROM {table} GROUP BY ALL HAVING count(*) > 1 LIMIT 5"
    ).fetchall()


@pytest.mark.parametrize("run", [0, 1], ids=["first", "again"])
@pytest.mark.parametrize(("mart", "table", "grain"), GRAINS, ids=[t for _, t, _ in GRAINS])
def test_each_table_is_unique_on_its_grain(demo_snapshots, run, mart, table, grain):
    con = duckdb.connect(str(demo_snapshots[run]), read_only=True)
    try:
        assert repeated_keys(con, table, grain) == []
    finally:
        con.close()


def test_the_marts_list_names_every_table_built(demo_snapshots):
    con = duckdb.connect(str(demo_snapshots[0]), read_only=True)
    try:
        built = mart_tables(con)
    finally:
        con.close()
    assert sorted(table for _, table, _ in GRAINS) == built


def test_only_the_tables_checked_apart_are_empty_on_the_demo(demo_snapshots):
    con = duckdb.connect(str(demo_snapshots[0]), read_only=True)
    try:
        empty = [
            t
            for t in mart_tables(con)
            if not con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        ]
    finally:
        con.close()
    assert empty == sorted(EMPTY_ON_THE_DEMO + NO_REGIONS_ON_THE_DEMO)


def test_unattributed_time_and_notes_are_unique_on_their_grain(memory_warehouse, settings):
    memory_warehouse.execute(
        "INSERT INTO time_entries VALUES"
        " ('e1', 'w1', NULL, NULL, '2025-01-06 09:00+00', '2025-01-06 10:00+00', 3600, 'task', 1),"
        " ('e2', 'w1', NULL, NULL, '2025-01-07 09:00+00', '2025-01-07 09:30+00', 1800, 'task', 1),"
        " ('e3', 'w2', NULL, NULL, '2025-01-07 09:00+00', '2025-01-07 09:30+00', 1800, 'task', 1);"
        "INSERT INTO earnings VALUES"
        " ('m1', 'w1', 'outlier', NULL, NULL, '2025-01-06', 3, 3600, 10, 'XAA', 'paid', NULL, 1),"
        " ('m2', 'w1', 'outlier', NULL, NULL, '2025-01-07', 3, 3600, 10, 'XAA', 'paid', NULL, 1),"
        " ('m3', 'w2', 'outlier', NULL, NULL, '2025-01-07', 3, 3600, 10, 'XBB', 'paid', NULL, 1);"
    )
    earnings.build(memory_warehouse, settings)
    for table in EMPTY_ON_THE_DEMO:
        rows = memory_warehouse.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert rows == 2, table
        assert repeated_keys(memory_warehouse, table, earnings.GRAINS[table]) == []


def test_a_repeated_grain_is_found(memory_warehouse):
    memory_warehouse.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a'), (1, 'a')) v(k, x)")
    assert repeated_keys(memory_warehouse, "t", ("k",)) == [(1, 2)]
    assert repeated_keys(memory_warehouse, "t", ()) == [(2,)]


def test_a_sql_mart_without_a_grain_header_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="grain"):
        sql_grain("-- mart_x: one row per thing\nSELECT 1", "x.sql")
