"""Reference tables the pay metrics need: exchange rates and wage floors, loaded from CSV.

The shipped, dated tables live in `etl/data/`; settings `pay.fx_rates_file` and
`pay.wage_floors_file` point to a user's updated copies. Every load replaces both tables, so
loading the same files again changes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from etl.errors import UserError
from etl.resources import REFERENCE_TABLES_DIR as DATA_DIR
from etl.settings import Settings
from etl.warehouse import replace_rows, transaction

DEFAULT_FX_RATES = DATA_DIR / "fx_rates.csv"
DEFAULT_WAGE_FLOORS = DATA_DIR / "wage_floors.csv"
UNITS = ("hour", "day", "month")


class ReferenceTableError(UserError):
    """A reference CSV is missing or has a bad row; the message names the file, line and fix."""


def load_reference_tables(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """Replace `fx_rates` and `wage_floors` with the configured CSVs; return rows per table."""
    fx = read_fx_rates(settings.pay.fx_rates_file or DEFAULT_FX_RATES)
    floors = read_wage_floors(settings.pay.wage_floors_file or DEFAULT_WAGE_FLOORS)
    with transaction(con):
        replace_rows(con, "fx_rates", fx)
        replace_rows(con, "wage_floors", floors)
    return {"fx_rates": fx.height, "wage_floors": floors.height}


def read_fx_rates(path: Path) -> pl.DataFrame:
    """Rates from a CSV of `currency`, `day`, `usd_per_unit` or `units_per_usd`, `source`.

    Give each rate either way round (USD per unit, as quoted for EUR and GBP, or units per
    USD, as central banks quote most others); the warehouse stores USD per unit.
    """
    raw = _read_csv(path, required=["currency", "day", "source"])
    rows = []
    for line, row in _numbered(raw, path):
        currency = _currency(row.get("currency"), path, line)
        usd_per_unit = _positive(row.get("usd_per_unit"), "usd_per_unit", path, line, True)
        units_per_usd = _positive(row.get("units_per_usd"), "units_per_usd", path, line, True)
        if (usd_per_unit is None) == (units_per_usd is None):
            raise _bad(path, line, "give exactly one of usd_per_unit and units_per_usd")
        rows.append(
            {
                "currency": currency,
                "day": _day(row.get("day"), "day", path, line),
                "usd_per_unit": usd_per_unit if usd_per_unit is not None else 1 / units_per_usd,
                "source": row.get("source") or None,
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={"currency": pl.String, "day": pl.Date, "usd_per_unit": pl.Float64,
                "source": pl.String},
    )  # fmt: skip
    _no_duplicates(frame, ["currency", "day"], path)
    return frame


def read_wage_floors(path: Path) -> pl.DataFrame:
    """Floors from a CSV of `country`, `region`, `currency`, `amount`, `unit`, `hours_basis`,
    `effective_from`, `source` (plus optional `scope` and `confidence`, kept in the source)."""
    required = ["country", "currency", "amount", "unit", "effective_from", "source"]
    raw = _read_csv(path, required=required)
    rows = []
    for line, row in _numbered(raw, path):
        country = (row.get("country") or "").strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise _bad(path, line, f"country {country!r} is not an ISO 3166-1 alpha-2 code")
        unit = (row.get("unit") or "").strip().lower()
        if unit not in UNITS:
            raise _bad(path, line, f"unit {unit!r} is not one of {', '.join(UNITS)}")
        if not (row.get("source") or "").strip():
            raise _bad(path, line, "source is empty: name the law or publication of this floor")
        rows.append(
            {
                "country": country,
                "region": (row.get("region") or "").strip(),
                "currency": _currency(row.get("currency"), path, line),
                "amount": _positive(row.get("amount"), "amount", path, line, False),
                "unit": unit,
                "hours_basis": _positive(row.get("hours_basis"), "hours_basis", path, line, True),
                "effective_from": _day(row.get("effective_from"), "effective_from", path, line),
                "source": _source_note(row),
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={"country": pl.String, "region": pl.String, "currency": pl.String,
                "amount": pl.Float64, "unit": pl.String, "hours_basis": pl.Float64,
                "effective_from": pl.Date, "source": pl.String},
    )  # fmt: skip
    _no_duplicates(frame, ["country", "region", "effective_from"], path)
    return frame


def _source_note(row: dict[str, str | None]) -> str:
    note = row["source"].strip()
    details = [(row.get(k) or "").strip() for k in ("confidence", "scope")]
    details = [d for d in details if d]
    return f"{note} ({'; '.join(details)})" if details else note


def _read_csv(path: Path, required: list[str]) -> pl.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise ReferenceTableError(
            f"Reference table {path} does not exist. Fix the path in config.toml [pay] or remove "
            "the setting to use the shipped table."
        )
    try:
        frame = pl.read_csv(path, comment_prefix="#", infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise ReferenceTableError(
            f"{path} is not a readable CSV ({exc}). Fix or replace it."
        ) from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ReferenceTableError(
            f"{path} lacks the columns {', '.join(missing)}. Name them in its header, as the "
            f"shipped tables in {DATA_DIR} do."
        )
    return frame


def _numbered(frame: pl.DataFrame, path: Path) -> list[tuple[int, dict[str, str | None]]]:
    """Rows with their line number in the file (comment lines and the header counted)."""
    lines = Path(path).read_text().splitlines()
    data_lines = [n for n, text in enumerate(lines, 1) if text.strip() and not text.startswith("#")]
    return list(zip(data_lines[1:], frame.iter_rows(named=True), strict=False))


def _bad(path: Path, line: int, problem: str) -> ReferenceTableError:
    return ReferenceTableError(f"{path}, line {line}: {problem}. Correct the row and run again.")


def _currency(value: str | None, path: Path, line: int) -> str:
    code = (value or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise _bad(path, line, f"currency {value!r} is not an ISO 4217 code like USD")
    return code


def _positive(value: str | None, name: str, path: Path, line: int, optional: bool) -> float | None:
    text = (value or "").strip()
    if not text:
        if optional:
            return None
        raise _bad(path, line, f"{name} is empty")
    try:
        number = float(text)
    except ValueError:
        raise _bad(path, line, f"{name} {text!r} is not a number") from None
    if not number > 0:
        raise _bad(path, line, f"{name} must be above zero, not {text}")
    return number


def _day(value: str | None, name: str, path: Path, line: int) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise _bad(path, line, f"{name} {value!r} is not a date like 2025-01-31") from None


def _no_duplicates(frame: pl.DataFrame, keys: list[str], path: Path) -> None:
    twice = frame.filter(pl.struct(keys).is_duplicated())
    if twice.height:
        first = twice.row(0, named=True)
        named = ", ".join(f"{k}={first[k]}" for k in keys)
        raise ReferenceTableError(f"{path} has more than one row for {named}. Keep one of them.")
