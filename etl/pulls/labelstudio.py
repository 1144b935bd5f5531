"""The `labelstudio` kind: a project's annotations from Label Studio's export API, only the
tasks changed since the last pull.

Annotating, editing or deleting an annotation moves the task's `updated_at` (Label Studio
saves the task with the annotation). The pull keeps the newest `updated_at` it exported as its
cursor (in `pull_state`, moved only when the load succeeds) and asks the task list
(`GET /api/tasks` with a Data Manager filter on `tasks:updated_at`) for the tasks changed
since. None: the project is unchanged, and nothing is exported. Else those tasks are exported
(`GET /api/projects/{id}/export?exportType=JSON&ids[]=...`, `IDS_PER_EXPORT` to a request).
The first pull, with no cursor, exports the whole project. Each export is streamed to a
staging file, renamed when complete, and checked to be one JSON list before it is offered to
the importer (a server that cuts the body off without a Content-Length sends valid HTTP).

Tasks are listed by keyset, `updated_at` then id, from the last one seen (inclusive, so tasks
sharing a time are all seen): a task changed while the list is read moves to its end, and no
other task is skipped. A page that brings no new task (more tasks share one time than a page
holds) falls back to exporting the whole project.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl.pull_settings import LabelStudioPull
from etl.pulls.http import ApiClient, FetchFailed, records
from etl.pulls.labelstudio_auth import LabelStudioAuth

# Django refuses a query string of more than 1000 fields (DATA_UPLOAD_MAX_NUMBER_FIELDS).
IDS_PER_EXPORT = 500
# The Data Manager's datetime filter format (label_studio.data_manager.managers).
FILTER_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def fetch_project(
    pull: LabelStudioPull, staging: Path, cursor: str | None
) -> tuple[list[Path], str | None]:
    """The exports of the tasks changed since `cursor` (the whole project without one),
    complete, in `staging`, and the cursor to keep once they are loaded; no exports when
    nothing changed."""
    with ApiClient(pull, LabelStudioAuth(pull)) as api:
        newest = _tasks(api, pull, after=None, newest_first=True, limit=1)
        if not newest:
            return [], cursor  # a project with no tasks yet
        latest = _time(newest[0], pull)
        changed = None if cursor is None else _changed_since(api, pull, cursor)
        if changed is None:
            whole = _export(api, pull, staging, None, 0)
            return [whole] if whole is not None else [], latest
        if not changed:
            return [], cursor
        batches = [changed[i : i + IDS_PER_EXPORT] for i in range(0, len(changed), IDS_PER_EXPORT)]
        exports = [_export(api, pull, staging, ids, n) for n, ids in enumerate(batches)]
        return [path for path in exports if path is not None], max(latest, cursor)


def _changed_since(api: ApiClient, pull: LabelStudioPull, cursor: str) -> list[int] | None:
    """Ids of the tasks updated after `cursor`, oldest change first; None when the list cannot
    be walked by time (too many tasks share one)."""
    seen: dict[int, None] = {}
    after, inclusive = cursor, False
    while True:
        page = _tasks(api, pull, after=after, inclusive=inclusive, limit=pull.page_size)
        new = [task["id"] for task in page if task["id"] not in seen]
        seen.update(dict.fromkeys(new))
        if len(page) < pull.page_size:
            return list(seen)
        if not new:
            return None
        after, inclusive = _time(page[-1], pull), True


def _tasks(
    api: ApiClient,
    pull: LabelStudioPull,
    after: str | None,
    limit: int,
    inclusive: bool = False,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """One page of the project's tasks by `updated_at` (then id), from `after` if given."""
    query: dict[str, Any] = {
        "ordering": ["-tasks:updated_at", "-tasks:id"]
        if newest_first
        else ["tasks:updated_at", "tasks:id"]
    }
    if after is not None:
        item = {
            "filter": "filter:tasks:updated_at",
            "operator": "greater_or_equal" if inclusive else "greater",
            "type": "Datetime",
            "value": after,
        }
        query["filters"] = {"conjunction": "and", "items": [item]}
    params = {
        "project": pull.project,
        "fields": "task_only",
        "page": 1,
        "page_size": limit,
        "query": json.dumps(query),
    }
    body = api.get_json("/api/tasks", params)
    tasks = records(body, "tasks")
    if tasks is None:
        raise FetchFailed(
            f"pull {pull.name}: Label Studio's task list of project {pull.project} is no "
            '{"tasks": [...]}; check the url and the project id'
        )
    return tasks


def _time(task: dict[str, Any], pull: LabelStudioPull) -> str:
    """A task's `updated_at` in the filter's format (UTC, microseconds), which also sorts."""
    try:
        when = datetime.fromisoformat(str(task["updated_at"]))
    except (KeyError, ValueError) as exc:
        raise FetchFailed(
            f"pull {pull.name}: Label Studio listed task {task.get('id')} with no readable "
            f"updated_at ({exc}); this version of Label Studio is not supported"
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime(FILTER_TIME)


def _export(
    api: ApiClient, pull: LabelStudioPull, staging: Path, ids: list[int] | None, n: int
) -> Path | None:
    """One export (the tasks `ids`, or the whole project), complete, checked, in `staging`;
    None when it holds no task (the changed tasks have no annotation yet: nothing to load)."""
    target = staging / f"labelstudio_project_{pull.project}_{n}.json"
    params: dict[str, Any] = {"exportType": "JSON"}
    if ids is not None:
        params["ids[]"] = ids
    api.download(f"/api/projects/{pull.project}/export", params, target)
    try:
        with target.open("rb") as fh:
            tasks = json.load(fh)
    except ValueError as exc:
        target.unlink()
        raise FetchFailed(
            f"pull {pull.name}: the export of project {pull.project} is no complete JSON "
            f"document ({exc}); the next run downloads it again"
        ) from exc
    if not isinstance(tasks, list):
        target.unlink()
        raise FetchFailed(
            f"pull {pull.name}: the export of project {pull.project} is no list of tasks; "
            "check the url and the project id"
        )
    if not tasks:
        target.unlink()
        return None
    return target
