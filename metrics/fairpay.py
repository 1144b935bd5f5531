"""Fair-pay checks on the pay ledger: hours paid below the local wage floor, and a skip list.

The floor check follows Fairwork's standard: the share of a worker's hours whose pay, after
fees, falls below the statutory minimum wage of their country on that date.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from metrics.pay import summarise_wages, to_reporting_currency
from metrics.resampling import percentile_intervals, poisson_weights

WEEKS_PER_MONTH = 52 / 12


def hourly_floors(
    floors: pl.DataFrame, hours_per_day: float, hours_per_week: float
) -> pl.DataFrame:
    """One hourly floor per country and effective date, in the floor's own currency.

    A day or month floor is divided by its row's `hours_basis`, else by `hours_per_day` or by
    `hours_per_week` x 52/12. Where a country has regional floors only, the lowest one counts,
    so a worker is flagged only when paid below every floor of their country.
    """
    default_hours = (
        pl.when(pl.col("unit") == "hour")
        .then(1.0)
        .when(pl.col("unit") == "day")
        .then(hours_per_day)
        .otherwise(hours_per_week * WEEKS_PER_MONTH)
    )
    hours = (
        pl.when(pl.col("unit") == "hour")
        .then(1.0)
        .otherwise(pl.coalesce(pl.col("hours_basis").cast(pl.Float64), default_hours))
    )
    rows = floors.with_columns(
        floor_per_hour=pl.col("amount").cast(pl.Float64) / hours,
        national=pl.col("region").fill_null("") == "",
    )
    return (
        rows.sort(
            ["country", "effective_from", "national", "floor_per_hour"],
            descending=[False, False, True, False],
        )
        .group_by(["country", "effective_from"], maintain_order=True)
        .first()
        .select("country", "effective_from", "region", "currency", "floor_per_hour", "source")
        .sort(["country", "effective_from"])
    )


def below_floor_share(
    ledger: pl.DataFrame,
    workers: pl.DataFrame,
    floors: pl.DataFrame,
    fx: pl.DataFrame,
    reporting_currency: str,
    hours_per_day: float = 8.0,
    hours_per_week: float = 40.0,
) -> pl.DataFrame:
    """Per worker and platform: hours worked, hours paid below the floor, and their share.

    Each day's effective wage (after fees) is compared with the floor of the worker's country
    (`workers.country`) in effect that day, converted at that day's rate. Days without priced
    work are left out; workers without a known country or floor get a null share.
    """
    daily = summarise_wages(ledger, ["worker_id", "platform", "day"]).filter(
        pl.col("effective_wage").is_not_null()
    )
    daily = daily.join(
        workers.select("worker_id", "platform", "country"), on=["worker_id", "platform"], how="left"
    )
    rules = hourly_floors(floors, hours_per_day, hours_per_week).rename({"effective_from": "day"})
    # Both sides are sorted by day here, so the check (impossible with `by`) is skipped.
    dated = daily.sort("day").join_asof(
        rules.sort("day"), on="day", by="country", strategy="backward", check_sortedness=False
    )
    dated = to_reporting_currency(
        dated.with_columns(floor_currency=pl.col("currency").fill_null(reporting_currency)),
        ["floor_per_hour"],
        fx,
        reporting_currency,
        currency="floor_currency",
        day="day",
    )
    below = pl.col("effective_wage") < pl.col("floor_per_hour")
    known = pl.col("floor_per_hour").is_not_null()
    return (
        dated.sort("day")
        .group_by(["worker_id", "platform"])
        .agg(
            country=pl.col("country").first(),
            days=pl.len(),
            hours_worked=pl.col("hours_worked").sum(),
            hours_with_floor=pl.when(known).then(pl.col("hours_worked")).otherwise(0.0).sum(),
            hours_below_floor=pl.when(known & below)
            .then(pl.col("hours_worked"))
            .otherwise(0.0)
            .sum(),
            days_below_floor=(known & below).sum(),
            floor_per_hour=pl.col("floor_per_hour").drop_nulls().last(),
            floor_source=pl.col("source").drop_nulls().last(),
        )
        .with_columns(
            share_below_floor=pl.when(pl.col("hours_with_floor") > 0).then(
                pl.col("hours_below_floor") / pl.col("hours_with_floor")
            )
        )
        .sort(["worker_id", "platform"])
    )


def skip_list(
    ledger: pl.DataFrame,
    thresholds: float | pl.DataFrame,
    by: Sequence[str] = ("task_type",),
    min_tasks: int = 5,
    samples: int = 1000,
    confidence: float = 0.9,
    seed: int = 0,
) -> pl.DataFrame:
    """Task types (or projects, `by`) whose effective wage for a worker is below a threshold.

    `thresholds` is one wage for everybody, or a frame of `worker_id`, `platform`, `threshold`.
    Each row carries the tasks and days behind it and a bootstrap interval over days (Poisson
    weights; `samples` 0 leaves it out); `confidently_below` says the whole interval is under.
    Groups with fewer than `min_tasks` tasks are never listed.
    """
    keys = ["worker_id", "platform", *by]
    if isinstance(thresholds, pl.DataFrame):  # only workers with a threshold can be listed
        ledger = ledger.join(thresholds, on=["worker_id", "platform"], how="semi")
    daily = summarise_wages(ledger, [*keys, "day"]).with_columns(
        tasks=pl.sum_horizontal("tasks_approved", "tasks_rejected", "tasks_returned")
    )
    daily = daily.filter(pl.col("hours_worked") > 0)
    groups = (
        daily.group_by(keys)
        .agg(
            tasks=pl.col("tasks").sum(),
            days=pl.len(),
            hours_worked=pl.col("hours_worked").sum(),
            net_earnings=pl.col("net_earnings").sum(),
            priced=(pl.col("priced_tasks").sum() > 0) | (pl.col("net_earnings").sum() > 0),
        )
        .filter(pl.col("priced"))
        .with_columns(effective_wage=pl.col("net_earnings") / pl.col("hours_worked"))
        .drop("priced")
        .sort(keys, nulls_last=True)
    )
    if isinstance(thresholds, pl.DataFrame):
        groups = groups.join(thresholds, on=["worker_id", "platform"], how="inner")
    else:
        groups = groups.with_columns(threshold=pl.lit(float(thresholds)))
    groups = groups.with_row_index("group_no")
    low, high = _bootstrap_interval(daily, groups, keys, samples, confidence, seed)
    return (
        groups.with_columns(
            ci_low=pl.Series(low).fill_nan(None), ci_high=pl.Series(high).fill_nan(None)
        )
        .filter((pl.col("tasks") >= min_tasks) & (pl.col("effective_wage") < pl.col("threshold")))
        .with_columns(confidently_below=pl.col("ci_high") < pl.col("threshold"))
        .drop("group_no")
        .sort(["worker_id", "effective_wage"])
    )


def _bootstrap_interval(
    daily: pl.DataFrame,
    groups: pl.DataFrame,
    keys: list[str],
    samples: int,
    confidence: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each group's wage (sum net / sum hours) over resampled days.

    The days of every group are resampled at once with Poisson(1) weights (`poisson_weights`).
    """
    n_groups = groups.height
    if samples == 0 or n_groups == 0:
        return np.full(n_groups, np.nan), np.full(n_groups, np.nan)
    rows = daily.join(groups.select(*keys, "group_no"), on=keys, how="inner", nulls_equal=True)
    group_no = rows.get_column("group_no").to_numpy()
    net = rows.get_column("net_earnings").to_numpy()
    hours = rows.get_column("hours_worked").to_numpy()
    wages = np.empty((samples, n_groups))
    done = 0
    for weights in poisson_weights(len(net), samples, seed):
        for weight in weights:
            paid = np.bincount(group_no, weights=weight * net, minlength=n_groups)
            worked = np.bincount(group_no, weights=weight * hours, minlength=n_groups)
            with np.errstate(invalid="ignore", divide="ignore"):
                wages[done] = np.where(worked > 0, paid / worked, np.nan)
            done += 1
    return percentile_intervals(wages, confidence)
