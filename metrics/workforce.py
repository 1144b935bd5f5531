"""A project's workforce: annotators active per week with churn, weekly hours per annotator,
and the per-annotator table (tasks per active hour, median seconds per task, hours, accuracy,
agreement) with who is slowing down or below the bar.

Input everywhere: one row per completed task with `worker_id`, `submitted_at` (a Datetime) and
`active_seconds` (the task's active time; null when unknown).

>>> from datetime import datetime
>>> tasks = pl.DataFrame({"worker_id": ["a", "b", "a"],
...                       "submitted_at": [datetime(2026, 3, 2), datetime(2026, 3, 3),
...                                        datetime(2026, 3, 10)],
...                       "active_seconds": [60.0, 60.0, 60.0]})
>>> weekly_active(tasks).select("active", "joined", "left").rows()
[(2, 2, 0), (1, 0, 1)]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl


@dataclass(frozen=True)
class Bars:
    """When an annotator is flagged (docs/METRICS.md, "Workforce")."""

    recent_days: int = 14  # "recent" is the last this many days up to as_of; "earlier" before
    min_tasks: int = 20  # fewer tasks than this in either period: no slowing verdict
    slowing_drop: float = 0.2  # recent speed below (1 - this) x own earlier speed: slowing
    speed_share: float = 0.5  # below this share of the median annotator's speed: below the bar
    accuracy: float | None = None  # gold accuracy under this: below the bar
    agreement: float | None = None  # agreement with the others under this: below the bar


def _week(column: str = "submitted_at") -> pl.Expr:
    return pl.col(column).cast(pl.Date).dt.truncate("1w").alias("week")


def weekly_active(tasks: pl.DataFrame) -> pl.DataFrame:
    """Per ISO week (Monday) from the first to the last: `active` annotators (at least one task
    that week), `joined` (first task ever), `left` (active the week before, not this week),
    `returned` (active now, not the week before, but earlier) and `churn_rate` = left / the
    week before's active (null for the first week)."""
    weeks_of = tasks.select("worker_id", _week()).unique()
    if weeks_of.is_empty():
        schema = {"week": pl.Date, "active": pl.Int64, "joined": pl.Int64, "left": pl.Int64}
        return pl.DataFrame(schema=schema | {"returned": pl.Int64, "churn_rate": pl.Float64})
    weeks = pl.date_range(weeks_of["week"].min(), weeks_of["week"].max(), "1w", eager=True)
    rows = []
    seen: set[str] = set()
    before: set[str] = set()
    by_week = {w: set(g["worker_id"]) for (w,), g in weeks_of.group_by(["week"])}
    for week in weeks:
        active = by_week.get(week, set())
        rows.append(
            {
                "week": week,
                "active": len(active),
                "joined": len(active - seen),
                "left": len(before - active),
                "returned": len((active - before) & seen),
                "churn_rate": len(before - active) / len(before) if before else None,
            }
        )
        seen |= active
        before = active
    return pl.DataFrame(rows, schema_overrides={"churn_rate": pl.Float64})


def weekly_hours(tasks: pl.DataFrame) -> pl.DataFrame:
    """Active hours and tasks per annotator and ISO week: `worker_id`, `week`, `hours`, `tasks`."""
    return (
        tasks.group_by("worker_id", _week())
        .agg(
            (pl.col("active_seconds").sum() / 3600).alias("hours"),
            pl.len().cast(pl.Int64).alias("tasks"),
        )
        .sort("worker_id", "week")
    )


def _speed(tasks: pl.Expr, seconds: pl.Expr) -> pl.Expr:
    # tasks per active hour, over the tasks whose active time is known; null without any
    return pl.when(seconds > 0).then(tasks / (seconds / 3600))


def annotator_table(
    tasks: pl.DataFrame,
    as_of: date,
    quality: pl.DataFrame | None = None,
    bars: Bars = Bars(),
) -> pl.DataFrame:
    """One row per annotator with work before the end of `as_of`: `tasks`, `hours`,
    `tasks_per_hour`, `median_seconds`, `recent_tasks_per_hour`, `earlier_tasks_per_hour`,
    `speed_change` (recent / earlier - 1), `slowing`, `below_bar` and `reasons`.

    `quality`, when given, has `worker_id` and any of `accuracy`, `agreement`, joined in and
    checked against `bars`.
    """
    cutoff = as_of + timedelta(days=1)
    recent_from = cutoff - timedelta(days=bars.recent_days)
    known = pl.col("active_seconds").is_not_null()
    recent = pl.col("submitted_at").cast(pl.Date) >= recent_from
    table = (
        tasks.filter(pl.col("submitted_at").cast(pl.Date) < cutoff)
        .group_by("worker_id")
        .agg(
            pl.len().cast(pl.Int64).alias("tasks"),
            (pl.col("active_seconds").sum() / 3600).alias("hours"),
            known.sum().alias("_timed"),
            pl.col("active_seconds").median().alias("median_seconds"),
            (known & recent).sum().alias("_recent_n"),
            pl.col("active_seconds").filter(recent).sum().alias("_recent_s"),
            (known & ~recent).sum().alias("_earlier_n"),
            pl.col("active_seconds").filter(~recent).sum().alias("_earlier_s"),
        )
        .with_columns(
            tasks_per_hour=_speed(pl.col("_timed"), pl.col("hours") * 3600),
            recent_tasks_per_hour=_speed(pl.col("_recent_n"), pl.col("_recent_s")),
            earlier_tasks_per_hour=_speed(pl.col("_earlier_n"), pl.col("_earlier_s")),
        )
        .with_columns(
            speed_change=pl.col("recent_tasks_per_hour") / pl.col("earlier_tasks_per_hour") - 1
        )
    )
    if quality is not None:
        table = table.join(quality, on="worker_id", how="left")
    return _flag(table, bars).sort("worker_id")


def _flag(table: pl.DataFrame, bars: Bars) -> pl.DataFrame:
    enough = (pl.col("_recent_n") >= bars.min_tasks) & (pl.col("_earlier_n") >= bars.min_tasks)
    slowing = (enough & (pl.col("speed_change") < -bars.slowing_drop)).fill_null(False)
    median_speed = table["tasks_per_hour"].median()
    checks = [(slowing, f"slowing: recent speed over {bars.slowing_drop:.0%} below own earlier")]
    if median_speed is not None:
        slow = pl.col("tasks_per_hour") < bars.speed_share * median_speed
        checks.append((slow, f"under {bars.speed_share:.0%} of the median annotator's speed"))
    for column, bar in (("accuracy", bars.accuracy), ("agreement", bars.agreement)):
        if bar is not None and column in table.columns:
            checks.append((pl.col(column) < bar, f"{column} under {bar:g}"))
    reasons = [pl.when(check.fill_null(False)).then(pl.lit(text)) for check, text in checks]
    below = pl.any_horizontal([check.fill_null(False) for check, _ in checks[1:]] or [False])
    return table.with_columns(
        slowing=slowing,
        below_bar=below,
        reasons=pl.concat_list(reasons).list.drop_nulls(),
    ).drop("_timed", "_recent_n", "_recent_s", "_earlier_n", "_earlier_s")
