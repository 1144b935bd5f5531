"""Burn-up of a project: accepted work per day and week, the cumulative line against the scope
line (scope changes kept with their date), and cycle time per item.

Work is counted in *units*: the caller decides what one is (an accepted label, so that scope =
target items x labels per item; docs/METRICS.md, "Burn-up"). Days with no accepted work are
kept as zero days: the forecast resamples them too.

>>> from datetime import date
>>> done = pl.DataFrame({"day": [date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 4)]})
>>> daily_throughput(done, end=date(2026, 3, 5))["units"].to_list()
[2, 0, 1, 0]
"""

from __future__ import annotations

from datetime import date

import polars as pl

UNITS = "units"


def scope_units(target_items: int | None, labels_per_item: int | None) -> int | None:
    """Scope in units: target items x labels per item (one label per item when not given).

    >>> scope_units(1000, 3), scope_units(1000, None), scope_units(None, 3)
    (3000, 1000, None)
    """
    if target_items is None:
        return None
    return int(target_items) * int(labels_per_item or 1)


def daily_throughput(
    done: pl.DataFrame,
    start: date | None = None,
    end: date | None = None,
    day: str = "day",
    units: str | None = None,
) -> pl.DataFrame:
    """Accepted units per calendar day from `start` to `end` (both included), zero days kept.

    `done` has one row per accepted unit with its acceptance `day` (a Date), or, with `units`,
    one row per day (or any grain) with that many units. `start` and `end` default to the first
    and last day in `done`. Returns `day` (Date) and `units` (Int64), one row per day, sorted.
    """
    counted = done.select(
        pl.col(day).cast(pl.Date).alias("day"),
        (pl.col(units).cast(pl.Int64) if units else pl.lit(1, pl.Int64)).alias(UNITS),
    ).drop_nulls("day")
    start = start or (counted["day"].min() if counted.height else None)
    end = end or (counted["day"].max() if counted.height else None)
    if start is None or end is None or end < start:
        return pl.DataFrame(schema={"day": pl.Date, UNITS: pl.Int64})
    days = pl.DataFrame({"day": pl.date_range(start, end, "1d", eager=True)})
    per_day = counted.group_by("day").agg(pl.col(UNITS).sum())
    return (
        days.join(per_day, on="day", how="left")
        .with_columns(pl.col(UNITS).fill_null(0).cast(pl.Int64))
        .sort("day")
    )


def weekly_throughput(daily: pl.DataFrame) -> pl.DataFrame:
    """Units per ISO week (weeks start on Monday) from `daily_throughput`'s frame: `week` (the
    Monday), `units`, and `days` (how many of the week's days the daily series covers, so a
    part week at either end can be told apart)."""
    return (
        daily.group_by(pl.col("day").dt.truncate("1w").alias("week"))
        .agg(pl.col(UNITS).sum(), pl.len().cast(pl.Int64).alias("days"))
        .sort("week")
    )


def burnup(daily: pl.DataFrame, scope_changes: pl.DataFrame) -> pl.DataFrame:
    """The burn-up: per day, units done that day and in all, and the scope in force.

    `scope_changes` has `day` and `scope` (units): the scope from that day on. A change before
    the first day of `daily` sets the opening scope; days before any change have a null scope.
    Returns `day`, `units`, `done` (cumulative units), `scope`, `scope_changed` (true on the
    days the scope was set or changed, so a chart can mark them) and `remaining` (scope - done,
    never below 0).

    >>> from datetime import date
    >>> daily = pl.DataFrame({"day": [date(2026, 1, d) for d in (1, 2, 3)], "units": [5, 0, 5]})
    >>> changes = pl.DataFrame({"day": [date(2025, 12, 20), date(2026, 1, 3)], "scope": [20, 30]})
    >>> burnup(daily, changes).select("done", "scope", "scope_changed").rows()
    [(5, 20, False), (5, 20, False), (10, 30, True)]
    """
    changes = (
        scope_changes.select(pl.col("day").cast(pl.Date), pl.col("scope").cast(pl.Int64))
        .sort("day")
        .unique("day", keep="last", maintain_order=True)
    )
    line = daily.sort("day").with_columns(done=pl.col(UNITS).cum_sum())
    line = line.join_asof(changes, on="day", strategy="backward")
    changed_days = changes["day"].implode()
    return line.with_columns(
        scope_changed=pl.col("day").is_in(changed_days),
        remaining=(pl.col("scope") - pl.col("done")).clip(lower_bound=0),
    )


def scope_at(scope_changes: pl.DataFrame, day: date) -> int | None:
    """The scope in force on `day`: the latest change on or before it (None before any).

    >>> from datetime import date
    >>> changes = pl.DataFrame({"day": [date(2026, 1, 1), date(2026, 2, 1)], "scope": [10, 12]})
    >>> scope_at(changes, date(2026, 1, 31)), scope_at(changes, date(2026, 2, 1))
    (10, 12)
    """
    before = scope_changes.filter(pl.col("day").cast(pl.Date) <= day).sort("day")
    return int(before["scope"][-1]) if before.height else None


def cycle_times(
    work: pl.DataFrame,
    item: str = "item_id",
    start: str = "started_at",
    end: str = "accepted_at",
) -> pl.DataFrame:
    """Cycle time per item: from its first start to its last acceptance, in hours.

    `work` has one row per assignment (or per item) with the item, when work on it started and
    when it was accepted; items never accepted have no cycle time and are left out. Returns
    `item_id`, `started_at`, `accepted_at`, `hours`.
    """
    return (
        work.group_by(pl.col(item).alias("item_id"))
        .agg(pl.col(start).min().alias("started_at"), pl.col(end).max().alias("accepted_at"))
        .drop_nulls(["started_at", "accepted_at"])
        .with_columns(
            hours=(pl.col("accepted_at") - pl.col("started_at")).dt.total_microseconds()
            / 3_600_000_000
        )
        .sort("item_id")
    )


def cycle_time_summary(cycles: pl.DataFrame) -> dict[str, float | int | None]:
    """Median, 85th percentile and mean cycle time in hours over `cycle_times`' items.

    >>> cycle_time_summary(pl.DataFrame({"hours": [1.0, 2.0, 3.0, 10.0]}))
    {'n_items': 4, 'median_hours': 2.5, 'p85_hours': 10.0, 'mean_hours': 4.0}
    """
    hours = cycles["hours"].drop_nulls()
    if hours.is_empty():
        return {"n_items": 0, "median_hours": None, "p85_hours": None, "mean_hours": None}
    return {
        "n_items": hours.len(),
        "median_hours": float(hours.median()),
        # the nearest-rank percentile: 85% of items took at most this long
        "p85_hours": float(hours.quantile(0.85, "higher")),
        "mean_hours": float(hours.mean()),
    }
