"""Value parsing every importer shares: platform names, stable ids, money, counts, attributes.

Python-level parsers (`parse_money`) serve record-by-record JSON formats; the `*_expr`
builders do the same work as Polars expressions for the vectorized CSV formats. Both raise or
yield reasons that name the value and say what form was expected. Times are in `times`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl

from etl.sources.base import MONEY, SourceOptions

UID_HASH_CHARS = 16  # 64 bits of sha256: enough to keep natural keys apart within a platform

MONEY_PATTERN = (
    r"^\s*(?:USD\s*)?\$?\s*(?:\d+(?:\.\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?)\s*(?:USD)?\s*$"
)
_MONEY = re.compile(MONEY_PATTERN)
EXPECTED_MONEY = "like '0.50', '$0.50' or '$1,250.00'"


def platform_name(options: SourceOptions, fmt: str) -> str:
    """The platform rows are attributed to: --platform, else the format's own name."""
    return options.platform or fmt


def stable_uid(platform: str, *natural_key: str | None) -> str:
    """`platform:` + a short sha256 of the natural key, the same on every re-export."""
    text = "\x1f".join("" if part is None else str(part) for part in natural_key)
    return f"{platform}:{hashlib.sha256(text.encode()).hexdigest()[:UID_HASH_CHARS]}"


def file_stem(path: Path) -> str:
    """A file's name up to its first dot: 'alice.first40.jsonl' -> 'alice'."""
    return path.name.split(".", 1)[0] or path.name


# --- Python-level parsing (record-by-record formats) -------------------------------------


def parse_money(value: Any) -> Decimal | None:
    """A Decimal from '0.50', '$0.50', '$1,250.00' or a number; ValueError names bad values."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    text = str(value)
    if not _MONEY.match(text):
        raise ValueError(f"cannot read amount {text!r}: expected {EXPECTED_MONEY}")
    try:
        return Decimal(re.sub(r"[^\d.]", "", text))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise ValueError(f"cannot read amount {text!r}: expected {EXPECTED_MONEY}") from exc


def number_or_none(value: Any) -> float | None:
    """A float when `value` is a finite number or numeric text, else None (answers only)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    return number if number == number and abs(number) != float("inf") else None


def attributes_json(row: Mapping[str, Any], columns: Mapping[str, str]) -> str | None:
    """JSON object of configured attributes (name -> the column holding it); None when empty."""
    found = {name: row.get(column) for name, column in columns.items()}
    found = {k: v for k, v in found.items() if v not in (None, "")}
    return json.dumps(found, sort_keys=True, ensure_ascii=False) if found else None


# --- Polars expressions (vectorized CSV formats) ------------------------------------------
#
# The amounts the fast expression leaves null are re-read one by one with `parse_money`
# (see `canonical.repair_values`), which either reads them or gives the reject reason.


def money_expr(column: str) -> pl.Expr:
    """Decimal amounts from plain or '$'-prefixed numbers; anything else becomes null."""
    amount = pl.col(column).str.strip_chars().str.strip_prefix("$").cast(MONEY, strict=False)
    return pl.when(amount >= 0).then(amount)


@dataclass(frozen=True)
class Problem:
    """One check on vectorized rows: where it fails, and the reason to give there.

    `columns` names the raw columns the check reads; they are kept only for failing rows.
    """

    failed: pl.Expr
    reason: pl.Expr
    columns: tuple[str, ...] = ()


def required_problem(column: str) -> Problem:
    """A required column is empty (or the row is too short to hold it)."""
    return Problem(
        pl.col(column).is_null(),
        pl.lit(f"{column} is empty (or the row is shorter than the header)"),
        (column,),
    )


def status_problem(column: str, mapped: str, accepted: Mapping[str, str]) -> Problem:
    """`column` holds a status missing from `accepted` (its mapping `mapped` is null)."""
    raw = pl.col(column)
    reason = pl.format(
        "{} {} is not a status Crowdmeter knows; accepted values: {}",
        pl.lit(column),
        _quoted(raw),
        pl.lit(", ".join(accepted)),
    )
    return Problem(raw.is_not_null() & pl.col(mapped).is_null(), reason, (column,))


def reasons_expr(problems: list[Problem]) -> pl.Expr:
    """All failed checks of a row joined by '; ', or null when there are none."""
    if not problems:
        return pl.lit(None, dtype=pl.String)
    parts = [pl.when(p.failed).then(p.reason) for p in problems]
    joined = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return pl.when(joined != "").then(joined)


def _quoted(expr: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit("'"), expr.str.slice(0, 80), pl.lit("'")])


# --- Typed cells of Crowdmeter's own templates ---------------------------------------------


def parse_day(value: str | None, column: str) -> date | None:
    """An ISO date (YYYY-MM-DD); other layouts are refused because 03/04 is ambiguous."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{column} {value!r} is not a date: write it as YYYY-MM-DD") from exc


def parse_count(value: str | None, column: str) -> int | None:
    if value is None:
        return None
    try:
        count = int(value.replace(",", "").replace("_", ""))
    except ValueError as exc:
        raise ValueError(f"{column} {value!r} is not a whole number") from exc
    if count < 0:
        raise ValueError(f"{column} {value!r} is negative")
    return count


def parse_number(value: str | None, column: str) -> float | None:
    if value is None:
        return None
    number = number_or_none(value)
    if number is None or number < 0:
        raise ValueError(f"{column} {value!r} is not a number of zero or more, like 1.5")
    return number


def parse_share(value: str | None, column: str) -> float | None:
    """A share between 0 and 1, written as 0.85 or 85%."""
    if value is None:
        return None
    text = value.strip()
    percent = text.endswith("%")
    number = number_or_none(text[:-1] if percent else text)
    if number is not None and percent:
        number /= 100
    if number is None or not 0 <= number <= 1:
        raise ValueError(f"{column} {value!r} is not a share: write 0.85 or 85%")
    return number


def parse_currency(value: str | None, column: str, default: str) -> str:
    if value is None:
        return default
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"{column} {value!r} is not an ISO 4217 currency code like USD or EUR")
    return code
