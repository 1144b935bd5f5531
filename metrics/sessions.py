"""Work sessions: a worker's tasks on one platform merged while the next starts within a gap.

After Hara et al. (2018): tasks sorted by start join one session while the next start is at most
`gap_minutes` after the latest end so far; session time is last end minus first start.
"""

from __future__ import annotations

import polars as pl

SESSION_KEYS = ["worker_id", "platform"]


def work_intervals(
    frame: pl.DataFrame,
    start: str = "started_at",
    end: str = "submitted_at",
    active_seconds: str | None = "active_seconds",
) -> pl.DataFrame:
    """`frame` with `work_start` and `work_end` filled in where the platform leaves one out.

    A missing start is the end minus the platform's active seconds (Prodigy saves only the
    answer time), else the task is a point at its end; a missing end is the start plus active
    seconds, else a point at the start. An end before its start is moved up to the start.
    Rows with neither time keep nulls and take no part in sessions.
    """
    # cast: a column of nulls only (no platform time at all) has no number type to read
    seconds = pl.col(active_seconds).cast(pl.Float64) if active_seconds else None
    active = pl.duration(seconds=seconds) if seconds is not None else pl.lit(None)
    work_start = pl.coalesce(pl.col(start), pl.col(end) - active, pl.col(end))
    work_end = pl.coalesce(pl.col(end), pl.col(start) + active, pl.col(start))
    return frame.with_columns(work_start=work_start, work_end=work_end).with_columns(
        work_end=pl.max_horizontal("work_start", "work_end")
    )


def assign_sessions(
    frame: pl.DataFrame, gap_minutes: float, keys: list[str] | None = None
) -> pl.DataFrame:
    """Timed rows of `frame` (with `work_start`, `work_end`) sorted, each with its session.

    Adds `session_start` (true for a session's first task), `covered_seconds` (the part of the
    task's interval no earlier-starting task of the session already covers, so overlapping tasks
    count once, for the one that started first; that part runs from `covered_from` to
    `work_end`) and `gap_seconds` (idle time between the latest end so far and this start,
    inside a session; 0 for a session's first task). Per session, covered plus gap seconds add
    up to the session time.
    """
    keys = SESSION_KEYS if keys is None else keys
    gap = pl.duration(microseconds=int(round(gap_minutes * 60_000_000)))
    # Sorting by time alone and windowing over the keys keeps each worker's tasks in start
    # order: a sort on the string keys first costs ten times more on millions of rows.
    reach = pl.col("work_end").cum_max().shift(1).over(keys)  # latest end of earlier tasks
    if frame.get_column("work_start").null_count():
        frame = frame.filter(pl.col("work_start").is_not_null())
    timed = frame.sort(["work_start", "work_end"]).with_columns(reach=reach)
    session_start = pl.col("reach").is_null() | (pl.col("work_start") > pl.col("reach") + gap)
    covered_from = pl.min_horizontal(pl.max_horizontal("work_start", "reach"), "work_end")
    return timed.with_columns(
        session_start=session_start,
        covered_from=covered_from,
        covered_seconds=_seconds(pl.col("work_end") - covered_from),
        gap_seconds=pl.when(session_start)
        .then(0.0)
        .otherwise(_seconds(pl.col("work_start") - pl.col("reach")).clip(lower_bound=0.0)),
    ).drop("reach")


def sessions(
    assignments: pl.DataFrame, gap_minutes: float, keys: list[str] | None = None
) -> pl.DataFrame:
    """One row per work session: `keys`, `session_no`, `started_at`, `ended_at`, `seconds`,
    `tasks`, `covered_seconds` and `gap_seconds` (time between tasks inside the session).

    `assignments` has the warehouse columns `worker_id`, `platform`, `started_at`,
    `submitted_at` and `active_seconds`.
    """
    keys = SESSION_KEYS if keys is None else keys
    rows = assign_sessions(work_intervals(assignments), gap_minutes, keys).with_columns(
        session_no=pl.col("session_start").cast(pl.Int32).cum_sum().over(keys)
    )
    return (
        rows.group_by([*keys, "session_no"])
        .agg(
            started_at=pl.col("work_start").min(),
            ended_at=pl.col("work_end").max(),
            tasks=pl.len(),
            covered_seconds=pl.col("covered_seconds").sum(),
            gap_seconds=pl.col("gap_seconds").sum(),
        )
        .with_columns(seconds=_seconds(pl.col("ended_at") - pl.col("started_at")))
        .sort([*keys, "session_no"])
    )


def _seconds(duration: pl.Expr) -> pl.Expr:
    return duration.dt.total_microseconds().cast(pl.Float64) / 1_000_000


COMPLETED = ("submitted", "approved", "rejected")


def task_active_seconds(assignments: pl.DataFrame, gap_minutes: float) -> pl.DataFrame:
    """Timed assignments with `task_seconds`: the platform's own active time where it has one,
    else the task's share of its session (its covered time plus the gap before it), so a
    session's tasks add up to the session time. Tasks one worker did over the same interval
    (a Toloka task suite: one page of several tasks, timed once) share it equally; the first
    of them would otherwise take it all and the others none.

    >>> import polars as pl
    >>> from datetime import datetime
    >>> page = pl.DataFrame({"worker_id": ["w"] * 3, "platform": ["toloka"] * 3,
    ...     "started_at": [datetime(2024, 1, 1, 10)] * 3,
    ...     "submitted_at": [datetime(2024, 1, 1, 10, 1)] * 3, "active_seconds": [None] * 3})
    >>> task_active_seconds(page, 1.0)["task_seconds"].to_list()
    [20.0, 20.0, 20.0]
    """
    rows = assign_sessions(work_intervals(assignments), gap_minutes)
    suite = [*SESSION_KEYS, "work_start", "work_end"]
    shared = (pl.col("covered_seconds") + pl.col("gap_seconds")).mean().over(suite)
    return rows.with_columns(task_seconds=pl.coalesce("active_seconds", shared))


def throughput(assignments: pl.DataFrame, gap_minutes: float, by: list[str]) -> pl.DataFrame:
    """Completed tasks (submitted, approved or rejected), active hours, tasks per active hour
    and median seconds per task, per group of `by` (assignment columns or `day`)."""
    return summarise_throughput(task_active_seconds(assignments, gap_minutes), by)


def summarise_throughput(tasks: pl.DataFrame, by: list[str], median: bool = True) -> pl.DataFrame:
    """`throughput` of rows from `task_active_seconds`, so one session pass serves many views.

    `median=False` leaves out the median seconds per task, which costs most on fine groups.
    """
    done = pl.col("status").is_in(COMPLETED)
    figures = {
        "tasks_completed": done.sum(),
        "active_hours": pl.col("task_seconds").sum() / 3600,
        "measured_share": pl.col("active_seconds").is_not_null().mean(),
    }
    if median:
        figures["median_seconds_per_task"] = pl.col("task_seconds").filter(done).median()
    return (
        tasks.lazy()
        .with_columns(day=pl.col("work_start").dt.date())
        .group_by(by)
        .agg(**figures)
        .with_columns(
            tasks_per_active_hour=pl.when(pl.col("active_hours") > 0).then(
                pl.col("tasks_completed") / pl.col("active_hours")
            )
        )
        .collect()
        .sort(by, nulls_last=True)
    )
