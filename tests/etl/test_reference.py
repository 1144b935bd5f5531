"""Reference tables: the shipped CSVs load, reload without change, and bad rows are named."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from etl.reference import (
    DEFAULT_FX_RATES,
    DEFAULT_WAGE_FLOORS,
    ReferenceTableError,
    load_reference_tables,
    read_fx_rates,
    read_wage_floors,
)
from etl.settings import PaySettings, Settings

FX_HEADER = "currency,day,usd_per_unit,units_per_usd,source\n"


def table(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()


def test_shipped_tables_load_and_reload_unchanged(
    memory_warehouse: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    counts = load_reference_tables(memory_warehouse, settings)
    first = table(memory_warehouse, "fx_rates"), table(memory_warehouse, "wage_floors")
    assert load_reference_tables(memory_warehouse, settings) == counts
    assert (table(memory_warehouse, "fx_rates"), table(memory_warehouse, "wage_floors")) == first
    assert counts["wage_floors"] == len(first[1]) > 0


def test_shipped_wage_floors_cover_fifteen_countries_with_sources_and_rates() -> None:
    floors = read_wage_floors(DEFAULT_WAGE_FLOORS)
    fx = read_fx_rates(DEFAULT_FX_RATES)
    assert floors.get_column("country").n_unique() >= 15
    assert floors.get_column("source").str.len_chars().min() > 10
    missing = set(floors.get_column("currency")) - set(fx.get_column("currency"))
    assert not missing, f"wage floors in currencies without rates: {missing}"
    for code in ["USD", "EUR", "GBP", "INR", "PHP", "KES", "NGN", "VES", "BRL", "RUB"]:
        assert code in set(fx.get_column("currency"))


def test_rates_may_be_given_either_way_round(tmp_path: Path) -> None:
    path = tmp_path / "fx.csv"
    path.write_text(FX_HEADER + "EUR,2025-01-01,1.25,,ecb\nINR,2025-01-01,,80,rbi\n")
    rates = dict(read_fx_rates(path).select("currency", "usd_per_unit").iter_rows())
    assert rates == {"EUR": 1.25, "INR": pytest.approx(1 / 80)}


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("EUR,2025-01-01,1.25,0.8,ecb", "exactly one of usd_per_unit and units_per_usd"),
        ("EURO,2025-01-01,1.25,,ecb", "not an ISO 4217 code"),
        ("EUR,31/01/2025,1.25,,ecb", "not a date like 2025-01-31"),
        ("EUR,2025-01-01,-1,,ecb", "must be above zero"),
    ],
)
def test_a_bad_rate_row_is_named_by_line(tmp_path: Path, row: str, problem: str) -> None:
    path = tmp_path / "fx.csv"
    path.write_text("# my rates\n" + FX_HEADER + "USD,2000-01-01,1,,definition\n" + row + "\n")
    with pytest.raises(ReferenceTableError, match=f"line 4: .*{problem}"):
        read_fx_rates(path)


def test_a_duplicate_floor_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "floors.csv"
    head = "country,region,currency,amount,unit,hours_basis,effective_from,source\n"
    row = "US,,USD,7.25,hour,,2009-07-24,FLSA\n"
    path.write_text(head + row + row)
    with pytest.raises(ReferenceTableError, match="more than one row for country=US"):
        read_wage_floors(path)


def test_a_floor_without_a_unit_or_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "floors.csv"
    head = "country,region,currency,amount,unit,hours_basis,effective_from,source\n"
    path.write_text(head + "US,,USD,7.25,week,,2009-07-24,FLSA\n")
    with pytest.raises(ReferenceTableError, match="line 2: unit 'week'"):
        read_wage_floors(path)
    path.write_text(head + "US,,USD,7.25,hour,,2009-07-24,\n")
    with pytest.raises(ReferenceTableError, match="source is empty"):
        read_wage_floors(path)


def test_a_configured_file_replaces_the_shipped_one(
    memory_warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "fx.csv"
    path.write_text(FX_HEADER + "USD,2000-01-01,1,,definition\n")
    settings = Settings(data_dir=tmp_path, pay=PaySettings(fx_rates_file=path))
    assert load_reference_tables(memory_warehouse, settings)["fx_rates"] == 1
    missing = Settings(data_dir=tmp_path, pay=PaySettings(fx_rates_file=tmp_path / "nope.csv"))
    with pytest.raises(ReferenceTableError, match="does not exist"):
        load_reference_tables(memory_warehouse, missing)
    assert len(table(memory_warehouse, "fx_rates")) == 1  # a failed load leaves the table be
