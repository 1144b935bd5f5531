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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from etl.pay import (
    INPUT_SQL,
    REFERENCE_SQL,
    PayInputs,
    Query,
    floor_check,
    ledger_for,
    split_unpriceable,
    unpriced_notes,
    worker_skip_list,
)
from etl.settings import Settings
from etl.warehouse import memory_for_python, replace_table
from metrics.pay import (
    conform_input,
    delay_rows,
    summarise_delays,
    summarise_wages,
    unattributed_by_worker,
    wages_across_workers,
)
from metrics.sessions import summarise_throughput, task_active_seconds

# The columns one row of each table is unique on (a worker is a pseudonym on one platform).
WORKER_DAY = ("worker_id", "platform", "project_id", "task_type", "day")
GRAINS: dict[str, tuple[str, ...]] = {
    "mart_earnings_ledger": WORKER_DAY,
    "mart_earnings_by_worker": ("worker_id", "platform"),
    "mart_earnings_by_worker_week": ("worker_id", "platform", "week"),
    "mart_earnings_by_worker_task_type": ("worker_id", "platform", "task_type"),
    "mart_earnings_platforms": ("platform",),
    "mart_earnings_delays": ("platform",),
    "mart_earnings_fairpay": ("worker_id", "platform"),
    "mart_earnings_skiplist": ("worker_id", "platform", "kind", "name"),
    "mart_earnings_unattributed": ("worker_id",),
    "mart_earnings_notes": ("note",),
    "mart_earnings_throughput": WORKER_DAY,
    "mart_earnings_task_seconds": ("platform", "task_type"),
    "mart_earnings_wages_overall": (),  # one row
    "mart_earnings_wages_weekly": ("platform", "week"),
    "mart_earnings_wages_task_types": ("platform", "task_type"),
    "mart_earnings_wages_platforms": ("platform",),
}

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
        # one chunk, so that columns computed later line up without copying (see etl.marts.quality)
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
