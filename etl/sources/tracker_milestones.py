"""Milestones from planning tools' CSV exports (Asana, Jira): what the two importers share.

A task or issue of the export is a milestone when it has a due date and a target (a "Target
items" column, else a count written in its name like "Main batch: 5,000 items"); other rows
are plain tasks and are skipped with a note. Each milestone belongs to the Crowdmeter projects
its tracker project maps to (`[sources.<format>] projects`, "PLATFORM:PROJECT_ID"), or to
--platform and --project for the whole file. Rejects keep only the columns read, never the
export's assignees.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from etl.sources import csvfiles
from etl.sources.base import ParseResult, SourceOptions, UnreadableFile, rejects_frame
from etl.sources.common import parse_count
from etl.sources.records import frame_of

# Where a target count may be (header names as the exports spell them, lower-cased).
TARGET_COLUMNS = ("target items", "target_items", "custom field (target items)")
TARGET_IN_NAME = re.compile(r"(\d[\d,]*)\s*items?\b", re.IGNORECASE)


@dataclass(frozen=True)
class TrackerRow:
    """What a milestone needs from one row, as text: None where the row leaves it empty."""

    name: str | None
    due: str | None
    target: str | None  # `target_text` of the row
    projects: list[str]  # the tracker projects the row belongs to, best match first


RowReader = Callable[[dict[str, str | None]], TrackerRow]
DueParser = Callable[[str], date]


def sniff_header(head: bytes, columns: set[str]) -> bool:
    """True when the CSV header in `head` has all `columns` (case-insensitive)."""
    header = csvfiles.template_header(csvfiles.header_from_head(head, ","), {})
    return columns <= set(header)


def target_text(row: dict[str, str | None], name: str | None) -> str | None:
    """The target count as written: a target column, else a count of items in the name."""
    for column in TARGET_COLUMNS:
        if row.get(column):
            return row[column]
    found = TARGET_IN_NAME.search(name or "")
    return found.group(1) if found else None


def parse_tracker(
    path: Path,
    fmt: str,
    options: SourceOptions,
    required: tuple[str, ...],
    read_row: RowReader,
    parse_due: DueParser,
) -> ParseResult:
    """Milestones and rejects of one planning-tool export."""
    mapping = project_mapping(fmt, options)
    _, rows = csvfiles.csv_rows(path, fmt, ",", required, {})
    parsed: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, str], int] = {}
    rows_read = skipped = 0
    for record_no, row, _, problem in rows:
        rows_read += 1
        found = read_row(row)
        if not problem and (not found.due or not found.target):
            skipped += 1
            continue
        try:
            if problem:
                raise ValueError(problem)
            milestones = _milestones(fmt, found, mapping, options, parse_due)
            keys = [(m["platform"], m["project_id"], m["name"]) for m in milestones]
            for key in keys:
                if key in seen:
                    raise ValueError(
                        f"record {seen[key]} already names milestone {key[2]!r} of "
                        f"{key[0]}:{key[1]}: give the milestones different names"
                    )
            seen |= dict.fromkeys(keys, record_no)
            parsed += milestones
        except ValueError as exc:
            raw = "; ".join(f"{k}={v}" for k, v in _read_fields(found).items() if v)
            rejects.append({"record_no": record_no, "reason": str(exc), "raw": raw})
    notes = [f"{skipped} task(s) with no due date or no target skipped (not milestones)"]
    return ParseResult(
        format=fmt,
        # the file's own platform is the planning tool (a `tracker` in etl/platforms.py)
        platform=options.platform or fmt,
        rows_read=rows_read,
        frames={"milestones": frame_of("milestones", parsed)},
        rejects=rejects_frame(rejects),
        notes=notes if skipped else [],
    )


def project_mapping(fmt: str, options: SourceOptions) -> dict[str, tuple[str, str]]:
    """`[sources.<fmt>] projects`, lower-cased tracker project -> (platform, project_id)."""
    mapping = {}
    for tracker_project, target in options.source.projects.items():
        platform, _, project_id = target.partition(":")
        if not platform or not project_id:
            raise UnreadableFile(
                f"[sources.{fmt}] projects: {tracker_project!r} = {target!r} must name a "
                f'Crowdmeter project as "PLATFORM:PROJECT_ID", e.g. "mturk:3930024"'
            )
        mapping[tracker_project.strip().lower()] = (platform.lower(), project_id)
    return mapping


def _milestones(
    fmt: str,
    found: TrackerRow,
    mapping: dict[str, tuple[str, str]],
    options: SourceOptions,
    parse_due: DueParser,
) -> list[dict[str, Any]]:
    if not found.name:
        raise ValueError("the milestone has no name: fill in its title")
    due = parse_due(found.due or "")
    target = parse_count(found.target, "target items")
    return [
        {
            "platform": platform,
            "project_id": project_id,
            "name": found.name,
            "due_on": due,
            "target_items": target,
        }  # fmt: skip
        for platform, project_id in _projects(fmt, found.projects, mapping, options)
    ]


def _projects(
    fmt: str,
    projects: list[str],
    mapping: dict[str, tuple[str, str]],
    options: SourceOptions,
) -> list[tuple[str, str]]:
    if options.project:
        if not options.platform:
            raise ValueError("--project needs --platform too: the platform of that project")
        return [(options.platform, options.project)]
    mapped = list(dict.fromkeys(mapping[p.lower()] for p in projects if p.lower() in mapping))
    if mapped:
        return mapped
    named = ", ".join(repr(p) for p in projects) or "(none)"
    example = projects[0] if projects else "Project"
    raise ValueError(
        f"{fmt} project {named} is mapped to no Crowdmeter project: add it to [sources.{fmt}] "
        f'projects in config.toml, e.g. {{ "{example}" = "mturk:3930024" }}, or pass '
        "--platform and --project"
    )


def _read_fields(found: TrackerRow) -> dict[str, str | None]:
    return {
        "name": found.name,
        "due": found.due,
        "target": found.target,
        "projects": ", ".join(found.projects),
    }
