"""Each configured pull source with its recorded state, for `crowdmeter status` and the
Pipeline page: read from `data_dir/pulls/status.json`, which every run of a source replaces
(a run that loads nothing publishes no snapshot; no Polars, no writer lock)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from etl.settings import Settings

STATUS_FILE = "status.json"
TIMES = ("last_started_at", "last_finished_at", "last_success_at", "next_run_at")

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


def status_path(settings: Settings) -> Path:
    """Where every run of a source writes out the sources' state (`etl.pulls.state`)."""
    return settings.pulls_dir / STATUS_FILE


def recorded_states(settings: Settings) -> list[dict[str, Any]]:
    """The sources' `pull_state` rows as the last run wrote them out (none before the first
    run); times as datetimes."""
    path = status_path(settings)
    try:
        rows = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except ValueError as exc:  # written atomically: only a hand-edited file gets here
        raise ValueError(
            f"{path} is no JSON list of pull states ({exc}); delete it, the next run of any "
            "source writes it again"
        ) from exc
    for row in rows:
        for column in TIMES:
            if row.get(column):
                row[column] = datetime.fromisoformat(row[column])
    return rows


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
