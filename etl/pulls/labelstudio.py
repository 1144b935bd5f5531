"""The `labelstudio` kind: a project's annotations from Label Studio's export API.

`GET /api/projects/{id}/export?exportType=JSON` with `Authorization: Token ...` is streamed to
a staging file, renamed when complete, and checked to be one JSON list before it is offered
to the importer (a server that cuts the body off without a Content-Length sends valid HTTP).
"""

from __future__ import annotations

import json
from pathlib import Path

from etl.pull_settings import LabelStudioPull
from etl.pulls.http import ApiClient, FetchFailed


def fetch_project(pull: LabelStudioPull, staging: Path) -> Path:
    """The project's JSON export, complete, in `staging`."""
    target = staging / f"labelstudio_project_{pull.project}.json"
    with ApiClient(pull, f"Token {pull.token()}") as api:
        api.download(f"/api/projects/{pull.project}/export", {"exportType": "JSON"}, target)
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
    return target
