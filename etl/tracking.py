"""Project tracking from a published snapshot: each project's plan (the `projects`, `milestones`
and `scope_changes` tables) and the project-tracking marts (`etl.marts.projects`) handed to
`metrics.project_tracking.track_project`. The one way the `forecast` and `alerts` commands, the
Project page and the project report get a project's figures, so they show the same numbers.

`query(sql, params)` runs one bound query on the snapshot (`SnapshotReader.frame`, or a page's
`ScopedData.frame`); `keys` ("PLATFORM:PROJECT_ID") limit the projects read (a manager's).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import polars as pl

from etl.errors import UserError
from etl.settings import Settings
from metrics.alerts import check_rules
from metrics.project_tracking import ProjectPlan, ProjectRecords, ProjectStatus, track_many

Query = Callable[[str, dict[str, Any] | None], pl.DataFrame]

KEY = "platform || ':' || project_id"
IN_KEYS = f"($keys::VARCHAR[] IS NULL OR list_contains($keys::VARCHAR[], {KEY}))"
PLANS_SQL = f"""
SELECT {KEY} AS project, name, starts_on, due_on, target_items, labels_per_item,
       budget::DOUBLE AS budget, gold_accuracy_target, agreement_target
FROM projects WHERE target_items IS NOT NULL AND {IN_KEYS} ORDER BY project
"""
MILESTONES_SQL = f"""
SELECT {KEY} AS project, name, due_on, target_items
FROM milestones WHERE {IN_KEYS} ORDER BY project, due_on, name
"""
SCOPE_CHANGES_SQL = f"""
SELECT {KEY} AS project, changed_on, target_items, reason
FROM scope_changes WHERE {IN_KEYS} ORDER BY project, changed_on
"""
# a snapshot published before migration 006 has no scope_changes table: no changes then
HAS_SCOPE_CHANGES_SQL = (
    "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'scope_changes'"
)
DAILY_SQL = f"""
SELECT {KEY} AS project, day, units, reviewed, rejected, rewards, bonuses, fees
FROM mart_project_daily WHERE {IN_KEYS}
"""
QUALITY_SQL = f"""
SELECT {KEY} AS project, metric, week, value, n
FROM mart_project_quality_weekly WHERE {IN_KEYS}
"""
HOURS_SQL = f"""
SELECT {KEY} AS project, worker_id, week, hours
FROM mart_project_weekly_hours WHERE {IN_KEYS}
"""
LAST_DAY_SQL = "SELECT max(day) AS last_day FROM mart_project_daily WHERE units > 0"


def read_plans(query: Query, keys: Sequence[str] | None = None) -> list[ProjectPlan]:
    """The plans of the projects that have a target (of `keys` only, when given)."""
    params = {"keys": None if keys is None else list(keys)}
    milestones = query(MILESTONES_SQL, params)
    changes = (
        query(SCOPE_CHANGES_SQL, params)
        if query(HAS_SCOPE_CHANGES_SQL, None)["n"][0]
        else pl.DataFrame(schema={"project": pl.String, "changed_on": pl.Date,
                                  "target_items": pl.Int64, "reason": pl.String})
    )  # fmt: skip
    milestones, changes = _split(milestones), _split(changes)
    plans = []
    for row in query(PLANS_SQL, params).iter_rows(named=True):
        mine, changed = milestones[row["project"]], changes[row["project"]]
        plans.append(
            ProjectPlan(
                project=row["project"],
                target_items=row["target_items"],
                # the marts count accepted items (docs/METRICS.md, "Burn-up"): scope in items
                labels_per_item=1,
                budget=row["budget"],
                starts_on=row["starts_on"],
                due_on=row["due_on"],
                milestones=list(mine.select("name", "due_on", "target_items").iter_rows()),
                quality_targets={
                    "gold_accuracy": row["gold_accuracy_target"],
                    "agreement": row["agreement_target"],
                },
                scope_changes=list(
                    changed.select("changed_on", "target_items", "reason").iter_rows()
                ),
            )
        )
    return plans


def latest_as_of(query: Query) -> date | None:
    """The default forecast date: the day after the newest accepted work in the snapshot (a
    forecast made today of data that ended weeks ago would read only zero days)."""
    last = query(LAST_DAY_SQL, None)["last_day"][0]
    return last + timedelta(days=1) if last is not None else None


def track_projects(
    query: Query,
    settings: Settings,
    keys: Sequence[str] | None = None,
    as_of: date | None = None,
) -> list[ProjectStatus]:
    """Every planned project's figures (of `keys` only, when given) as known on `as_of`
    (default `latest_as_of`): what was known on the days before it."""
    try:
        check_rules(settings.tracking.alerts)
    except ValueError as exc:
        raise UserError(f"[tracking] alerts in config.toml: {exc}") from None
    plans = read_plans(query, keys)
    as_of = as_of or latest_as_of(query)
    if not plans or as_of is None:
        return []
    params = {"keys": [plan.project for plan in plans]}
    # each frame split by project once (a filter per project and frame costs more than the
    # forecasts of 200 projects), of the days before `as_of`
    frames = {
        name: _split(query(sql, params).filter(pl.col(day) < as_of))
        for name, sql, day in (
            ("daily", DAILY_SQL, "day"),
            ("quality", QUALITY_SQL, "week"),
            ("hours", HOURS_SQL, "week"),
        )
    }
    tracking = settings.tracking
    return track_many(
        [project_records(plan, frames) for plan in plans],
        as_of,
        rules=tracking.alerts,
        window_days=tracking.window_days,
        runs=tracking.runs,
        seed=tracking.seed,
    )


def project_records(
    plan: ProjectPlan, frames: dict[str, dict[str, pl.DataFrame]]
) -> ProjectRecords:
    """One project's rows of the frames `track_projects` read, split by project."""
    mine = {name: parts[plan.project] for name, parts in frames.items()}
    daily = mine["daily"].sort("day")
    quality = _split(mine["quality"].select("metric", "week", "value", "n"), "metric")
    return ProjectRecords(
        plan,
        daily.select("day", "units"),
        spend=daily.select("day", "rewards", "bonuses", "fees"),
        quality={metric: quality[metric] for metric in ("gold_accuracy", "agreement")},
        reviews=daily.select("day", "reviewed", "rejected"),
        weekly_hours=mine["hours"],
    )


def _split(frame: pl.DataFrame, column: str = "project") -> defaultdict[str, pl.DataFrame]:
    """`frame`'s rows per value of `column` (which is dropped); an empty frame for a value with
    none."""
    empty = frame.clear().drop(column)
    parts = defaultdict(lambda: empty)
    for (value,), part in frame.partition_by(column, as_dict=True, include_key=False).items():
        parts[value] = part
    return parts
