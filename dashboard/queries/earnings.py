"""The Earnings page's figures: wages per group from the pay ledger's sums (or the tables
published over every worker), per-worker pay, payment delays, wage floors and skip lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import polars as pl

from dashboard.access import NotAllowed, Where, with_platforms
from dashboard.data import ScopedData
from dashboard.url_state import Filters
from metrics.pay import COUNTS, MONEY, SECONDS, UNPRICED, summarise_wages, wages_across_workers

PAY_COLUMNS = [*SECONDS, UNPRICED, *COUNTS, *MONEY]  # the ledger's additive columns
# whole-period wage tables etl/marts/earnings.py publishes for the unfiltered view
PUBLISHED_WAGES = {
    "overall": "mart_earnings_wages_overall",
    "weekly": "mart_earnings_wages_weekly",
    "task_types": "mart_earnings_wages_task_types",
    "platforms": "mart_earnings_wages_platforms",
    "workers": "mart_earnings_by_worker",
}
WORKER_PAY_TABLES = ("by_worker", "fairpay", "skiplist")
NO_TASK_TYPE = "(none given)"
MAX_THRESHOLD = 10_000.0  # per hour, in the reporting currency: anything above is a typo
READABLE = [
    "workers",
    "hours_worked",
    "net_earnings",
    "paid_time_wage",
    "effective_wage",
    "tasks_approved",
    "tasks_rejected",
    "pending_payout",
]
DELAY_COLUMNS = [
    "worker_id",
    "platform",
    "paid",
    "median_delay_days",
    "p90_delay_days",
    "unpaid_earned",
    "oldest_unpaid_days",
    "pending_payout",
    "pending_review",
]


def pay_sums(data: ScopedData, filters: Filters, by: Sequence[str]) -> pl.DataFrame:
    """The ledger's additive pay columns summed per `by` (ledger keys, or `week`) over the
    viewer's rows, with the distinct `workers` behind each group.

    The sums are done here, on the snapshot, so that `metrics.pay` only derives the wages of
    a few rows: the ledger itself has one row per worker and day.
    """
    where = data.scope(filters)
    keys = ["date_trunc('week', day)::DATE AS week" if b == "week" else b for b in by]
    # per worker the count is 1: no need to count
    workers = "1" if "worker_id" in by else "count(DISTINCT worker_id)"
    sums = [f"sum({c})::{'BIGINT' if c in COUNTS else 'DOUBLE'} AS {c}" for c in PAY_COLUMNS]
    positions = ", ".join(str(i + 1) for i in range(len(by)))
    grouped = f"GROUP BY {positions} ORDER BY {positions}" if by else ""
    return data.frame(
        f"SELECT {', '.join([*keys, f'{workers}::BIGINT AS workers', *sums])}"
        f" FROM mart_earnings_ledger {where.sql} {grouped}",
        where.params,
    )


def published_wages(
    data: ScopedData, table: str, filters: Filters, columns: Sequence[str] = ()
) -> pl.DataFrame | None:
    """A wage table computed at publish over every worker and the whole period (see
    PUBLISHED_WAGES), with `columns` only when named: the view of viewers who see the whole
    population, without filters; None for any other."""
    if table not in PUBLISHED_WAGES:
        raise NotAllowed(f"No published wage table {table!r}.")
    unfiltered = replace(filters, focus="") == Filters()
    if not data.allowed("population-pay") or not unfiltered:
        return None
    picked = ", ".join(f'"{c}"' for c in columns) if columns else "* EXCLUDE (currency)"
    return data.frame(f"SELECT {picked} FROM {PUBLISHED_WAGES[table]}")


def wages(
    data: ScopedData, filters: Filters, table: str, by: list[str], columns: Sequence[str] = ()
) -> pl.DataFrame:
    """Wages per group of `by` over the viewer's rows: the published whole-period table for
    the unfiltered view of all workers (its `columns` only when named), else `summarise_wages`
    on sums per group."""
    published = published_wages(data, table, filters, columns)
    if published is not None:
        return published
    sums = pay_sums(data, filters, by)
    # one row per group: the group's distinct workers come from the sums, not from the rows
    rows = sums if "worker_id" in by else sums.with_columns(worker_id=pl.lit(None, pl.String))
    if "week" in by:
        rows = rows.with_columns(day=pl.col("week"))  # summarise_wages takes weeks from days
    summary = summarise_wages(rows, by)
    if "worker_id" in by:
        return summary
    if not by:
        return summary.with_columns(workers=sums["workers"])
    workers = sums.select(*by, "workers")
    return summary.drop("workers").join(workers, on=by, how="left", nulls_equal=True)


def overall(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """One row: wages and the waterfall over everything in view (suppressed for small groups)."""
    return data.suppress_small_groups(wages(data, filters, "overall", []))


def by_week(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Wages per platform and week."""
    return data.suppress_small_groups(wages(data, filters, "weekly", ["platform", "week"]))


def by_task_type(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Wages per platform and task type."""
    frame = wages(data, filters, "task_types", ["platform", "task_type"])
    # tracked time and tasks that name no task type (searching, qualification tests...)
    frame = frame.with_columns(pl.col("task_type").fill_null(NO_TASK_TYPE))
    return _readable(data.suppress_small_groups(frame))


def platform_comparison(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Per platform: the median, mean and pooled wages across workers."""
    frame = published_wages(data, "platforms", filters)
    if frame is None:
        # each worker's wage counts once: the spread is taken over per-worker sums
        per_worker_sums = pay_sums(data, filters, ["worker_id", "platform"])
        frame = wages_across_workers(per_worker_sums, ["platform"])
    return data.suppress_small_groups(frame).select(
        "platform",
        "workers",
        "hours_worked",
        "unpriced_hours",  # on a platform that records no pay: in no wage, shown, not lost
        "net_earnings",
        "median_effective_wage",
        "mean_effective_wage",
        "pooled_effective_wage",
        "median_paid_time_wage",
        "pooled_paid_time_wage",
    )


def per_worker(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Pay on the projects in view per worker and platform, lowest effective wage first."""
    data.ensure("per-worker-rows")
    by = ["worker_id", "platform"]
    frame = wages(data, filters, "workers", by, [*by, *READABLE])
    return _readable(frame).sort("effective_wage", nulls_last=True)


def worker_pay_table(
    data: ScopedData, table: str, filters: Filters, columns: Sequence[str] = ()
) -> pl.DataFrame:
    """Whole-period per-worker pay rows (by_worker, fairpay, skiplist), with `columns` only
    when named; they carry no project, so they are not open to a project scope."""
    if table not in WORKER_PAY_TABLES:
        raise NotAllowed(f"No per-worker pay table {table!r}.")
    data.ensure("per-worker-pay")
    where = _whole_period_scope(data, filters)
    # column names come from the page's code, never from the request
    picked = ", ".join(f'"{c}"' for c in columns) if columns else "* EXCLUDE (currency)"
    return data.frame(
        f"SELECT {picked} FROM mart_earnings_{table} {where.sql} ORDER BY platform, worker_id",
        where.params,
    )


def worker_delays(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Payment delays and unpaid money per worker and platform (whole period)."""
    return worker_pay_table(data, "by_worker", filters, DELAY_COLUMNS)


def fair_pay(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Hours paid below the wage floor per worker and platform (whole period)."""
    return worker_pay_table(data, "fairpay", filters)


def skip_threshold(filters: Filters) -> float | None:
    """The skip-list threshold chosen on the page (the URL's `focus`), if it is a wage."""
    try:
        value = float(filters.focus)
    except ValueError:
        return None
    return value if 0 < value <= MAX_THRESHOLD else None


def skip_list(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """The published skip list (config's threshold, else each worker's wage floor), or a
    freelancer's own at the threshold they chose on the page."""
    threshold = skip_threshold(filters)
    if threshold is not None and data.allowed("own-skip-threshold"):
        listed = skip_list_below(data, threshold, filters)
    else:
        listed = worker_pay_table(data, "skiplist", filters)
    first = ["worker_id", "platform", "kind", "name"]
    return listed.select(*first, pl.exclude(first))


def skip_list_below(data: ScopedData, threshold: float, filters: Filters) -> pl.DataFrame:
    """A freelancer's skip list at a wage `threshold` of their choosing (whole period, as
    the published list), worked out from their own ledger rows."""
    from etl.pay import worker_skip_list

    data.ensure("own-skip-threshold")
    where = _whole_period_scope(data, filters)

    def compute() -> pl.DataFrame:
        ledger = data.frame(f"SELECT * FROM mart_earnings_ledger {where.sql}", where.params)
        listed = worker_skip_list(ledger, pl.DataFrame(), data.settings, threshold)
        return listed.sort("platform", "worker_id", "kind", "name")

    return data.memo("skip_list_below", {"threshold": threshold, "where": where.params}, compute)


def platform_pay_delays(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Payment delays and unpaid work per platform, over all workers (an aggregate)."""
    data.ensure("population-pay")
    where = with_platforms(Where(), filters)
    frame = data.frame(
        "SELECT d.*, coalesce(w.workers, 0)::BIGINT AS workers FROM mart_earnings_delays d "
        "LEFT JOIN (SELECT platform, count(DISTINCT worker_id) AS workers "
        f"FROM mart_earnings_by_worker GROUP BY platform) w USING (platform) {where.sql} "
        "ORDER BY platform",
        where.params,
    )
    # medians and delays of each platform: no total of them is shown to subtract from
    return data.suppress_small_groups(frame, complementary=False)


def _whole_period_scope(data: ScopedData, filters: Filters) -> Where:
    """The viewer's scope over per-worker pay tables of the whole period: they carry no
    day or project, so only the platform filter applies."""
    return with_platforms(data.scope(Filters(), day=None, project=False), filters)


def _readable(frame: pl.DataFrame) -> pl.DataFrame:
    keys = [c for c in ("worker_id", "platform", "task_type", "week") if c in frame.columns]
    return frame.select(*keys, *READABLE)
