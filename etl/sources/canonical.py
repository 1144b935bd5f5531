"""Canonical worker and item frames from a vectorized importer's rows, shared by the CSV formats.

Attributes come only from the columns named in config (`worker_attributes`,
`item_attributes`), never from guessing which columns hold people's groups.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import polars as pl

from etl.settings import SourceSettings
from etl.sources import csvfiles
from etl.sources.common import (
    attributes_json,
    instant_expr,
    money_expr,
    parse_instant,
    parse_money,
    time_layout,
    zone,
)
from etl.sources.csvfiles import CsvTable

NULL_TEXT = pl.lit(None, dtype=pl.String)


def workers_frame(
    rows: pl.DataFrame,
    platform: str,
    attributes: dict[str, str],
    country: pl.Expr = NULL_TEXT,
) -> pl.DataFrame:
    """One row per raw `worker_id` (the last record wins for country and attributes)."""
    columns = sorted({c for c in attributes.values() if c in rows.columns})
    workers = rows.select(
        pl.col("worker_id"), country.alias("country"), *[pl.col(c) for c in columns]
    ).unique("worker_id", keep="last", maintain_order=True)
    return workers.select(
        pl.col("worker_id"),
        pl.lit(platform).alias("platform"),
        pl.col("country"),
        attributes_expr(workers, attributes).alias("attributes"),
    )


def items_frame(
    rows: pl.DataFrame,
    platform: str,
    attributes: dict[str, str],
    gold: pl.Expr = NULL_TEXT,
) -> pl.DataFrame:
    """One row per (project_id, item_id); gold from the last record that carries one."""
    columns = sorted({c for c in attributes.values() if c in rows.columns})
    items = (
        rows.select(
            pl.col("project_id"),
            pl.col("item_id"),
            gold.alias("gold_value"),
            *[pl.col(c) for c in columns],
        )
        .sort(pl.col("gold_value").is_not_null())
        .unique(["project_id", "item_id"], keep="last", maintain_order=True)
    )
    return items.select(
        pl.lit(platform).alias("platform"),
        pl.col("project_id"),
        pl.col("item_id"),
        pl.col("gold_value"),
        attributes_expr(items, attributes).alias("attributes"),
    )


def attributes_expr(frame: pl.DataFrame, attributes: dict[str, str]) -> pl.Expr:
    """JSON object of configured attribute columns per row (null when none is filled)."""
    present = {name: col for name, col in attributes.items() if col in frame.columns}
    if not present:
        return NULL_TEXT
    names = {name: name for name in present}
    return pl.struct([pl.col(c).alias(n) for n, c in present.items()]).map_elements(
        lambda row: attributes_json(row, names), return_dtype=pl.String
    )


def attribute_columns(source: SourceSettings) -> set[str]:
    """Every column config names as a worker or item attribute."""
    return {*source.worker_attributes.values(), *source.item_attributes.values()}


def attribute_notes(header: list[str], source: SourceSettings) -> list[str]:
    """Notes naming configured attribute columns that the file does not have."""
    notes = []
    for kind, attributes in (
        ("worker", source.worker_attributes),
        ("item", source.item_attributes),
    ):
        missing = [col for col in attributes.values() if col not in header]
        if missing:
            notes.append(
                f"configured {kind} attribute column(s) {', '.join(missing)} are not in this "
                f"file; check [sources.<platform>] {kind}_attributes in config.toml"
            )
    return notes


def column_or_null(header: list[str], name: str) -> pl.Expr:
    """The column when the file has it, else nulls (optional columns of an export)."""
    return pl.col(name) if name in header else NULL_TEXT


def gold_value_expr(gold: dict[str, str]) -> pl.Expr:
    """An item's gold answer: the single gold column's value, or a JSON object of several."""
    if not gold:
        return NULL_TEXT
    if len(gold) == 1:
        return pl.col(next(iter(gold.values())))
    values = pl.struct([pl.col(c).alias(f) for f, c in gold.items()])
    any_gold = pl.any_horizontal([pl.col(c).is_not_null() for c in gold.values()])
    return pl.when(any_gold).then(values.struct.json_encode())


def assignments_frame(rows: pl.DataFrame, platform: str, currency: str) -> pl.DataFrame:
    """Canonical assignments from a vectorized importer's rows.

    Rows with `reward` get the source's currency; rows with `approved_at`/`rejected_at` get
    the review time, and approved ones are paid at approval.
    """
    optional = []
    if "reward" in rows.columns:
        priced = pl.when(pl.col("reward").is_not_null()).then(pl.lit(currency))
        optional += [pl.col("reward"), priced.alias("currency")]
    if "approved_at" in rows.columns:
        approved = pl.col("status") == "approved"
        optional += [
            pl.coalesce("approved_at", "rejected_at").alias("reviewed_at"),
            pl.when(approved).then(pl.col("approved_at")).alias("paid_at"),
        ]
    return rows.select(
        pl.col("record_no"),
        pl.col("assignment_uid"),
        pl.lit(platform).alias("platform"),
        pl.col("project_id"),
        pl.col("item_id"),
        pl.col("worker_id"),
        pl.col("started_at"),
        pl.col("submitted_at"),
        pl.col("status"),
        pl.col("is_gold"),
        *optional,
    )


def split_rejects(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows without a reason, (record_no, reason) of the rows with one)."""
    good = frame.filter(pl.col("reason").is_null()).drop("reason")
    bad = frame.filter(pl.col("reason").is_not_null()).select("record_no", "reason")
    return good, bad


def repair_values(
    frame: pl.DataFrame, times: dict[str, str], money: dict[str, str], tz: ZoneInfo
) -> pl.DataFrame:
    """Re-read, one by one, the times and amounts the fast vectorized layout left null.

    `times` and `money` map raw column -> parsed column. A value that reads now fills its
    parsed column; one that does not adds its reason to the row's `reason`.
    """
    readers = [(raw, out, lambda v: parse_instant(v, tz)) for raw, out in times.items()]
    readers += [(raw, out, parse_money) for raw, out in money.items()]
    for raw, out, read in readers:
        missed = frame.filter(pl.col(raw).is_not_null() & pl.col(out).is_null())
        if missed.is_empty():
            continue
        fixes = []
        for record_no, text in missed.select("record_no", raw).iter_rows():
            try:
                fixes.append((record_no, read(text), None))
            except ValueError as exc:
                fixes.append((record_no, None, f"{raw}: {exc}"))
        frame = _apply_fixes(frame, out, fixes)
    return frame


def _apply_fixes(frame: pl.DataFrame, out: str, fixes: list[tuple]) -> pl.DataFrame:
    fixed = pl.DataFrame(
        fixes,
        schema={"record_no": pl.Int64, "_fixed": frame.schema[out], "_problem": pl.String},
        orient="row",
    )
    reason = pl.concat_str(["reason", "_problem"], separator="; ", ignore_nulls=True)
    return (
        frame.join(fixed, on="record_no", how="left")
        .with_columns(
            pl.coalesce(out, "_fixed").alias(out),
            pl.when(reason != "").then(reason).alias("reason"),
        )
        .drop("_fixed", "_problem")
    )


def value_columns(
    table: CsvTable, times: dict[str, str], money: dict[str, str], tz: str
) -> list[pl.Expr]:
    """Fast parses of time and money columns, in a layout chosen from each column's first
    values; apply them after `raw_columns` so that columns the file lacks exist as nulls."""
    samples = csvfiles.sample_values(table, [*times, *money])
    parsed = [
        instant_expr(raw, tz, time_layout(samples.get(raw, []))).alias(out)
        for raw, out in times.items()
    ]
    parsed += [money_expr(raw).alias(out) for raw, out in money.items()]
    return parsed


def raw_columns(table: CsvTable, names: list[str]) -> list[pl.Expr]:
    """The named columns, as nulls where the file does not have them."""
    return [column_or_null(table.header, name).alias(name) for name in names]


def collect_rows(
    table: CsvTable,
    frame: pl.LazyFrame,
    fmt: str,
    times: dict[str, str],
    money: dict[str, str],
    tz: str,
) -> pl.DataFrame:
    """Run the importer's query, then re-read the values the fast layouts could not."""
    rows = csvfiles.collect(table, frame, fmt)
    return repair_values(rows, times, money, zone(tz))
