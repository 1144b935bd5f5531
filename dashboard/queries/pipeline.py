"""The Pipeline page's tables: runs, files, rejected records and freshness by source, over the
files the viewer may see."""

from __future__ import annotations

import polars as pl

from dashboard.access import Where, with_platforms
from dashboard.data import GRID_ROWS, ScopedData
from dashboard.url_state import Filters
from etl.pulls.status import COLUMNS, recorded_states, source_statuses


def file_scope(data: ScopedData, filters: Filters) -> Where:
    """Files the viewer may see: a manager only files that brought rows for their projects."""
    data.ensure("pipeline")
    where = Where()
    if data.scope_kind == "projects":
        where.add(
            "f.file_id IN (SELECT file_id FROM mart_file_projects WHERE list_contains("
            "$scope_projects::VARCHAR[], platform || ':' || project_id))",
            scope_projects=data.viewer.project_keys,
        )
    with_platforms(where, filters, "f.source")
    if filters.projects:
        where.add(
            "f.file_id IN (SELECT file_id FROM mart_file_projects WHERE list_contains("
            "$projects::VARCHAR[], platform || ':' || project_id))",
            projects=list(filters.projects),
        )
    if filters.start:
        where.add("timezone('UTC', r.started_at)::DATE >= $start", start=filters.start)
    if filters.end:
        where.add("timezone('UTC', r.started_at)::DATE <= $end", end=filters.end)
    return where


def reject_scope(data: ScopedData, filters: Filters) -> Where:
    """Files whose rejected records the viewer may read: for a manager, files that brought
    rows for their projects only (a rejected record names no project, so one of a file that
    also fed other projects may be another project's)."""
    where = file_scope(data, filters)
    if data.scope_kind == "projects":
        where.add(
            "f.file_id NOT IN (SELECT file_id FROM mart_file_projects WHERE NOT list_contains("
            "$scope_projects::VARCHAR[], platform || ':' || project_id))",
            scope_projects=data.viewer.project_keys,
        )
    return where


def pipeline_runs(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """One row per ETL run with its files and row counts (files in scope only)."""
    where = file_scope(data, filters)
    return data.frame(
        "SELECT r.run_id, r.trigger, r.status, r.started_at, r.finished_at, "
        "count(f.file_id)::BIGINT AS files, "
        "count(f.file_id) FILTER (WHERE f.status = 'failed')::BIGINT AS failed_files, "
        "coalesce(sum(f.rows_read), 0)::BIGINT AS rows_read, "
        "coalesce(sum(f.rows_inserted), 0)::BIGINT AS rows_inserted, "
        "coalesce(sum(f.rows_updated), 0)::BIGINT AS rows_updated, "
        "coalesce(sum(f.rows_rejected), 0)::BIGINT AS rows_rejected "
        f"FROM etl_runs r JOIN etl_files f USING (run_id) {where.sql} "
        "GROUP BY ALL ORDER BY r.run_id DESC",
        where.params,
    )


def pipeline_files(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """One row per input file with its counts, status and error."""
    where = file_scope(data, filters)
    return data.frame(
        "SELECT f.file_id, f.run_id, f.source, f.format, f.path, f.status, f.rows_read, "
        "f.rows_inserted, f.rows_updated, f.rows_rejected, f.loaded_at, f.error, f.sha256 "
        f"FROM etl_files f JOIN etl_runs r USING (run_id) {where.sql} "
        "ORDER BY f.file_id DESC",
        where.params,
    )


def pipeline_rejects(
    data: ScopedData, filters: Filters, limit: int | None = GRID_ROWS
) -> pl.DataFrame:
    """Quarantined records with their file and reason (`limit` None for all of them)."""
    where = reject_scope(data, filters)
    params = dict(where.params)
    limit_sql = ""
    if limit is not None:
        limit_sql, params["limit"] = "LIMIT $limit", int(limit)
    return data.frame(
        "SELECT x.file_id, f.path, f.source, x.record_no, x.reason, x.raw "
        f"FROM etl_rejects x JOIN etl_files f USING (file_id) JOIN etl_runs r USING (run_id) "
        f"{where.sql} ORDER BY x.file_id DESC, x.record_no {limit_sql}",
        params,
    )


def all_rejects(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Every quarantined record in view (the download of the rejects table)."""
    return pipeline_rejects(data, filters, limit=None)


def reject_reasons(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Rejected records counted by reason, most frequent first."""
    where = reject_scope(data, filters)
    return data.frame(
        "SELECT x.reason, count(*)::BIGINT AS records, count(DISTINCT x.file_id)::BIGINT "
        "AS files FROM etl_rejects x JOIN etl_files f USING (file_id) "
        f"JOIN etl_runs r USING (run_id) {where.sql} GROUP BY 1 ORDER BY records DESC",
        where.params,
    )


def source_freshness(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Per source platform: last load, newest work, failed files and reject rate."""
    files = file_scope(data, filters)
    work = data.scope(Filters(platforms=filters.platforms, projects=filters.projects))
    return data.frame(
        "WITH files AS (SELECT coalesce(f.source, 'unknown') AS platform, "
        "count(*)::BIGINT AS files, "
        "count(*) FILTER (WHERE f.status = 'failed')::BIGINT AS failed_files, "
        "sum(f.rows_read)::BIGINT AS rows_read, sum(f.rows_rejected)::BIGINT AS rows_rejected, "
        "max(f.loaded_at) FILTER (WHERE f.status <> 'failed') AS last_loaded_at "
        f"FROM etl_files f JOIN etl_runs r USING (run_id) {files.sql} GROUP BY 1), "
        "work AS (SELECT platform, max(day) AS newest_work_day "
        f"FROM mart_activity_daily {work.sql} GROUP BY 1) "
        "SELECT files.*, (rows_rejected / NULLIF(rows_read, 0))::DOUBLE AS reject_rate, "
        "work.newest_work_day FROM files LEFT JOIN work USING (platform) ORDER BY platform",
        {**files.params, **work.params},
    )


def pull_sources(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Each `[[pulls]]` source of config.toml with its newest run and its next (admins: a
    source feeds many projects, and its errors name paths and URLs)."""
    data.ensure("pull-sources")
    statuses = source_statuses(data.settings, recorded_states(data.settings))
    return pl.DataFrame(statuses) if statuses else pl.DataFrame(schema=list(COLUMNS))
