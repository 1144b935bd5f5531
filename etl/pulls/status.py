"""Each configured pull source with its recorded state, for `crowdmeter status` and the
Pipeline page: read from a published snapshot (no Polars, no writer lock)."""

from __future__ import annotations

from typing import Any

from etl.settings import Settings

PULLS_SQL = "SELECT * FROM pull_state ORDER BY name"
# `pull_state` arrived with migration 003: a snapshot published before it has none.
HAS_PULLS_SQL = (
    "SELECT count(*) > 0 AS present FROM duckdb_tables() WHERE table_name = 'pull_state'"
)

COLUMNS = (
    "name",
    "kind",
    "schedule",
    "last_result",
    "last_finished_at",
    "files_loaded",
    "rows_loaded",
    "next_run_at",
    "failures_in_a_row",
    "last_success_at",
    "error",
    "notes",
)


def source_statuses(settings: Settings, recorded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per `[[pulls]]` source of config.toml, in its order, with its recorded state
    (`recorded`: the rows of `pull_state`); a source that has not run yet says 'never run'."""
    by_name = {row["name"]: row for row in recorded}
    statuses = []
    for pull in settings.pulls:
        row = {column: by_name.get(pull.name, {}).get(column) for column in COLUMNS}
        row |= {"name": pull.name, "kind": pull.kind, "schedule": pull.schedule}
        row["last_result"] = row["last_result"] or "never run"
        statuses.append(row)
    return statuses


def failing(status: dict[str, Any]) -> str | None:
    """A loud line for a source whose newest run failed, else None."""
    if status["last_result"] != "failed":
        return None
    since = status["last_success_at"] or "it first ran"
    runs = status["failures_in_a_row"]
    return (
        f"pull {status['name']} FAILING: {runs} run{'s' if runs != 1 else ''} in a row, "
        f"no success since {since}: {status['error']}"
    )
