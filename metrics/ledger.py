"""Pay ledger rows from the records of work: platform task logs and freelancers' earnings logs,
summed to additive rows (one per worker, platform, project, task type and day).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from metrics.currency import to_reporting_currency
from metrics.sessions import assign_sessions, work_intervals

# A ledger row is one worker, platform, project, task type and day; every other column adds up.
LEDGER_KEYS = ["worker_id", "platform", "project_id", "task_type", "day"]
SECONDS = [
    "approved_seconds",
    "rejected_seconds",
    "returned_seconds",
    "gap_seconds",
    "tracking_adjustment_seconds",
    "unpaid_logged_seconds",
    "pending_seconds",
]
COUNTS = ["tasks_approved", "tasks_rejected", "tasks_returned", "tasks_pending", "priced_tasks"]
MONEY = ["gross_earnings", "fees", "pending_payout", "pending_review", "untimed_earnings"]
BUCKET = pl.Enum(["approved", "rejected", "returned", "pending"])  # what a task's time counts as

UTC = pl.Datetime("us", "UTC")
# The warehouse columns each input frame needs; `conform_input` casts frames to these types.
INPUT_COLUMNS: dict[str, dict[str, pl.DataType]] = {
    "assignments": {
        "worker_id": pl.String,
        "platform": pl.String,
        "project_id": pl.String,
        "task_type": pl.String,
        "started_at": UTC,
        "submitted_at": UTC,
        "active_seconds": pl.Float64,
        "status": pl.String,
        "reward": pl.Float64,
        "bonus": pl.Float64,
        "currency": pl.String,
        "reviewed_at": UTC,
        "paid_at": UTC,
    },
    "time_entries": {
        "worker_id": pl.String,
        "platform": pl.String,
        "project_id": pl.String,
        "started_at": UTC,
        "ended_at": UTC,
        "seconds": pl.Float64,
        "activity": pl.String,
    },
    "earnings": {
        "worker_id": pl.String,
        "platform": pl.String,
        "project_id": pl.String,
        "task_type": pl.String,
        "day": pl.Date,
        "tasks": pl.Int64,
        "seconds": pl.Float64,
        "amount": pl.Float64,
        "currency": pl.String,
        "status": pl.String,
        "paid_at": UTC,
    },
    "fx_rates": {"currency": pl.String, "day": pl.Date, "usd_per_unit": pl.Float64},
}


def conform_input(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The columns of `table` that pay needs, typed; times in UTC whatever zone they came in."""
    missing = [c for c in INPUT_COLUMNS[table] if c not in frame.columns]
    if missing:
        raise ValueError(f"{table} frame lacks columns {missing}")
    return frame.select(_typed(frame.schema[c], c, t) for c, t in INPUT_COLUMNS[table].items())


def _typed(current: pl.DataType, name: str, wanted: pl.DataType) -> pl.Expr:
    if wanted == UTC and isinstance(current, pl.Datetime):
        zone = current.time_zone
        col = pl.col(name).dt.cast_time_unit("us")
        utc = col.dt.convert_time_zone("UTC") if zone else col.dt.replace_time_zone("UTC")
        return utc.alias(name)
    return pl.col(name).cast(wanted)


def assignment_ledger(
    assignments: pl.DataFrame,
    fx: pl.DataFrame,
    fee_rates: Mapping[str, float],
    gap_minutes: float,
    reporting_currency: str,
    keys: Sequence[str] = LEDGER_KEYS,
) -> pl.DataFrame:
    """Ledger rows of platform task logs: time from work sessions, money of approved work.

    Approved work (and submitted work the platform already paid) earns its reward and bonus;
    submitted work awaiting review is pending, with its time held out of the wage; returned,
    abandoned, skipped and expired work is unpaid time. Gaps inside a session go to the task
    that follows them (the searching and waiting before it).
    """
    status = pl.col("status")
    approved = (status == "approved") | ((status == "submitted") & pl.col("paid_at").is_not_null())
    pending = (status == "submitted") & pl.col("paid_at").is_null()
    # Derive what the ledger needs before sorting into sessions, so the sort moves fewer
    # columns (it is the costliest step on millions of rows).
    rows = (
        work_intervals(assignments)
        .with_columns(
            day=pl.coalesce("work_start", "reviewed_at", "paid_at").dt.date(),
            pay_day=pl.coalesce("paid_at", "reviewed_at", "work_end", "work_start").dt.date(),
            currency=pl.col("currency").fill_null("USD"),
            money=pl.col("reward") + pl.col("bonus").fill_null(0.0),
            bucket=pl.when(approved)
            .then(pl.lit("approved"))
            .when(pending)
            .then(pl.lit("pending"))
            .when(status == "rejected")
            .then(pl.lit("rejected"))
            .otherwise(pl.lit("returned"))
            .cast(BUCKET),
        )
        .filter(pl.col("day").is_not_null())
        .select(*keys, "work_start", "work_end", "pay_day", "currency", "money", "bucket",
                "paid_at")
    )  # fmt: skip
    untimed = rows.filter(pl.col("work_start").is_null())
    rows = assign_sessions(rows, gap_minutes).drop("session_start", "covered_from")
    if untimed.height:  # tasks with no time at all still carry their money
        untimed = untimed.with_columns(covered_seconds=pl.lit(0.0), gap_seconds=pl.lit(0.0))
        rows = pl.concat([rows, untimed], how="diagonal_relaxed")
    rows = to_reporting_currency(rows, ["money"], fx, reporting_currency)
    return _ledger_rows(rows, fee_rates, "covered_seconds", pl.lit(1, pl.Int64), keys)


def _ledger_rows(
    rows: pl.DataFrame,
    fee_rates: Mapping[str, float],
    seconds: str,
    tasks: pl.Expr,
    keys: Sequence[str],
) -> pl.DataFrame:
    """Sum bucketed rows (`bucket`, `money`, `paid_at`, `gap_seconds`) to the `keys` grain."""
    fee_rate = pl.col("platform").replace_strict(dict(fee_rates), default=0.0).cast(pl.Float64)
    money = pl.col("money").fill_null(0.0)
    fee = money * fee_rate
    time = pl.col(seconds).fill_null(0.0)
    timed = pl.col(seconds).is_not_null()

    def only(condition: pl.Expr, value: pl.Expr) -> pl.Expr:
        return pl.when(condition).then(value).otherwise(0)

    # Values first, then plain sums on the lazy engine: conditional sums inside an eager
    # aggregation cost ten times as much on millions of rows.
    bucket = pl.col("bucket")
    approved, pending = bucket == "approved", bucket == "pending"
    values = rows.select(
        *keys,
        approved_seconds=only(approved, time),
        rejected_seconds=only(bucket == "rejected", time),
        returned_seconds=only(bucket == "returned", time),
        pending_seconds=only(pending, time),
        gap_seconds=pl.col("gap_seconds"),
        tasks_approved=only(approved, tasks),
        tasks_rejected=only(bucket == "rejected", tasks),
        tasks_returned=only(bucket == "returned", tasks),
        tasks_pending=only(pending, tasks),
        priced_tasks=only(pl.col("money").is_not_null(), tasks),
        gross_earnings=only(approved & timed, money),
        fees=only(approved & timed, fee),
        pending_payout=only(approved & pl.col("paid_at").is_null(), money - fee),
        pending_review=only(pending, money - fee),
        untimed_earnings=only(approved & ~timed, money),
        untimed_fees=only(approved & ~timed, fee),
    )
    return values.lazy().group_by(keys).agg(pl.all().sum()).collect()


def earnings_log_ledger(
    earnings: pl.DataFrame,
    fx: pl.DataFrame,
    fee_rates: Mapping[str, float],
    reporting_currency: str,
    task_days: pl.DataFrame | None = None,
    keys: Sequence[str] = LEDGER_KEYS,
) -> pl.DataFrame:
    """Ledger rows of a freelancer's own earnings log (table `earnings`).

    Paid and pending lines are earned money with their logged hours as approved time; rejected
    lines are unpaid time. Lines on a (worker, platform, day) in `task_days` are left out: the
    platform's task log is the better record there, and counting both would count money twice.
    A line without hours holds its money as `untimed_earnings` until tracked time covers its day.
    """
    if task_days is not None:
        earnings = earnings.join(task_days, on=["worker_id", "platform", "day"], how="anti")
    rows = earnings.with_columns(
        pay_day=pl.coalesce(pl.col("paid_at").dt.date(), pl.col("day")),
        money=pl.when(pl.col("status") == "rejected")
        .then(None)
        .otherwise(pl.col("amount").cast(pl.Float64)),
        bucket=pl.when(pl.col("status") == "rejected")
        .then(pl.lit("rejected"))
        .otherwise(pl.lit("approved")),
        # An earnings line records earned money: a pending line awaits payout, not review.
        paid_at=pl.when(pl.col("status") == "paid")
        .then(pl.coalesce("paid_at", pl.col("day").cast(pl.Datetime("us", "UTC"))))
        .otherwise(None),
        gap_seconds=pl.lit(0.0),
    )
    rows = to_reporting_currency(rows, ["money"], fx, reporting_currency)
    tasks = pl.col("tasks").fill_null(1).cast(pl.Int64)
    return _ledger_rows(rows, fee_rates, "seconds", tasks, keys)
