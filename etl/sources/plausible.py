"""Records timed outside a plausible range are rejected, whatever their format.

A time in year 0 or 10000 reads fine as a Polars timestamp, but nothing downstream can hold it
(Python's datetime stops at years 1 and 9999), so one such record once broke every later figures
rebuild. Every parsed file passes through `reject_implausible_times` before it is loaded: a
record with any time before `limits.earliest_time` or later than `limits.future_days` after
today becomes a reject naming the column and the value, with everything it added (its answers
included), and the rest of the file loads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import polars as pl

from etl.settings import IngestLimits
from etl.sources.base import REJECTS_SCHEMA, UTC_TS, ParseResult

RECORD_NO = "record_no"


def plausible_window(limits: IngestLimits, today: date | None = None) -> tuple[datetime, datetime]:
    """The first and last instants a record may carry."""
    last_day = (today or datetime.now(UTC).date()) + timedelta(days=limits.future_days + 1)
    return (
        datetime.combine(limits.earliest_time, time(), UTC),
        datetime.combine(last_day, time(), UTC),
    )


def reject_implausible_times(
    result: ParseResult, limits: IngestLimits, today: date | None = None
) -> ParseResult:
    """`result` without the records timed outside the window, which join its rejects."""
    low, high = plausible_window(limits, today)
    found: list[pl.DataFrame] = []
    for frame in result.frames.values():
        stamps = [name for name, dtype in frame.schema.items() if dtype == UTC_TS]
        if RECORD_NO not in frame.columns or not stamps:
            continue
        outside = [(pl.col(c) < low) | (pl.col(c) >= high) for c in stamps]
        bad = frame.filter(pl.any_horizontal(outside))
        if bad.height:
            found.append(bad.select(RECORD_NO, _reason(stamps, low, high)))
    if not found:
        return result
    reasons = pl.concat(found).unique(RECORD_NO, keep="first")
    bad_records = reasons[RECORD_NO]
    frames = dict(result.frames)
    dropped_uids = None
    if "assignments" in frames:
        assignments = frames["assignments"]
        dropped_uids = assignments.filter(pl.col(RECORD_NO).is_in(bad_records.implode()))
        dropped_uids = dropped_uids["assignment_uid"]
    for name, frame in frames.items():
        if RECORD_NO in frame.columns:
            frames[name] = frame.filter(~pl.col(RECORD_NO).is_in(bad_records.implode()))
    if dropped_uids is not None and "annotations" in frames:
        annotations = frames["annotations"]
        frames["annotations"] = annotations.filter(
            ~pl.col("assignment_uid").is_in(dropped_uids.implode())
        )
    already = result.rejects[RECORD_NO].implode()
    new_rejects = reasons.filter(~pl.col(RECORD_NO).is_in(already)).select(
        RECORD_NO, "reason", pl.lit(None, dtype=pl.String).alias("raw")
    )
    result.frames = frames
    result.rejects = pl.concat([result.rejects, new_rejects.cast(REJECTS_SCHEMA)])
    return result


def _reason(stamps: list[str], low: datetime, high: datetime) -> pl.Expr:
    """The first out-of-range column of a row, named with its value and the window."""
    window = f"outside the plausible range {low:%Y-%m-%d} to {high - timedelta(days=1):%Y-%m-%d}"
    pieces = [
        pl.when((pl.col(c) < low) | (pl.col(c) >= high)).then(
            pl.format(
                "{} {} is " + window + " (settings limits.earliest_time, limits.future_days)",
                pl.lit(c),
                pl.col(c).dt.to_string("%Y-%m-%d %H:%M:%S"),
            )
        )
        for c in stamps
    ]
    return pl.coalesce(pieces).alias("reason")
