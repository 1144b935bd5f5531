"""The Overview page's figures: headline totals, weekly volume, projects, freshness."""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard.data import ScopedData
from dashboard.queries.shell import WORK_ROWS
from dashboard.url_state import Filters


def activity_totals(data: ScopedData, filters: Filters) -> dict[str, Any]:
    """Headline counts and rates over the viewer's scope and filters."""
    where = data.scope(filters)
    # workers and platforms: everyone with recorded work (WORK_ROWS), as on every page and in
    # `crowdmeter status`; projects and annotators: those with assignments
    people = data.frame(
        "SELECT count(DISTINCT platform)::BIGINT AS platforms, "
        "count(DISTINCT worker_id)::BIGINT AS workers "
        f"FROM ({WORK_ROWS}) {where.sql}",
        where.params,
    ).row(0, named=True)
    row = people | data.frame(
        "SELECT count(DISTINCT worker_id)::BIGINT AS annotators, "
        "count(DISTINCT platform || ':' || project_id)::BIGINT AS projects, "
        "coalesce(sum(assignments), 0)::BIGINT AS assignments, "
        "coalesce(sum(active_seconds), 0)::DOUBLE / 3600 AS active_hours, "
        "(sum(gold_correct) / NULLIF(sum(gold_answered), 0))::DOUBLE AS gold_accuracy, "
        "coalesce(sum(gold_answered), 0)::BIGINT AS gold_answered, "
        "(sum(rejected) / NULLIF(sum(reviewed), 0))::DOUBLE AS rejection_rate, "
        "coalesce(sum(reviewed), 0)::BIGINT AS reviewed, "
        "min(day) AS first_day, max(day) AS last_day "
        f"FROM mart_activity_daily {where.sql}",
        where.params,
    ).row(0, named=True)
    fewest = min((n for n in (row["workers"], row["annotators"]) if n), default=0)
    if data.suppresses_small_groups and 0 < fewest < data.min_group_size:
        # every figure, counts included: "1 worker, 206 assignments" is one worker's
        row = {key: None for key in row} | {"suppressed": True}
    return row


def weekly_activity(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Assignments and active workers per ISO week and platform."""
    where = data.scope(filters)
    frame = data.frame(
        "SELECT date_trunc('week', day)::DATE AS week, platform, "
        "sum(assignments)::BIGINT AS assignments, count(DISTINCT worker_id)::BIGINT AS workers "
        f"FROM mart_activity_daily {where.sql} GROUP BY ALL ORDER BY week, platform",
        where.params,
    )
    return data.suppress_small_groups(frame)


def project_summary(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """One row per project in scope: volume, workers, review and gold outcomes."""
    where = data.scope(filters)
    frame = data.frame(
        "SELECT a.platform, a.project_id, any_value(p.name) AS name, "
        "sum(a.assignments)::BIGINT AS assignments, "
        "count(DISTINCT a.worker_id)::BIGINT AS workers, "
        "(sum(a.approved) / NULLIF(sum(a.reviewed), 0))::DOUBLE AS approval_rate, "
        "(sum(a.gold_correct) / NULLIF(sum(a.gold_answered), 0))::DOUBLE AS gold_accuracy, "
        "sum(a.active_seconds)::DOUBLE / 3600 AS active_hours, "
        "min(a.day) AS first_day, max(a.day) AS last_day "
        f"FROM mart_activity_daily a LEFT JOIN mart_projects p USING (platform, project_id) "
        f"{where.sql} GROUP BY a.platform, a.project_id ORDER BY assignments DESC",
        where.params,
    )
    return data.suppress_small_groups(frame)


def freshness(data: ScopedData) -> dict[str, Any]:
    """Snapshot name, when the last successful run finished and the newest work in scope."""
    runs = data.frame(
        "SELECT max(finished_at) AS last_run_at FROM etl_runs "
        "WHERE status IN ('succeeded', 'partial')"
    ).row(0, named=True)
    where = data.scope(Filters())
    newest = data.frame(
        f"SELECT max(day) AS newest_day FROM mart_activity_daily {where.sql}", where.params
    ).row(0, named=True)
    return {"snapshot": data.reader.current_name(), **runs, **newest}
