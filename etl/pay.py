"""Pay as a service: the warehouse rows effective hourly pay is computed from, and the ledger,
wage-floor check and skip list of `metrics.pay` and `metrics.fairpay` under the user's settings
(session gap, platform fees, reporting currency, thresholds).

The earnings marts (`etl.marts.earnings`) compute them for everybody at publish; the
`earnings` command and the dashboard compute them for a chosen worker or threshold when asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from etl.settings import Settings
from metrics.fairpay import below_floor_share, skip_list
from metrics.pay import pay_ledger, payment_delays

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
    kept, left_out = split_unpriceable(inputs, reporting_currency)
    return kept, unpriced_notes(left_out, reporting_currency)


def split_unpriceable(inputs: PayInputs, reporting_currency: str) -> tuple[PayInputs, pl.DataFrame]:
    """Inputs without money rows in currencies that have no rate, and how many rows each table
    left out per currency (`table`, `currency`, `rows`)."""
    rated = set(inputs.fx.get_column("currency").to_list())
    if reporting_currency not in rated:
        rated = {reporting_currency}  # nothing converts into it: count its own money only
    priceable = pl.col("currency").is_null() | pl.col("currency").is_in(sorted(rated))
    kept, left_out = {}, []
    for name in UNPRICEABLE_TABLES:
        frame = getattr(inputs, name)
        left_out.append(
            frame.filter(~priceable)
            .group_by("currency")
            .agg(rows=pl.len())
            .select(table=pl.lit(name), currency=pl.col("currency"), rows=pl.col("rows"))
        )
        kept[name] = frame.filter(priceable)
    return PayInputs(**{**inputs.__dict__, **kept}), pl.concat(left_out)


UNPRICEABLE_TABLES = ("assignments", "earnings")


def unpriced_notes(left_out: pl.DataFrame, reporting_currency: str) -> list[str]:
    """A note per table and currency of `split_unpriceable`'s counts (summed, so the counts of
    several groups of workers may be stacked)."""
    order = pl.col("table").replace_strict(
        {name: i for i, name in enumerate(UNPRICEABLE_TABLES)}, return_dtype=pl.Int64
    )
    totals = left_out.group_by("table", "currency").agg(pl.col("rows").sum())
    return [
        f"{rows} {name} rows in {currency} are left out of earnings: there is no exchange "
        f"rate from {currency} to {reporting_currency}. Add both to the fx rates CSV "
        "(etl/data/README.md) and ingest again."
        for name, currency, rows in totals.sort(order, "currency").iter_rows()
    ]


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
