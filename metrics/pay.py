"""Effective hourly pay: what a worker earns per hour once all time worked is counted.

The pay ledger turns assignments, tracked time and logged earnings into additive rows (one per
worker, platform, project, task type and day); `summarise_wages` turns any grouping of it into
the paid-time wage, the effective wage and the waterfall of steps between them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import polars as pl

from metrics.sessions import assign_sessions, work_intervals

LEDGER_KEYS = ["worker_id", "platform", "project_id", "task_type", "day"]
PERIODS = {"week": "1w", "month": "1mo"}
GROUPINGS = ("worker_id", "platform", "project_id", "task_type", "day", "week", "month")

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

BUCKET = pl.Enum(["approved", "rejected", "returned", "pending"])  # what a task's time counts as
TRACKED_TASK_ACTIVITIES = ("task", "other")


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


class MissingRate(ValueError):
    """A currency has no exchange rate at all; the message names it and the fix."""


def conversion_factors(
    pairs: pl.DataFrame, fx: pl.DataFrame, reporting_currency: str
) -> pl.DataFrame:
    """`factor` turning one unit of `currency` on `day` into the reporting currency.

    `pairs` has `currency` and `day`; `fx` has `currency`, `day`, `usd_per_unit`. The rate is
    the one of the nearest earlier day in `fx`; a day before the table's first rate of that
    currency takes its first rate.
    """
    pairs = pairs.select("currency", "day").unique()
    known = set(fx.get_column("currency").unique().to_list())
    foreign = set(pairs.get_column("currency").to_list()) - {reporting_currency}
    # Converting anything into the reporting currency needs a rate for it too.
    missing = sorted(foreign - known) + (
        [reporting_currency] if foreign and reporting_currency not in known else []
    )
    if missing:
        raise MissingRate(
            f"No exchange rate for {', '.join(missing)}. Add rows for it to the fx rates CSV "
            "(etl/data/fx_rates.csv or the file in settings pay.fx_rates_file) and ingest again."
        )
    rates = fx.select("currency", "day", "usd_per_unit").sort("day")
    own = _rate_as_of(pairs, rates)
    reporting = _rate_as_of(pairs.with_columns(currency=pl.lit(reporting_currency)), rates)
    return own.join(
        reporting.rename({"usd_per_unit": "reporting_usd_per_unit", "currency": "reporting"}),
        on="day",
        how="left",
    ).select(
        "currency",
        "day",
        factor=pl.when(pl.col("currency") == reporting_currency)
        .then(1.0)
        .otherwise(pl.col("usd_per_unit") / pl.col("reporting_usd_per_unit")),
    )


def _rate_as_of(pairs: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    left = pairs.select("currency", "day").unique().sort("day")
    # Both sides are sorted by day just above, so the check (impossible with `by`) is skipped.
    asof = {"on": "day", "by": "currency", "check_sortedness": False}
    earlier = left.join_asof(rates, strategy="backward", **asof)
    later = left.join_asof(rates, strategy="forward", **asof)
    return earlier.join(later, on=["currency", "day"], suffix="_later").select(
        "currency", "day", usd_per_unit=pl.coalesce("usd_per_unit", "usd_per_unit_later")
    )


def to_reporting_currency(
    frame: pl.DataFrame,
    amounts: Sequence[str],
    fx: pl.DataFrame,
    reporting_currency: str,
    currency: str = "currency",
    day: str = "pay_day",
) -> pl.DataFrame:
    """`frame` with the `amounts` columns converted at the rate of each row's `day`.

    Factors are computed once per currency and calendar day between the frame's first and
    last day, then looked up by position: no join over millions of rows.
    """
    currencies = sorted(frame.get_column(currency).drop_nulls().unique().to_list())
    first, last = frame.select(first=pl.col(day).min(), last=pl.col(day).max()).row(0)
    if not currencies or first is None:
        return frame.with_columns(pl.col(a).cast(pl.Float64) * None for a in amounts)
    days = pl.date_range(first, last, "1d", eager=True)
    grid = pl.DataFrame({"currency": currencies}).join(pl.DataFrame({"day": days}), how="cross")
    table = conversion_factors(grid, fx, reporting_currency).sort("currency", "day")
    position = (
        pl.col(currency).cast(pl.Enum(currencies)).to_physical().cast(pl.Int64) * len(days)
        + (pl.col(day) - pl.lit(first)).dt.total_days()
    )
    factor = pl.lit(table.get_column("factor")).gather(position)
    return frame.with_columns((pl.col(a).cast(pl.Float64) * factor).alias(a) for a in amounts)


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
    return apply_time_tracking(recorded, tracked_time(time_entries, logged_days))


def with_periods(frame: pl.DataFrame, by: Sequence[str], day: str = "day") -> pl.DataFrame:
    """`frame` with the `week` (starting Monday) or `month` columns `by` asks for."""
    unknown = [b for b in by if b not in GROUPINGS]
    if unknown:
        raise ValueError(f"cannot group pay by {unknown}; choose from {list(GROUPINGS)}")
    return frame.with_columns(
        pl.col(day).dt.truncate(every).alias(name) for name, every in PERIODS.items() if name in by
    )


def summarise_wages(ledger: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Wages per group of `by` (ledger keys, `week` or `month`; none: one row for all) with
    hours, tasks and steps.

    `paid_time_wage` = net earnings / hours of approved work; `effective_wage` = net
    earnings / all hours worked. `step_<name>` columns are the waterfall from
    `gross_paid_time_wage` to `effective_wage`: they add up to the difference when every
    intermediate wage is defined. Wages are null where their hours are zero, or where no task
    of the group carries a price (tools that record no pay).
    """
    by = list(by)
    totals = {
        "workers": pl.col("worker_id").n_unique(),
        **{c: pl.col(c).sum() for c in [*SECONDS, *COUNTS, *MONEY]},
    }
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
        .with_columns((pl.col(c) / 3600).alias(c.replace("_seconds", "_hours")) for c in SECONDS)
        .drop(SECONDS)
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


def unattributed_time(time_entries: pl.DataFrame) -> dict[str, float | int]:
    """Tracked entries no mapping attributes to a platform: how many, and their hours."""
    rows = time_entries.filter(pl.col("platform").is_null())
    return {
        "entries": rows.height,
        "hours": float(rows.get_column("seconds").sum() or 0.0) / 3600,
    }
