"""Tracked time (Toggl, table `time_entries`) in the pay ledger: where a worker tracked a day,
tracked time is that day's total and recorded task time is never added again.
"""

from __future__ import annotations

import polars as pl

from metrics.ledger import COUNTS, LEDGER_KEYS, MONEY, SECONDS, UTC
from metrics.sessions import assign_sessions

TRACKED_TASK_ACTIVITIES = ("task", "other")


def tracked_time(
    time_entries: pl.DataFrame, logged_days: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Attributed time entries as (worker, platform, project, day) rows of tracked seconds.

    Overlapping entries of one worker on one platform count once, and an entry that crosses
    midnight is split between its days. Days are UTC days, as are the days of platform task
    logs, except for a (worker, platform) in `logged_days` (days of an earnings log, which a
    worker writes in local days): their entries are dayed at the worker's estimated local
    offset (`local_offsets`). `tracked_task_seconds` is time on tasks (activity task or
    other); `unpaid_logged_seconds` is qualification tests, training, searching and admin.
    """
    attributed = time_entries.filter(pl.col("platform").is_not_null()).with_columns(
        work_start=pl.col("started_at"), work_end=pl.max_horizontal("started_at", "ended_at")
    )
    rows = assign_sessions(attributed, 0.0).filter(pl.col("covered_seconds") > 0)
    offsets = local_offsets(rows, logged_days)
    shift = pl.duration(hours=pl.col("offset_hours").fill_null(0))
    rows = rows.join(offsets, on=["worker_id", "platform"], how="left").with_columns(
        local_start=pl.col("covered_from") + shift, local_end=pl.col("work_end") + shift
    )
    pieces = _split_at_midnight(rows, "local_start", "local_end")
    is_task = pl.col("activity").is_in(TRACKED_TASK_ACTIVITIES)
    return pieces.group_by(["worker_id", "platform", "project_id", "day"]).agg(
        tracked_task_seconds=pl.when(is_task).then(pl.col("seconds")).otherwise(0.0).sum(),
        unpaid_logged_seconds=pl.when(is_task).then(0.0).otherwise(pl.col("seconds")).sum(),
    )


def local_offsets(entries: pl.DataFrame, logged_days: pl.DataFrame | None) -> pl.DataFrame:
    """Per (worker, platform) with an earnings log: the whole-hour UTC offset (-12 to +14)
    that puts the most tracked seconds on days the log names; ties go to the offset nearest 0.

    A log says "3 April" in the worker's own day, the tracker's export gives UTC instants:
    without the offset, evening work west of Greenwich lands on the next UTC day, and the day's
    logged hours and its tracked hours would both be counted.
    """
    schema = {"worker_id": pl.String, "platform": pl.String, "offset_hours": pl.Int64}
    if logged_days is None or logged_days.is_empty():
        return pl.DataFrame(schema=schema)
    pairs = ["worker_id", "platform"]
    logged_days = logged_days.select(*pairs, "day").unique().with_columns(logged=pl.lit(True))
    candidates = (
        entries.join(logged_days.select(pairs).unique(), on=pairs, how="semi")
        .select(*pairs, "covered_from", "covered_seconds")
        .join(pl.DataFrame({"offset_hours": list(range(-12, 15))}), how="cross")
        .with_columns(
            day=(pl.col("covered_from") + pl.duration(hours=pl.col("offset_hours"))).dt.date()
        )
        .join(logged_days, on=[*pairs, "day"], how="left")
    )
    scores = candidates.group_by([*pairs, "offset_hours"]).agg(
        on_logged_days=pl.when(pl.col("logged")).then(pl.col("covered_seconds")).sum()
    )
    return (
        scores.sort(
            [*pairs, "on_logged_days", pl.col("offset_hours").abs()],
            descending=[False, False, True, False],
        )
        .group_by(pairs, maintain_order=True)
        .first()
        .select(*schema)
        .cast(schema)
    )


def _split_at_midnight(frame: pl.DataFrame, start: str, end: str) -> pl.DataFrame:
    """One row per day an interval touches, with `day` and the `seconds` spent on it."""
    last_instant = pl.col(end) - pl.duration(microseconds=1)
    midnight = pl.col("day").cast(UTC)
    pieces = frame.with_columns(
        day=pl.date_ranges(pl.col(start).dt.date(), last_instant.dt.date())
    ).explode("day")
    piece_start = pl.max_horizontal(pl.col(start), midnight)
    piece_end = pl.min_horizontal(pl.col(end), midnight + pl.duration(days=1))
    return pieces.with_columns(
        seconds=(piece_end - piece_start).dt.total_microseconds().cast(pl.Float64) / 1e6
    )


def apply_time_tracking(recorded: pl.DataFrame, tracked: pl.DataFrame) -> pl.DataFrame:
    """The ledger with tracked time as the total of each tracked day, never added twice.

    On a (worker, platform, day) with tracked time, tracked time is the day's total: the
    difference between tracked task time and the recorded task time (task, gap and pending
    seconds) becomes `tracking_adjustment_seconds`, and logged unpaid time (qualification,
    training, searching, admin) becomes `unpaid_logged_seconds`. Both are shared over that
    day's recorded rows in proportion to their recorded time (evenly when none has any), so a
    task type carries the searching and waiting of the days it was worked; earnings without
    hours become timed. Untracked days keep their recorded time; tracked days without any
    record keep the tracked time as its own rows.
    """
    day_keys = ["worker_id", "platform", "day"]
    keys = [k for k in LEDGER_KEYS if k in recorded.columns]
    recorded_expr = pl.sum_horizontal(
        "approved_seconds",
        "rejected_seconds",
        "returned_seconds",
        "gap_seconds",
        "pending_seconds",
    )
    tracked_days = (
        tracked.group_by(day_keys)
        .agg(
            day_tracked_task=pl.col("tracked_task_seconds").sum(),
            day_unpaid=pl.col("unpaid_logged_seconds").sum(),
        )
        .filter(pl.col("day_tracked_task") + pl.col("day_unpaid") > 0)
    )
    # Only rows of tracked days change; the rest (most, on platforms with task logs) pass.
    untracked = recorded.join(tracked_days, on=day_keys, how="anti").with_columns(
        tracking_adjustment_seconds=pl.lit(0.0), unpaid_logged_seconds=pl.lit(0.0)
    )
    rows = (
        recorded.join(tracked_days, on=day_keys, how="inner")
        .with_columns(recorded_seconds=recorded_expr)
        .with_columns(
            day_recorded=pl.col("recorded_seconds").sum().over(day_keys),
            day_rows=pl.len().over(day_keys),
        )
    )
    share = (
        pl.when(pl.col("day_recorded") > 0)
        .then(pl.col("recorded_seconds") / pl.col("day_recorded"))
        .otherwise(1.0 / pl.col("day_rows"))
    )
    rows = rows.with_columns(
        tracking_adjustment_seconds=(pl.col("day_tracked_task") - pl.col("day_recorded")) * share,
        unpaid_logged_seconds=pl.col("day_unpaid") * share,
        gross_earnings=pl.col("gross_earnings") + pl.col("untimed_earnings"),
        fees=pl.col("fees") + pl.col("untimed_fees"),
        untimed_earnings=pl.lit(0.0),
    ).drop(
        "recorded_seconds",
        "day_recorded",
        "day_rows",
        "day_tracked_task",
        "day_unpaid",
        "untimed_fees",
    )
    only_tracked = tracked.join(recorded.select(day_keys).unique(), on=day_keys, how="anti")
    extra = (
        only_tracked.with_columns(task_type=pl.lit(None, pl.String))
        .group_by(keys)
        .agg(
            pl.col("unpaid_logged_seconds").sum(),
            tracking_adjustment_seconds=pl.col("tracked_task_seconds").sum(),
        )
    )
    # Keys stay unique: `extra` holds only days without recorded rows.
    columns = [*keys, *SECONDS, *COUNTS, *MONEY]
    return pl.concat(
        [untracked.select(columns), rows.select(columns), extra], how="diagonal_relaxed"
    ).with_columns(pl.col(c).fill_null(0) for c in [*SECONDS, *COUNTS, *MONEY])


def unattributed_by_worker(time_entries: pl.DataFrame) -> pl.DataFrame:
    """Tracked entries no mapping attributes to a platform (they count in no wage), per
    worker: how many and their hours."""
    return (
        time_entries.filter(pl.col("platform").is_null())
        .group_by("worker_id")
        .agg(entries=pl.len(), hours=pl.col("seconds").sum() / 3600)
        .sort("worker_id")
    )
