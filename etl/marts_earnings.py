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

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from etl.settings import Settings
from etl.warehouse import memory_for_python, replace_table
from metrics.fairpay import below_floor_share, skip_list
from metrics.pay import (
    conform_input,
    delay_rows,
    pay_ledger,
    payment_delays,
    summarise_delays,
    summarise_wages,
    unattributed_by_worker,
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


# Assignments read and sessioned at a time: pay is computed per group of workers (sessions and
# the ledger never cross workers; delays and medians are taken over slim rows of every group),
# so memory stays bounded however many assignments the warehouse holds.
BUCKET_ASSIGNMENTS = 500_000
TYPE_KEYS = ["platform", "task_type"]
DELAY_KEYS = ["worker_id", "platform"]


@dataclass
class _Parts:
    """What each group of workers adds to the marts, gathered before they are combined."""

    ledger: list[pl.DataFrame] = field(default_factory=list)
    left_out: list[pl.DataFrame] = field(default_factory=list)  # unpriceable rows per currency
    delay_rows: list[pl.DataFrame] = field(default_factory=list)  # slim: delays and their medians
    daily: list[pl.DataFrame] = field(default_factory=list)
    tasks: list[pl.DataFrame] = field(default_factory=list)  # slim: for medians per task type
    type_workers: list[pl.DataFrame] = field(default_factory=list)
    unattributed: list[pl.DataFrame] = field(default_factory=list)

    def add(self, name: str, frame: pl.DataFrame) -> None:
        """Keep `frame` under `name`, copied into buffers of its own: a frame derived from a
        group's larger ones may share their buffers (string views, columns imported from
        Arrow without a copy), and keeping it would keep them all (at 5 million assignments
        the kept rows held on to about three times their size)."""
        buffer = io.BytesIO()
        frame.write_ipc(buffer)
        buffer.seek(0)
        getattr(self, name).append(pl.read_ipc(buffer))


def _add_bucket(parts: _Parts, inputs: PayInputs, settings: Settings) -> None:
    inputs, left_out = split_unpriceable(inputs, settings.reporting_currency)
    parts.add("left_out", left_out)
    parts.add("ledger", ledger_for(inputs, settings))
    rows = delay_rows(inputs.assignments, inputs.earnings, DELAY_KEYS)
    parts.add(
        "delay_rows",
        rows.select(pl.col(DELAY_KEYS).cast(pl.Categorical), "submitted", "paid_at", "earned"),
    )
    tasks = task_active_seconds(conform_input("assignments", inputs.assignments),
                                settings.session_gap_minutes)  # fmt: skip
    daily_keys = ["worker_id", "platform", "project_id", "task_type", "day"]
    parts.add("daily", summarise_throughput(tasks, daily_keys, median=False))
    # each worker is in one bucket: distinct workers add up over buckets
    parts.add("type_workers", tasks.group_by(TYPE_KEYS).agg(workers=pl.col("worker_id").n_unique()))
    parts.add(
        "tasks",
        tasks.select(
            pl.col(TYPE_KEYS).cast(pl.Categorical),
            pl.col("status").cast(pl.Categorical),
            "work_start",
            "active_seconds",
            "task_seconds",
        ),
    )
    parts.add("unattributed", unattributed_by_worker(inputs.time_entries))


def _task_seconds(parts: _Parts, settings: Settings) -> pl.DataFrame:
    """Per platform and task type: throughput with the median seconds per task."""
    # grouped on the categorical keys: they become text only in the few summary rows
    tasks = pl.concat(parts.tasks, how="vertical", rechunk=False)
    workers = pl.concat(parts.type_workers).group_by(TYPE_KEYS).agg(pl.col("workers").sum())
    by_type = (
        summarise_throughput(tasks, TYPE_KEYS)
        .with_columns(pl.col(TYPE_KEYS).cast(pl.String))
        .sort(TYPE_KEYS, nulls_last=True)
        .join(workers, on=TYPE_KEYS, how="left", nulls_equal=True, maintain_order="left")
    )
    hidden = pl.col("workers") < settings.min_group_size
    return by_type.with_columns(
        median_seconds_per_task=pl.when(hidden).then(None).otherwise("median_seconds_per_task"),
        suppressed=hidden,
    )


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
    with memory_for_python(con, settings):  # DuckDB only reads a group of workers at a time
        _build(con, settings)


def _build(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:

    def query(sql: str, params: list[Any] | None) -> pl.DataFrame:
        # one chunk, so that columns computed later line up without copying (see marts_quality)
        return (con.sql(sql, params=params) if params else con.sql(sql)).pl().rechunk()

    currency = settings.reporting_currency
    reference = {name: query(sql, None) for name, sql in REFERENCE_SQL.items()}
    workers = query(INPUT_SQL["workers"].format(where=""), None)
    parts = _Parts()
    for inputs in _worker_buckets(con, query, workers, reference):
        _add_bucket(parts, inputs, settings)
    notes = unpriced_notes(pl.concat(parts.left_out), currency)
    delays = pl.concat(parts.delay_rows, rechunk=False)  # the parts' own buffers, not a copy
    ledger = pl.concat(parts.ledger, how="vertical_relaxed")
    everyone = PayInputs(pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), workers, **reference)
    fairpay = floor_check(ledger, everyone, settings)
    platforms = wages_across_workers(ledger, ["platform"])
    hidden = pl.col("workers") < settings.min_group_size
    platforms = platforms.with_columns(
        pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c)
        for c in platforms.columns
        if c.startswith(("median_", "mean_", "pooled_"))
    ).with_columns(suppressed=hidden)
    by_worker = summarise_wages(ledger, DELAY_KEYS).join(
        _delays_by(delays, DELAY_KEYS),
        on=DELAY_KEYS,
        how="left",
        nulls_equal=True,
    )
    tables = {
        "ledger": ledger,
        "by_worker": by_worker,
        "by_worker_week": summarise_wages(ledger, ["worker_id", "platform", "week"]),
        "by_worker_task_type": summarise_wages(ledger, ["worker_id", "platform", "task_type"]),
        "platforms": platforms,
        "delays": _delays_by(delays, ["platform"]),
        "fairpay": fairpay,
        "skiplist": worker_skip_list(ledger, fairpay, settings),
        "unattributed": pl.concat(parts.unattributed).sort("worker_id"),
        "notes": pl.DataFrame({"note": notes}, schema={"note": pl.String}),
        "throughput": pl.concat(parts.daily, how="vertical_relaxed"),
        "task_seconds": _task_seconds(parts, settings),
        **page_wage_tables(ledger),
    }
    for name, frame in tables.items():
        write_mart(con, f"mart_earnings_{name}", frame, currency)


def _delays_by(rows: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """`summarise_delays` of the groups' stacked rows, grouped on their categorical keys (the
    keys become text only in the few summary rows)."""
    return summarise_delays(rows, by).with_columns(pl.col(by).cast(pl.String)).sort(by)


def _worker_buckets(
    con: duckdb.DuckDBPyConnection,
    query: Query,
    workers: pl.DataFrame,
    reference: dict[str, pl.DataFrame],
) -> Iterator[PayInputs]:
    """Pay's inputs one group of workers at a time (`BUCKET_ASSIGNMENTS` assignments or so):
    the assignments are sorted by group once, so each group is a range of one table."""
    total = con.sql("SELECT count(*) FROM assignments").fetchall()[0][0]
    n = max(1, -(-total // BUCKET_ASSIGNMENTS))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pay_assignments AS SELECT hash(worker_id) % ? AS bucket,"
        f" * FROM ({INPUT_SQL['assignments'].format(where='')}) ORDER BY bucket",
        [n],
    )
    where = "WHERE hash(worker_id) % ? = ?"
    try:
        for b in range(n):
            yield PayInputs(
                assignments=query(
                    "SELECT * EXCLUDE (bucket) FROM pay_assignments WHERE bucket = ?", [b]
                ),
                time_entries=query(INPUT_SQL["time_entries"].format(where=where), [n, b]),
                earnings=query(INPUT_SQL["earnings"].format(where=where), [n, b]),
                workers=workers,
                **reference,
            )
    finally:
        con.execute("DROP TABLE IF EXISTS pay_assignments")


def write_mart(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, currency: str
) -> None:
    """Replace `table` with `frame` (plus the reporting `currency` it is expressed in)."""
    rows = frame.with_columns(currency=pl.lit(currency))
    replace_table(con, table, "SELECT * FROM mart_rows", mart_rows=rows)
