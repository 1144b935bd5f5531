"""Project-tracking marts: what `metrics.project_tracking.track_project` and the Project page read
per project, computed once at publish so that the `forecast` and `alerts` commands, the Project
page and the project report read the same published tables (docs/METRICS.md, "Project
tracking"; `etl.tracking` turns their rows into a project's figures).

Tables:

- `mart_project_daily`: project x UTC day: `units`, the items accepted that day (an item counts
  once, on the day of its first accepted label: an approved assignment, or a submitted one in
  a project that has no review at all), `accepted_labels`, `completed` (submitted, approved,
  rejected assignments),
  `reviewed`, `rejected`, and the requester's `rewards`, `bonuses` and `fees` of the work paid
  that day (approved, or submitted and paid), in the reporting currency;
- `mart_project_quality_weekly`: project x metric x week: `gold_accuracy` (from
  `mart_quality_annotators`) and `agreement` (`[tracking] agreement_coefficient` of
  `mart_quality_agreement_weekly`, over fields weighted by units), with the `n` behind each;
- `mart_project_annotators`: project x worker (`metrics.workforce.annotator_table` as of the
  project's last day, with gold accuracy and agreement with the others' majority), a task's
  active time being the platform's own, else its share of the worker's session;
- `mart_project_weekly_hours`: project x worker x week: active hours and tasks;
- `mart_project_workforce_weekly`: project x week: active annotators, joined, left, returned,
  churn.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from etl.marts.earnings import write_mart
from etl.pay import REFERENCE_SQL
from etl.settings import Settings
from etl.warehouse import memory_for_python, replace_table
from metrics.currency import to_reporting_currency
from metrics.pay import conform_input
from metrics.sessions import COMPLETED as COMPLETED_STATUSES
from metrics.sessions import task_active_seconds
from metrics.workforce import Bars, annotator_table, weekly_active, weekly_hours

PROJECT = ("platform", "project_id")
UTC_TIME = pl.Datetime("us", "UTC")
GRAINS: dict[str, tuple[str, ...]] = {
    "mart_project_daily": (*PROJECT, "day"),
    "mart_project_quality_weekly": (*PROJECT, "metric", "week"),
    "mart_project_annotators": (*PROJECT, "worker_id"),
    "mart_project_weekly_hours": (*PROJECT, "worker_id", "week"),
    "mart_project_workforce_weekly": (*PROJECT, "week"),
}

# The day of a piece of work, as in mart_activity_daily.
WORK_DAY = "timezone('UTC', coalesce(a.submitted_at, a.started_at))::DATE"
COMPLETED = "('submitted', 'approved', 'rejected')"
ACCEPTED = "(a.status = 'approved' OR (a.status = 'submitted' AND NOT r.has_review))"
UNITS_SQL = f"""
WITH reviewing AS (
    SELECT platform, project_id, bool_or(status IN ('approved', 'rejected')) AS has_review
    FROM assignments GROUP BY ALL
), work AS (
    SELECT a.platform, a.project_id, a.item_id, a.status, {WORK_DAY} AS day,
           {ACCEPTED} AS accepted
    FROM assignments a JOIN reviewing r USING (platform, project_id)
    WHERE {WORK_DAY} IS NOT NULL
), first_accepted AS (
    SELECT platform, project_id, min(day) AS day
    FROM work WHERE accepted GROUP BY platform, project_id, item_id
), items AS (
    SELECT platform, project_id, day, count(*)::BIGINT AS units FROM first_accepted GROUP BY ALL
), counts AS (
    SELECT platform, project_id, day,
           count(*) FILTER (WHERE accepted)::BIGINT AS accepted_labels,
           count(*) FILTER (WHERE status IN {COMPLETED})::BIGINT AS completed,
           count(*) FILTER (WHERE status IN ('approved', 'rejected'))::BIGINT AS reviewed,
           count(*) FILTER (WHERE status = 'rejected')::BIGINT AS rejected
    FROM work GROUP BY ALL
)
SELECT platform, project_id, day, coalesce(i.units, 0)::BIGINT AS units, c.accepted_labels,
       c.completed, c.reviewed, c.rejected
FROM counts c LEFT JOIN items i USING (platform, project_id, day)
"""
# Paid work as the pay ledger counts it (metrics.ledger): approved, or submitted and paid; on
# the day it was paid (else reviewed, else worked), converted at that day's rate.
SPEND_SQL = """
SELECT a.platform, a.project_id,
       timezone('UTC', coalesce(a.paid_at, a.reviewed_at, a.submitted_at, a.started_at))::DATE
           AS day,
       coalesce(a.currency, 'USD') AS currency,
       coalesce(sum(a.reward), 0)::DOUBLE AS rewards,
       coalesce(sum(a.bonus), 0)::DOUBLE AS bonuses
FROM assignments a
WHERE (a.status = 'approved' OR (a.status = 'submitted' AND a.paid_at IS NOT NULL))
  AND coalesce(a.paid_at, a.reviewed_at, a.submitted_at, a.started_at) IS NOT NULL
GROUP BY ALL
"""
GOLD_SQL = """
SELECT platform, project_id, 'gold_accuracy' AS metric, week,
       (sum(gold_correct) / NULLIF(sum(gold_answered), 0))::DOUBLE AS value,
       sum(gold_answered)::BIGINT AS n
FROM mart_quality_annotators GROUP BY ALL HAVING sum(gold_answered) > 0
"""
AGREEMENT_SQL = """
SELECT platform, project_id, 'agreement' AS metric, week,
       (sum(value * n_units) / NULLIF(sum(n_units) FILTER (WHERE value IS NOT NULL), 0))::DOUBLE
           AS value,
       sum(n_units) FILTER (WHERE value IS NOT NULL)::BIGINT AS n
FROM mart_quality_agreement_weekly WHERE coefficient = ? GROUP BY ALL
"""
# A platform's assignments at a time: work sessions run across a worker's projects there.
TASKS_SQL = """
SELECT a.worker_id, a.platform, a.project_id, a.task_type, a.started_at, a.submitted_at,
       a.active_seconds, a.status, a.reward, a.bonus, a.currency, a.reviewed_at, a.paid_at
FROM assignments a WHERE a.platform = ?
"""
ANNOTATOR_QUALITY_SQL = """
SELECT worker_id,
       (sum(gold_correct) / NULLIF(sum(gold_answered), 0))::DOUBLE AS accuracy,
       (sum(consensus_agree) / NULLIF(sum(consensus_compared), 0))::DOUBLE AS agreement
FROM mart_quality_annotators WHERE platform = ? AND project_id = ? GROUP BY worker_id
"""
TARGETS_SQL = "SELECT platform, project_id, gold_accuracy_target FROM projects"


def build(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Compute the project-tracking marts from the warehouse and the quality marts."""
    with memory_for_python(con, settings):
        _build(con, settings)


def _build(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    write_mart(con, "mart_project_daily", project_daily(con, settings), settings.reporting_currency)
    quality = pl.concat(
        [
            con.sql(GOLD_SQL).pl(),
            con.sql(AGREEMENT_SQL, params=[settings.tracking.agreement_coefficient]).pl(),
        ]
    ).filter(pl.col("value").is_not_null())
    replace_table(con, "mart_project_quality_weekly", "SELECT * FROM mart_rows", mart_rows=quality)
    for name, frame in workforce(con, settings).items():
        replace_table(con, f"mart_project_{name}", "SELECT * FROM mart_rows", mart_rows=frame)


def project_daily(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.DataFrame:
    """Accepted units, reviews and the requester's spend per project and day."""
    units = con.sql(UNITS_SQL).pl()
    paid = con.sql(SPEND_SQL).pl()
    fx = con.sql(REFERENCE_SQL["fx"]).pl()
    rated = set(fx["currency"].to_list()) | {settings.reporting_currency}
    paid = to_reporting_currency(
        paid.filter(pl.col("currency").is_in(sorted(rated))),
        ["rewards", "bonuses"],
        fx,
        settings.reporting_currency,
        day="day",
    )
    fee_rate = pl.col("platform").replace_strict(
        settings.tracking.requester_fee_rate, default=0.0, return_dtype=pl.Float64
    )
    spend = (
        paid.group_by(*PROJECT, "day")
        .agg(pl.col("rewards").sum(), pl.col("bonuses").sum())
        .with_columns(fees=(pl.col("rewards") + pl.col("bonuses")) * fee_rate)
    )
    counts = ["units", "accepted_labels", "completed", "reviewed", "rejected"]
    return (
        units.join(spend, on=[*PROJECT, "day"], how="full", coalesce=True)
        .with_columns(
            pl.col(counts).fill_null(0).cast(pl.Int64),
            pl.col("rewards", "bonuses", "fees").fill_null(0.0),
        )
        .sort(*PROJECT, "day")
    )


def workforce(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, pl.DataFrame]:
    """Per project: the annotator table, weekly hours and weekly active annotators, over the
    completed tasks with their active time (the platform's, else their share of the worker's
    session on that platform: docs/METRICS.md, "Throughput")."""
    targets = {(p, i): t for p, i, t in con.sql(TARGETS_SQL).fetchall() if t is not None}
    platforms = [
        p for (p,) in con.sql("SELECT DISTINCT platform FROM assignments ORDER BY 1").fetchall()
    ]
    parts: dict[str, list[pl.DataFrame]] = {"annotators": [], "weekly_hours": [],
                                            "workforce_weekly": []}  # fmt: skip
    for platform in platforms:
        timed = task_active_seconds(
            conform_input("assignments", con.sql(TASKS_SQL, params=[platform]).pl()),
            settings.session_gap_minutes,
        ).filter(pl.col("status").is_in(COMPLETED_STATUSES))
        for (project_id,), rows in timed.group_by(["project_id"]):
            tasks = rows.select("worker_id", submitted_at="work_end", active_seconds="task_seconds")
            key = [platform, project_id]
            quality = con.sql(ANNOTATOR_QUALITY_SQL, params=key).pl()
            bars = Bars(accuracy=targets.get((platform, project_id)))
            last_day = tasks["submitted_at"].max().date()
            for name, frame in _workforce_frames(tasks, last_day, quality, bars).items():
                parts[name].append(_tagged(frame, platform, project_id))
    if not parts["annotators"]:
        # no completed work yet (plans loaded first): empty marts with every column, so the
        # readers' queries run
        no_tasks = pl.DataFrame(schema={"worker_id": pl.String, "submitted_at": UTC_TIME,
                                        "active_seconds": pl.Float64})  # fmt: skip
        no_quality = con.sql(ANNOTATOR_QUALITY_SQL, params=[None, None]).pl()
        empty = _workforce_frames(no_tasks, date(1970, 1, 1), no_quality, Bars())
        return {name: _tagged(frame, None, None) for name, frame in empty.items()}
    return {name: pl.concat(frames, how="diagonal_relaxed") for name, frames in parts.items()}


def _workforce_frames(
    tasks: pl.DataFrame, last_day: date, quality: pl.DataFrame, bars: Bars
) -> dict[str, pl.DataFrame]:
    table = annotator_table(tasks, last_day, quality, bars).with_columns(
        reasons=pl.col("reasons").list.join("; ")
    )
    return {
        "annotators": table,
        "weekly_hours": weekly_hours(tasks),
        "workforce_weekly": weekly_active(tasks),
    }


def _tagged(frame: pl.DataFrame, platform: str | None, project_id: str | None) -> pl.DataFrame:
    return frame.select(
        pl.lit(platform, pl.String).alias("platform"),
        pl.lit(project_id, pl.String).alias("project_id"),
        *frame.columns,
    )
