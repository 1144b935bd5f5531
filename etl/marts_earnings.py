"""Earnings marts: effective hourly pay pre-aggregated at publish time for the Earnings page.

Tables (money in `settings.reporting_currency`, named in each table's `currency` column):
`mart_earnings_ledger` (one row per worker, platform, project, task type and day: additive
hours, tasks and money), `mart_earnings_by_worker` (worker x platform, with payment delays),
`mart_earnings_by_worker_week`, `mart_earnings_by_worker_task_type`, `mart_earnings_platforms`
(platform: medians and means across workers, suppressed below `min_group_size`),
`mart_earnings_delays` (platform), `mart_earnings_fairpay` (worker x platform: hours below
the local wage floor), `mart_earnings_skiplist` (worker x platform x task type or project below
the threshold), `mart_earnings_unattributed` (tracked time no platform claims),
`mart_earnings_notes` (what was left out and why), `mart_earnings_throughput` (worker x
platform x project x task type x day: completed tasks and active hours, additive),
`mart_earnings_task_seconds` (platform x task type: median seconds per task), and the Earnings
page's unfiltered view over every worker and the whole period, so that its most common view
reads rows instead of computing them: `mart_earnings_wages_overall` (one row),
`mart_earnings_wages_weekly` (platform x week), `mart_earnings_wages_task_types` (platform x
task type) and `mart_earnings_wages_platforms` (platform: medians and means across workers and
the pooled wage, not suppressed: the page suppresses for the viewers who need it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from etl.settings import Settings
from metrics.fairpay import below_floor_share, skip_list
from metrics.pay import (
    conform_input,
    pay_ledger,
    payment_delays,
    summarise_wages,
    wages_across_workers,
)
from metrics.sessions import summarise_throughput, task_active_seconds

Query = Callable[[str, list[Any] | None], pl.DataFrame]

# Only the columns pay needs, so a page or command never pulls answers or lineage along.
INPUT_SQL = {
    # A project's task type stands in where the export names none per assignment.
    "assignments": """
        SELECT a.worker_id, a.platform, a.project_id,
               coalesce(a.task_type, p.task_type) AS task_type, a.started_at, a.submitted_at,
               a.active_seconds, a.status, a.reward, a.bonus, a.currency, a.reviewed_at,
               a.paid_at
        FROM assignments a LEFT JOIN projects p USING (platform, project_id) {where}""",
    "time_entries": """
        SELECT worker_id, platform, project_id, started_at, ended_at, seconds, activity
        FROM time_entries {where}""",
    "earnings": """
        SELECT worker_id, platform, project_id, task_type, day, tasks, seconds, amount,
               currency, status, paid_at
        FROM earnings {where}""",
    "workers": "SELECT worker_id, platform, country FROM workers {where}",
}
REFERENCE_SQL = {
    "fx": "SELECT currency, day, usd_per_unit FROM fx_rates",
    "floors": """SELECT country, region, currency, amount, unit, hours_basis, effective_from,
                        source FROM wage_floors""",
    "platforms": "SELECT platform, worker_fee_rate FROM platforms",
}


@dataclass
class PayInputs:
    """The warehouse tables pay is computed from, for all workers or a chosen few."""

    assignments: pl.DataFrame
    time_entries: pl.DataFrame
    earnings: pl.DataFrame
    workers: pl.DataFrame
    fx: pl.DataFrame
    floors: pl.DataFrame
    platforms: pl.DataFrame


def read_pay_inputs(query: Query, worker_ids: list[str] | None = None) -> PayInputs:
    """Read pay's inputs with `query(sql, params)`, limited to `worker_ids` when given."""
    where, params = "", None
    if worker_ids is not None:
        where, params = "WHERE list_contains(?, worker_id)", [worker_ids]
    frames = {name: query(sql.format(where=where), params) for name, sql in INPUT_SQL.items()}
    frames |= {name: query(sql, None) for name, sql in REFERENCE_SQL.items()}
    return PayInputs(**frames)


def worker_fee_rates(settings: Settings, platforms: pl.DataFrame) -> dict[str, float]:
    """Fee per platform: config.toml's `[sources.<platform>]` where set, else the warehouse's."""
    rates = dict(platforms.select("platform", "worker_fee_rate").iter_rows())
    rates.update({p: s.worker_fee_rate for p, s in settings.sources.items()})
    return {p: float(r or 0.0) for p, r in rates.items()}


def without_unpriceable(inputs: PayInputs, reporting_currency: str) -> tuple[PayInputs, list[str]]:
    """Inputs without money rows in currencies that have no rate, and notes saying so.

    Publishing must not fail over one unknown currency; the notes tell the user what to add.
    """
    rated = set(inputs.fx.get_column("currency").to_list())
    if reporting_currency not in rated:
        rated = {reporting_currency}  # nothing converts into it: count its own money only
    notes = []
    kept = {}
    for name in ("assignments", "earnings"):
        frame = getattr(inputs, name)
        priceable = pl.col("currency").is_null() | pl.col("currency").is_in(sorted(rated))
        unknown = frame.filter(~priceable).group_by("currency").len().sort("currency")
        notes += [
            f"{rows} {name} rows in {currency} are left out of earnings: there is no exchange "
            f"rate from {currency} to {reporting_currency}. Add both to the fx rates CSV "
            "(etl/data/README.md) and ingest again."
            for currency, rows in unknown.iter_rows()
        ]
        kept[name] = frame.filter(priceable)
    return PayInputs(**{**inputs.__dict__, **kept}), notes


def ledger_for(inputs: PayInputs, settings: Settings) -> pl.DataFrame:
    """The pay ledger of `inputs` under `settings` (gap, fees, reporting currency)."""
    return pay_ledger(
        inputs.assignments,
        inputs.time_entries,
        inputs.earnings,
        inputs.fx,
        worker_fee_rates(settings, inputs.platforms),
        settings.session_gap_minutes,
        settings.reporting_currency,
    )


def floor_check(ledger: pl.DataFrame, inputs: PayInputs, settings: Settings) -> pl.DataFrame:
    """Share of each worker's hours below the wage floor of their country (after fees)."""
    return below_floor_share(
        ledger,
        inputs.workers,
        inputs.floors,
        inputs.fx,
        settings.reporting_currency,
        settings.pay.hours_per_day,
        settings.pay.hours_per_week,
    )


def worker_skip_list(
    ledger: pl.DataFrame, fairpay: pl.DataFrame, settings: Settings, threshold: float | None = None
) -> pl.DataFrame:
    """Task types and projects paying a worker less than `threshold` per hour (default:
    settings, else the wage floor of the worker's country), as `kind` and `name`."""
    wage = settings.pay.skip_below_wage if threshold is None else threshold
    thresholds: float | pl.DataFrame = wage
    if not wage:
        thresholds = fairpay.select(
            "worker_id", "platform", threshold="floor_per_hour"
        ).drop_nulls()
    listed = [
        skip_list(
            ledger,
            thresholds,
            by=[column],
            min_tasks=settings.pay.skip_min_tasks,
            samples=settings.pay.bootstrap_samples,
            confidence=settings.pay.confidence,
            seed=settings.pay.seed,
        )
        .rename({column: "name"})
        .with_columns(kind=pl.lit(kind))
        for kind, column in (("task type", "task_type"), ("project", "project_id"))
    ]
    return pl.concat(listed, how="vertical_relaxed").filter(pl.col("name").is_not_null())


def with_delays(wages: pl.DataFrame, inputs: PayInputs, by: list[str]) -> pl.DataFrame:
    """`wages` with the payment delays of the same groups."""
    delays = payment_delays(inputs.assignments, inputs.earnings, by)
    return wages.join(delays, on=by, how="left", nulls_equal=True)


def unattributed_by_worker(time_entries: pl.DataFrame) -> pl.DataFrame:
    """Tracked entries with no platform, per worker: how many and their hours."""
    return (
        time_entries.filter(pl.col("platform").is_null())
        .group_by("worker_id")
        .agg(entries=pl.len(), hours=pl.col("seconds").sum() / 3600)
        .sort("worker_id")
    )


def throughput_tables(inputs: PayInputs, settings: Settings) -> dict[str, pl.DataFrame]:
    """Throughput per worker and day (additive) and per task type (with the median)."""
    assignments = conform_input("assignments", inputs.assignments)
    tasks = task_active_seconds(assignments, settings.session_gap_minutes)
    daily_keys = ["worker_id", "platform", "project_id", "task_type", "day"]
    daily = summarise_throughput(tasks, daily_keys, median=False)
    by_type = summarise_throughput(tasks, ["platform", "task_type"]).join(
        tasks.group_by("platform", "task_type").agg(workers=pl.col("worker_id").n_unique()),
        on=["platform", "task_type"],
        how="left",
        nulls_equal=True,
    )
    hidden = pl.col("workers") < settings.min_group_size
    by_type = by_type.with_columns(
        median_seconds_per_task=pl.when(hidden).then(None).otherwise("median_seconds_per_task"),
        suppressed=hidden,
    )
    return {"throughput": daily, "task_seconds": by_type}


def page_wage_tables(ledger: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The Earnings page's tables over every worker and the whole period."""
    return {
        "wages_overall": summarise_wages(ledger, []),
        "wages_weekly": summarise_wages(ledger, ["platform", "week"]),
        "wages_task_types": summarise_wages(ledger, ["platform", "task_type"]),
        "wages_platforms": wages_across_workers(ledger, ["platform"]),
    }


def build(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Compute the earnings marts from the warehouse and write them as mart_earnings_*."""

    def query(sql: str, params: list[Any] | None) -> pl.DataFrame:
        return con.sql(sql, params=params).pl() if params else con.sql(sql).pl()

    inputs, notes = without_unpriceable(read_pay_inputs(query), settings.reporting_currency)
    ledger = ledger_for(inputs, settings)
    fairpay = floor_check(ledger, inputs, settings)
    platforms = wages_across_workers(ledger, ["platform"])
    hidden = pl.col("workers") < settings.min_group_size
    platforms = platforms.with_columns(
        pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c)
        for c in platforms.columns
        if c.startswith(("median_", "mean_", "pooled_"))
    ).with_columns(suppressed=hidden)
    tables = {
        "ledger": ledger,
        "by_worker": with_delays(
            summarise_wages(ledger, ["worker_id", "platform"]), inputs, ["worker_id", "platform"]
        ),
        "by_worker_week": summarise_wages(ledger, ["worker_id", "platform", "week"]),
        "by_worker_task_type": summarise_wages(ledger, ["worker_id", "platform", "task_type"]),
        "platforms": platforms,
        "delays": payment_delays(inputs.assignments, inputs.earnings, ["platform"]),
        "fairpay": fairpay,
        "skiplist": worker_skip_list(ledger, fairpay, settings),
        "unattributed": unattributed_by_worker(inputs.time_entries),
        "notes": pl.DataFrame({"note": notes}, schema={"note": pl.String}),
        **throughput_tables(inputs, settings),
        **page_wage_tables(ledger),
    }
    for name, frame in tables.items():
        write_mart(con, f"mart_earnings_{name}", frame, settings.reporting_currency)


def write_mart(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, currency: str
) -> None:
    """Replace `table` with `frame` (plus the reporting `currency` it is expressed in)."""
    con.register("mart_rows", frame.with_columns(currency=pl.lit(currency)))
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM mart_rows")
    finally:
        con.unregister("mart_rows")
