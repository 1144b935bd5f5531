"""The `toloka` kind: a pool's assignments from Toloka's API, as the TSV its importer reads.

`GET /assignments?pool_id=...&status=...&sort=id&id_gt=...` returns pages of
`{"items": [...], "has_more": bool}`; each page is appended to a staging JSON-lines file as it
arrives, and only when the last page is in is the TSV written (as `.part`, then renamed), one
row per task of each assignment, in the columns of Toloka's own TSV download. Times in the API
are UTC, and are written with their offset so the source's time zone does not shift them.

The token goes in `Authorization: ApiKey <key>` for an API key (what Toloka issues now, from
Profile, Integrations) or `Authorization: OAuth <token>` for an older OAuth token (the pull's
`auth_scheme`); a refused token's error names the other scheme.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from etl.pull_settings import TolokaPull
from etl.pulls.http import ApiClient, FetchFailed, records

TIMES = {
    "created": "started",
    "submitted": "submitted",
    "accepted": "accepted",
    "rejected": "rejected",
}


def fetch_pool(pull: TolokaPull, staging: Path) -> Path:
    """Every assignment of the pool in the chosen statuses, as a complete TSV in `staging`."""
    pages = staging / "assignments.jsonl"
    api = ApiClient(pull, f"{pull.auth_scheme} {pull.token()}", _other_scheme(pull))
    with api, pages.open("w") as out:
        last_id = None
        while True:
            params = {
                "pool_id": pull.pool,
                "status": ",".join(pull.status),
                "sort": "id",
                "limit": pull.page_size,
            }
            if last_id is not None:
                params["id_gt"] = last_id
            page = api.get_json("/assignments", params)
            items = _items(page, pull)
            for item in items:
                out.write(json.dumps(item) + "\n")
            if not page.get("has_more") or not items:
                break
            last_id = items[-1]["id"]
    target = staging / f"toloka_pool_{pull.pool}.tsv"
    write_tsv(pages, target, pull.pool)
    pages.unlink()
    return target


def _other_scheme(pull: TolokaPull) -> str:
    """What to try when Toloka refuses the token: it may be of the other kind."""
    if pull.auth_scheme == "ApiKey":
        return '; an OAuth token (the older kind) needs auth_scheme = "OAuth"'
    return '; an API key (Profile, Integrations) needs auth_scheme = "ApiKey"'


def _items(page: Any, pull: TolokaPull) -> list[dict]:
    items = records(page, "items")
    if items is None:
        raise FetchFailed(
            f"pull {pull.name}: Toloka answered with no list of assignments (expected "
            '{"items": [...], "has_more": ...}); check the url'
        )
    return items


def task_rows(assignment: dict, pool: str) -> list[dict[str, str]]:
    """One TSV row per task of the assignment: INPUT:, OUTPUT:, GOLDEN: and ASSIGNMENT: columns."""
    tasks = assignment.get("tasks") or []
    solutions = assignment.get("solutions") or []
    rows = []
    for index, task in enumerate(tasks):
        row = {f"INPUT:{k}": _text(v) for k, v in (task.get("input_values") or {}).items()}
        solution = solutions[index] if index < len(solutions) else {}
        row |= {f"OUTPUT:{k}": _text(v) for k, v in (solution.get("output_values") or {}).items()}
        known = task.get("known_solutions") or []
        if known:
            gold = known[0].get("output_values") or {}
            row |= {f"GOLDEN:{k}": _text(v) for k, v in gold.items()}
        row |= {
            "ASSIGNMENT:link": f"https://platform.toloka.ai/task/{pool}/{assignment['id']}",
            "ASSIGNMENT:task_id": str(task.get("id", "")),
            "ASSIGNMENT:assignment_id": str(assignment["id"]),
            "ASSIGNMENT:worker_id": str(assignment.get("user_id", "")),
            "ASSIGNMENT:status": str(assignment.get("status", "")),
            "ASSIGNMENT:reward": _text(assignment.get("reward")),
        }
        for field, column in TIMES.items():
            row[f"ASSIGNMENT:{column}"] = _utc(assignment.get(field))
        rows.append(row)
    return rows


def write_tsv(pages: Path, target: Path, pool: str) -> None:
    """The staged assignments as Toloka's TSV: `target.part` written, fsynced, renamed."""
    columns: dict[str, None] = {}
    with pages.open() as lines:  # first pass: the columns, in order of first appearance
        for line in lines:
            for row in task_rows(json.loads(line), pool):
                columns.update(dict.fromkeys(row))
    part = target.with_name(target.name + ".part")
    with pages.open() as lines, part.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(columns), delimiter="\t")
        writer.writeheader()
        for line in lines:
            writer.writerows(task_rows(json.loads(line), pool))
        out.flush()
        os.fsync(out.fileno())
    os.replace(part, target)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _utc(value: Any) -> str:
    """An API time (UTC, with or without an offset) with an explicit offset."""
    if not value:
        return ""
    text = str(value)
    has_offset = text.endswith("Z") or "+" in text[10:] or "-" in text[10:]
    return text if has_offset else text + "+00:00"
