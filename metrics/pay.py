"""Effective hourly pay: what a worker earns per hour once all time worked is counted.

`pay_ledger` turns assignments, tracked time and logged earnings into additive rows
(`metrics.ledger`, `metrics.tracked_time`); `summarise_wages` turns any grouping of it into the
paid-time wage, the effective wage and the waterfall of steps between them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import polars as pl

from metrics.currency import MissingRate, conversion_factors, to_reporting_currency
from metrics.ledger import (
    BUCKET,
    COUNTS,
    INPUT_COLUMNS,
    LEDGER_KEYS,
    MONEY,
    SECONDS,
    UTC,
    assignment_ledger,
    conform_input,
    earnings_log_ledger,
)
from metrics.tracked_time import (
    TRACKED_TASK_ACTIVITIES,
    apply_time_tracking,
    local_offsets,
    tracked_time,
    unattributed_by_worker,
)

# The names callers import from here: the ledger's pieces live in the modules above.
__all__ = [
    "BUCKET", "COUNTS", "GROUPINGS", "INPUT_COLUMNS", "LEDGER_KEYS", "MONEY", "PERIODS",
    "SECONDS", "TRACKED_TASK_ACTIVITIES", "UTC", "WATERFALL", "MissingRate", "apply_time_tracking",
    "assignment_ledger", "conform_input", "conversion_factors", "delay_rows",
    "earnings_log_ledger", "effective_wages", "local_offsets", "pay_ledger", "payment_delays",
    "summarise_delays", "summarise_wages", "to_reporting_currency", "tracked_time",
    "unattributed_by_worker", "wages_across_workers", "with_periods",
]  # fmt: skip

PERIODS = {"week": "1w", "month": "1mo"}
GROUPINGS = ("worker_id", "platform", "project_id", "task_type", "day", "week", "month")

# Waterfall from the gross paid-time wage to the effective wage. Each step after fees adds one
# kind of time to the denominator, in this order.
WATERFALL = [
    ("fees", None),
    ("rejected_work", "rejected_seconds"),
    ("returned_work", "returned_seconds"),
    ("gaps_in_sessions", "gap_seconds"),
    ("time_tracking_adjustment", "tracking_adjustment_seconds"),
    ("logged_unpaid_time", "unpaid_logged_seconds"),
]


def pay_ledger(
    assignments: pl.DataFrame,
    time_entries: pl.DataFrame,
    earnings: pl.DataFrame,
    fx: pl.DataFrame,
    fee_rates: Mapping[str, float],
    gap_minutes: float,
    reporting_currency: str,
    keys: Sequence[str] = LEDGER_KEYS,
) -> pl.DataFrame:
    """Additive pay rows: one per worker, platform, project, task type and day.

    Frames have the warehouse columns of `assignments`, `time_entries`, `earnings` and
    `fx_rates`; `fee_rates` maps a platform to the share of earnings it keeps from the worker.
    Money columns are in `reporting_currency`, seconds are seconds. `keys` may leave out
    `project_id` and `task_type` for a coarser, faster ledger.
    """
    if not {"worker_id", "platform", "day"} <= set(keys):
        raise ValueError("a pay ledger is kept at least per worker_id, platform and day")
    assignments = conform_input("assignments", assignments)
    time_entries = conform_input("time_entries", time_entries)
    earnings = conform_input("earnings", earnings)
    fx = conform_input("fx_rates", fx)
    tasks = assignment_ledger(assignments, fx, fee_rates, gap_minutes, reporting_currency, keys)
    task_days = tasks.select("worker_id", "platform", "day").unique()
    logged = earnings_log_ledger(earnings, fx, fee_rates, reporting_currency, task_days, keys)
    recorded = pl.concat([tasks, logged], how="diagonal_relaxed")
    logged_days = logged.select("worker_id", "platform", "day")
    return without_unpriced_hours(
        apply_time_tracking(recorded, tracked_time(time_entries, logged_days))
    )


def with_periods(frame: pl.DataFrame, by: Sequence[str], day: str = "day") -> pl.DataFrame:
    """`frame` with the `week` (starting Monday) or `month` columns `by` asks for."""
    unknown = [b for b in by if b not in GROUPINGS]
    if unknown:
        raise ValueError(f"cannot group pay by {unknown}; choose from {list(GROUPINGS)}")
    return frame.with_columns(
        pl.col(day).dt.truncate(every).alias(name) for name, every in PERIODS.items() if name in by
    )


UNPRICED = "unpriced_seconds"


def without_unpriced_hours(ledger: pl.DataFrame) -> pl.DataFrame:
    """The ledger with the time a worker spent on a platform that records no pay for them
    (a tool such as Label Studio or Prodigy, no reward on any task, no earnings line) moved
    out of every time column into `unpriced_seconds`: such hours are no unpaid work, the pay
    is simply unknown, so they are left out of every wage and shown as "no pay data".

    >>> import polars as pl
    >>> cells = pl.DataFrame({"worker_id": ["w", "w"], "platform": ["mturk", "labelstudio"],
    ...     **{c: [3600.0, 7200.0] if c == "approved_seconds" else [0.0, 0.0] for c in SECONDS},
    ...     "priced_tasks": [1, 0], "gross_earnings": [10.0, 0.0], "untimed_earnings": [0.0, 0.0]})
    >>> without_unpriced_hours(cells).select("approved_seconds", UNPRICED).rows()
    [(3600.0, 0.0), (0.0, 7200.0)]
    """
    if UNPRICED in ledger.columns:
        return ledger
    cell = (pl.col("priced_tasks") > 0) | (pl.col("gross_earnings") > 0)
    cell = cell | (pl.col("untimed_earnings") > 0)
    priced = cell.any().over(["worker_id", "platform"])
    return ledger.with_columns(
        pl.when(priced).then(0.0).otherwise(pl.sum_horizontal(SECONDS)).alias(UNPRICED),
        *[pl.when(priced).then(pl.col(c)).otherwise(0.0).alias(c) for c in SECONDS],
    )


def summarise_wages(ledger: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Wages per group of `by` (ledger keys, `week` or `month`; none: one row for all) with
    hours, tasks and steps.

    `paid_time_wage` = net earnings / hours of approved work; `effective_wage` = net
    earnings / all hours worked. `step_<name>` columns are the waterfall from
    `gross_paid_time_wage` to `effective_wage`: they add up to the difference when every
    intermediate wage is defined. Wages are null where their hours are zero, or where no task
    of the group carries a price; hours on platforms that record no pay for the worker count in
    `unpriced_hours` and in no wage (`pay_ledger` moves them there: `without_unpriced_hours`).
    """
    by = list(by)
    totals = {
        "workers": pl.col("worker_id").n_unique(),
        **{c: pl.col(c).sum() for c in [*SECONDS, *COUNTS, *MONEY, UNPRICED]},
    }
    if UNPRICED not in ledger.columns:  # sums made without it (a ledger of priced work only)
        ledger = ledger.with_columns(pl.lit(0.0).alias(UNPRICED))
    rows = with_periods(ledger, by)
    if by:
        sums = rows.lazy().group_by(by).agg(**totals).collect().sort(by, nulls_last=True)
    else:
        sums = rows.select(**totals)
    net = pl.col("gross_earnings") - pl.col("fees")
    priced = (pl.col("priced_tasks") > 0) | (pl.col("gross_earnings") > 0)
    hours = 0.0
    wages: dict[str, pl.Expr] = {}
    for step, seconds in [("paid_time", "approved_seconds"), *WATERFALL[1:]]:
        hours = pl.col(seconds) / 3600 + hours
        wages[step] = pl.when(priced & (hours > 0)).then(net / hours)
    gross_paid = pl.when(priced & (pl.col("approved_seconds") > 0)).then(
        pl.col("gross_earnings") / pl.col("approved_seconds") * 3600
    )
    order = ["paid_time", *[s for s, _ in WATERFALL[1:]]]
    steps = {"step_fees": wages["paid_time"] - gross_paid}
    steps.update({f"step_{b}": wages[b] - wages[a] for a, b in zip(order, order[1:], strict=False)})
    return (
        sums.with_columns(
            net_earnings=net,
            hours_worked=hours,
            gross_paid_time_wage=gross_paid,
            paid_time_wage=wages["paid_time"],
            effective_wage=wages["logged_unpaid_time"],
            **steps,
        )
        .with_columns(
            (pl.col(c) / 3600).alias(c.replace("_seconds", "_hours")) for c in [*SECONDS, UNPRICED]
        )
        .drop([*SECONDS, UNPRICED])
    )


def effective_wages(
    assignments: pl.DataFrame,
    time_entries: pl.DataFrame,
    earnings: pl.DataFrame,
    fx: pl.DataFrame,
    fee_rates: Mapping[str, float],
    by: Sequence[str],
    gap_minutes: float,
    reporting_currency: str,
) -> pl.DataFrame:
    """Paid-time and effective hourly wage per group of `by`, with the waterfall between them.

    >>> wages = effective_wages(assignments, time_entries, earnings, fx, {"mturk": 0.0},
    ...                         by=["worker_id", "platform"], gap_minutes=1.0,
    ...                         reporting_currency="USD")  # doctest: +SKIP
    """
    # The ledger only needs the keys `by` asks for (fewer keys: faster on millions of rows).
    keys = [k for k in LEDGER_KEYS if k in ("worker_id", "platform", "day") or k in by]
    ledger = pay_ledger(
        assignments, time_entries, earnings, fx, fee_rates, gap_minutes, reporting_currency, keys
    )
    return summarise_wages(ledger, by)


def wages_across_workers(ledger: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Median and mean of workers' wages per group of `by` (none: one row for all); each
    worker's wage counts once.

    Also the pooled wage (all net earnings / all hours), which weighs workers by their hours.
    """
    by = [b for b in by if b != "worker_id"]
    per_worker = summarise_wages(ledger, ["worker_id", *by])
    spread = {
        "workers_with_wage": pl.col("effective_wage").drop_nulls().len(),
        "median_effective_wage": pl.col("effective_wage").median(),
        "mean_effective_wage": pl.col("effective_wage").mean(),
        "median_paid_time_wage": pl.col("paid_time_wage").median(),
        "mean_paid_time_wage": pl.col("paid_time_wage").mean(),
    }
    pooled = summarise_wages(ledger, by).select(
        *by,
        "workers",
        "hours_worked",
        "unpriced_hours",
        "net_earnings",
        pooled_effective_wage="effective_wage",
        pooled_paid_time_wage="paid_time_wage",
    )
    if not by:
        return pooled.hstack(per_worker.select(**spread))
    return pooled.join(per_worker.group_by(by).agg(**spread), on=by, how="left").sort(by)


def payment_delays(
    assignments: pl.DataFrame,
    earnings: pl.DataFrame,
    by: Sequence[str] = ("platform",),
    as_of: datetime | None = None,
) -> pl.DataFrame:
    """Days from submission to payment per group of `by` (none: one row for all): median,
    90th percentile and counts.

    Assignments give `paid_at - submitted_at`; earnings-log lines give `paid_at` minus the
    start of the logged day (so up to a day longer). `unpaid_earned` counts approved work with
    a price, or logged-pending lines, not yet paid, and `oldest_unpaid_days` its age at `as_of`
    (default: the newest time in the data).
    """
    by = list(by)
    return summarise_delays(delay_rows(assignments, earnings, by), by, as_of)


def delay_rows(
    assignments: pl.DataFrame, earnings: pl.DataFrame, by: Sequence[str]
) -> pl.DataFrame:
    """One row per submitted task or logged line: the `by` columns, `submitted`, `paid_at` and
    `earned` (payment is owed), as `summarise_delays` takes them."""
    by = list(by)
    assignments = conform_input("assignments", assignments)
    earnings = conform_input("earnings", earnings)
    tasks = assignments.select(
        *[c for c in by if c in assignments.columns and c not in PERIODS],
        day=pl.col("submitted_at").dt.date(),
        submitted=pl.col("submitted_at"),
        paid_at=pl.col("paid_at"),
        # Tools that record no pay (reward null) owe nothing, so they never count as unpaid.
        earned=(pl.col("status") == "approved") & pl.col("reward").is_not_null(),
    )
    logged = earnings.filter(pl.col("status") != "rejected").select(
        *[c for c in by if c in earnings.columns and c not in PERIODS],
        day=pl.col("day"),
        submitted=pl.col("day").cast(pl.Datetime("us", "UTC")),
        paid_at=pl.col("paid_at"),
        earned=pl.lit(True),
    )
    rows = with_periods(pl.concat([tasks, logged], how="diagonal_relaxed"), by)
    return rows.filter(pl.col("submitted").is_not_null())


def summarise_delays(
    rows: pl.DataFrame, by: Sequence[str], as_of: datetime | None = None
) -> pl.DataFrame:
    """`payment_delays` of rows from `delay_rows` (rows of many calls may be stacked)."""
    by = list(by)
    if as_of is None:
        as_of = rows.select(pl.max_horizontal(pl.col("submitted").max(), pl.col("paid_at").max()))
        as_of = as_of.item()
    delay = (pl.col("paid_at") - pl.col("submitted")).dt.total_seconds(fractional=True) / 86400
    unpaid = pl.col("earned") & pl.col("paid_at").is_null()
    age = (pl.lit(as_of, dtype=UTC) - pl.col("submitted")).dt.total_seconds(fractional=True) / 86400
    figures = {
        "paid": pl.col("paid_at").is_not_null().sum(),
        "median_delay_days": delay.median(),
        "p90_delay_days": delay.quantile(0.9, interpolation="linear"),
        "unpaid_earned": unpaid.sum(),
        "oldest_unpaid_days": pl.when(unpaid).then(age).max(),
    }
    return rows.group_by(by).agg(**figures).sort(by) if by else rows.select(**figures)
