"""Canonical worker and item frames from a vectorized importer's rows, shared by the CSV formats.

Attributes come only from the columns named in config (`worker_attributes`,
`item_attributes`), never from guessing which columns hold people's groups.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from functools import reduce
from zoneinfo import ZoneInfo

import polars as pl

from etl.settings import SourceSettings
from etl.sources import csvfiles
from etl.sources.common import Problem, attributes_json, money_expr, parse_money, reasons_expr
from etl.sources.csvfiles import CsvTable
from etl.sources.times import instant_expr, parse_instant, time_layout, zone

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
    ).unique("worker_id", keep="last")
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
    gold: pl.Expr | None = None,
) -> pl.DataFrame:
    """One row per (project_id, item_id); gold from the last record that carries one."""
    columns = sorted({c for c in attributes.values() if c in rows.columns})
    key = ["project_id", "item_id"]
    if gold is None:
        items = rows.select(*key, *columns).unique(key, keep="last")
        items = items.with_columns(NULL_TEXT.alias("gold_value"))
    else:
        items = (
            rows.select(*key, gold.alias("gold_value"), *columns)
            .group_by(key)
            .agg(pl.col("gold_value").drop_nulls().last(), *[pl.col(c).last() for c in columns])
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


def gold_value_expr(gold: dict[str, str]) -> pl.Expr | None:
    """An item's gold answer: the single gold column's value, or a JSON object of several;
    None when the file has no gold columns."""
    if not gold:
        return None
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
    if frame["reason"].null_count() == frame.height:
        # The common case: no copy of a frame that may hold millions of rows.
        return frame.drop("reason"), frame.select("record_no", "reason").clear()
    good = frame.filter(pl.col("reason").is_null()).drop("reason")
    bad = frame.filter(pl.col("reason").is_not_null()).select("record_no", "reason")
    return good, bad


def repair_values(
    rows: pl.DataFrame, times: dict[str, str], money: dict[str, str], tz: ZoneInfo
) -> pl.DataFrame:
    """Re-read, one by one, the times and amounts the fast vectorized layout left null.

    Their raw text waits in `unparsed` (see `finish_query`). A value that reads now fills its
    parsed column; one that does not adds its reason to the row's `reason`.
    """
    positions = rows["unparsed"].is_not_null().arg_true()
    pairs = {**times, **money}
    if positions.is_empty() or not pairs:
        return rows.drop("unparsed")
    dtype = pl.Struct({raw: pl.String for raw in pairs})
    raw_values = rows["unparsed"].gather(positions).str.json_decode(dtype).struct.unnest()
    for raw, out in pairs.items():
        read = parse_money if raw in money else (lambda v: parse_instant(v, tz))
        read_ok, values, failed, reasons = [], [], [], []
        current = rows[out].gather(positions)
        for position, text, parsed in zip(positions, raw_values[raw], current, strict=True):
            if text is None or parsed is not None:
                continue
            try:
                values.append(read(text))
                read_ok.append(position)
            except ValueError as exc:
                failed.append(position)
                reasons.append(f"{raw}: {exc}")
        column = rows[out].clone()
        if read_ok:
            column.scatter(read_ok, pl.Series(values, dtype=column.dtype))
        rows = rows.with_columns(column, _add_reasons(rows["reason"], failed, reasons))
    return rows.drop("unparsed")


def _add_reasons(reason: pl.Series, positions: list[int], reasons: list[str]) -> pl.Series:
    if not positions:
        return reason
    before = reason.gather(positions).to_list()
    merged = [r if b is None else f"{b}; {r}" for b, r in zip(before, reasons, strict=True)]
    return reason.clone().scatter(positions, pl.Series(merged, dtype=pl.String))


def finish_query(
    frame: pl.LazyFrame,
    problems: list[Problem],
    drop: list[str],
    times: dict[str, str],
    money: dict[str, str],
) -> pl.LazyFrame:
    """Flag failed checks and drop the raw columns, so a big file collects small.

    `bad` marks rows where a check failed and `evidence` keeps, for those rows only, the raw
    values the checks read (as JSON); `unparsed` keeps the raw times and amounts the fast
    layouts could not read. `drop` names the other raw columns no frame needs.
    """
    evidence = sorted({c for p in problems for c in p.columns})
    # A chain of `|` runs several times faster than any_horizontal here.
    bad = reduce(operator.or_, [p.failed for p in problems]) if problems else pl.lit(False)
    packed = pl.struct(evidence).struct.json_encode() if evidence else pl.lit("{}")
    pairs = {**times, **money}
    missed = [pl.col(raw).is_not_null() & pl.col(out).is_null() for raw, out in pairs.items()]
    unparsed = pl.lit(None, dtype=pl.String)
    if pairs:
        raw_text = pl.struct([pl.col(raw) for raw in pairs]).struct.json_encode()
        unparsed = pl.when(reduce(operator.or_, missed)).then(raw_text)
    removed = {*drop, *evidence, *pairs, csvfiles.EXTRA}
    return frame.with_columns(
        bad.alias("bad"),
        pl.when(bad).then(packed).alias("evidence"),
        unparsed.alias("unparsed"),
    ).drop(sorted(removed), strict=False)


def explain_problems(rows: pl.DataFrame, problems: list[Problem]) -> pl.DataFrame:
    """Replace `bad`/`evidence` by `reason`, worded for the bad rows only."""
    reason = pl.Series("reason", [None] * rows.height, dtype=pl.String)
    bad = rows["bad"].arg_true()
    if not bad.is_empty():
        evidence = sorted({c for p in problems for c in p.columns})
        dtype = pl.Struct({c: pl.String for c in evidence})
        subset = (
            rows[bad].with_columns(pl.col("evidence").str.json_decode(dtype)).unnest("evidence")
        )
        reason.scatter(bad, subset.select(reasons_expr(problems)).to_series())
    return rows.drop("bad", "evidence").with_columns(reason)


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
    build: Callable[[pl.LazyFrame], pl.LazyFrame],
    fmt: str,
    problems: list[Problem],
    times: dict[str, str],
    money: dict[str, str],
    tz: str,
) -> pl.DataFrame:
    """Run the importer's query batch by batch (checks flagged, raw columns dropped), word
    the reasons of bad rows, then re-read the values the fast layouts could not."""
    rows = explain_problems(csvfiles.collect_in_batches(table, build, fmt), problems)
    rows = reject_repeats(rows)
    return repair_values(rows, times, money, zone(tz))


Query = Callable[[pl.LazyFrame], tuple[pl.LazyFrame, list[Problem]]]


def checked_rows(
    table: CsvTable,
    query: Query,
    fmt: str,
    times: dict[str, str],
    money: dict[str, str],
    tz: str,
) -> tuple[int, pl.DataFrame, pl.DataFrame]:
    """(records read, good rows, rejected (record_no, reason)) of a vectorized importer.

    `query` builds the importer's canonical query over a source frame, with its checks.
    """
    problems = query(table.frame)[1]
    rows = collect_rows(table, lambda s: query(s)[0], fmt, problems, times, money, tz)
    rows_read = rows.height
    good, rejected = split_rejects(rows)
    return rows_read, good, rejected


def checked_batches(
    table: CsvTable,
    query: Query,
    fmt: str,
    times: dict[str, str],
    money: dict[str, str],
    tz: str,
    chunk_bytes: int,
) -> Iterator[tuple[int, pl.DataFrame, pl.DataFrame]]:
    """`checked_rows` of about `chunk_bytes` of the file at a time, for files too big to hold
    whole. Repeats are rejected within a part; the loader rejects repeats across parts."""
    problems = query(table.frame)[1]
    for batch in csvfiles.iter_byte_ranges(table, lambda s: query(s)[0], fmt, chunk_bytes):
        checked = reject_repeats(explain_problems(batch, problems))
        checked = repair_values(checked, times, money, zone(tz))
        good, rejected = split_rejects(checked)
        yield checked.height, good, rejected


def reject_repeats(rows: pl.DataFrame) -> pl.DataFrame:
    """Reject every record of an assignment after its first (an export listed it twice)."""
    uid = rows["assignment_uid"]
    repeats = (uid.is_not_null() & ~uid.is_first_distinct()).arg_true()
    if repeats.is_empty():
        return rows
    reason = (
        "the assignment appears again (an earlier record has the same id); only the first "
        "record is kept"
    )
    positions = repeats.to_list()
    return rows.with_columns(_add_reasons(rows["reason"], positions, [reason] * len(positions)))
