"""The Project page's figures: the viewer's planned projects, one project's tracking figures (the
same `etl.tracking` computation as `crowdmeter forecast` and `alerts`), its annotators and its
weekly workforce, each read through the viewer's row scope."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl

from dashboard.access import NotAllowed
from dashboard.data import ScopedData
from dashboard.url_state import Filters
from etl.tracking import track_projects
from metrics.project_tracking import ProjectStatus

KEY = "platform || ':' || project_id"


def _project_scope(data: ScopedData, filters: Filters) -> tuple[str, dict]:
    """The viewer's projects under the platform and project filters (dates set the forecast
    day, not the rows)."""
    data.ensure("project-tracking")
    where = data.scope(replace(filters, start=None, end=None), day=None, worker=None)
    return where.sql, where.params


def planned_projects(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """The planned projects (with a target) the viewer may see: `project` key and `name`."""
    sql, params = _project_scope(data, filters)
    clause = f"{sql} AND target_items IS NOT NULL" if sql else "WHERE target_items IS NOT NULL"
    return data.frame(
        f"SELECT {KEY} AS project, coalesce(name, project_id) AS name FROM projects {clause} "
        "ORDER BY project",
        params,
    )


def focused_project(data: ScopedData, filters: Filters) -> str | None:
    """The project the URL's focus names, when the viewer may see it; else their first."""
    keys = planned_projects(data, filters)["project"].to_list()
    if not keys:
        return None
    return filters.focus if filters.focus in keys else keys[0]


def forecast_day(filters: Filters) -> date | None:
    """The forecast is made on the day after the date range's end (default: after the newest
    work), so a past forecast can be set against what happened since."""
    return filters.end + timedelta(days=1) if filters.end else None


def project_status(data: ScopedData, filters: Filters, project: str) -> ProjectStatus:
    """One project's tracking figures; NotAllowed for a project outside the viewer's scope."""
    if project not in planned_projects(data, filters)["project"].to_list():
        raise NotAllowed("That project is not one of the projects you may see.")
    as_of = forecast_day(filters)

    def compute() -> ProjectStatus:
        return track_projects(data.frame, data.settings, [project], as_of)[0]

    return data.memo("project-status", {"project": project, "as_of": as_of}, compute)


def _one_project(data: ScopedData, filters: Filters, table: str, order: str) -> pl.DataFrame:
    project = focused_project(data, filters)
    if project is None:
        return pl.DataFrame()
    sql, params = _project_scope(data, Filters())
    clause = f"{sql} AND {KEY} = $project" if sql else f"WHERE {KEY} = $project"
    return data.frame(
        f"SELECT * EXCLUDE (platform, project_id) FROM {table} {clause} ORDER BY {order}",
        params | {"project": project},
    )


def annotators(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """The focused project's annotators: speed, hours, accuracy and flags (slowest first)."""
    data.ensure("per-worker-rows")
    return _one_project(
        data, filters, "mart_project_annotators", "below_bar DESC, slowing DESC, tasks DESC"
    )


def workforce_weekly(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """The focused project's active annotators per week, with those who joined and left."""
    return _one_project(data, filters, "mart_project_workforce_weekly", "week")
