"""Schema migrations apply in number order, once each, whatever gaps their numbers leave."""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.warehouse import apply_migrations, migrations


def write(folder: Path, name: str, sql: str) -> None:
    (folder / name).write_text(sql)


def test_migrations_apply_in_number_order_across_a_gap(tmp_path: Path) -> None:
    write(tmp_path, "010_later.sql", "INSERT INTO seen VALUES ('010');")
    write(tmp_path, "001_first.sql", "CREATE TABLE seen (name VARCHAR);")
    write(tmp_path, "006_after_gap.sql", "INSERT INTO seen VALUES ('006');")
    write(tmp_path, "notes.sql", "this is not a migration")
    assert [p.name for p in migrations(tmp_path)] == [
        "001_first.sql", "006_after_gap.sql", "010_later.sql",
    ]  # fmt: skip
    con = duckdb.connect()
    assert apply_migrations(con, tmp_path) == ["001_first.sql", "006_after_gap.sql",
                                               "010_later.sql"]  # fmt: skip
    assert con.sql("SELECT name FROM seen").fetchall() == [("006",), ("010",)]


def test_a_migration_that_fills_a_gap_later_applies_once_on_the_next_open(tmp_path: Path):
    write(tmp_path, "001_first.sql", "CREATE TABLE seen (name VARCHAR);")
    write(tmp_path, "006_mine.sql", "INSERT INTO seen VALUES ('006');")
    con = duckdb.connect()
    apply_migrations(con, tmp_path)
    write(tmp_path, "004_merged_later.sql", "INSERT INTO seen VALUES ('004');")
    assert apply_migrations(con, tmp_path) == ["004_merged_later.sql"]
    assert apply_migrations(con, tmp_path) == []
    assert sorted(con.sql("SELECT name FROM seen").fetchall()) == [("004",), ("006",)]


def test_the_shipped_schema_applies_with_its_numbers() -> None:
    con = duckdb.connect()
    applied = apply_migrations(con)
    assert "006_scope_changes.sql" in applied
    numbers = [int(name.partition("_")[0]) for name in applied]
    assert numbers == sorted(numbers)
    assert con.sql("SELECT count(*) FROM scope_changes").fetchall() == [(0,)]
