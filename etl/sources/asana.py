"""Asana project CSV export (Export > CSV): tasks with a due date and a target are milestones.

Columns read: `Name`, `Due Date` (YYYY-MM-DD), `Projects` (the Asana projects the task is in,
comma-separated), and the target (`Target items` custom field, else "N items" in the name).
`Section/Column` and `Completed At` identify the export; the milestone table keeps neither.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from etl.sources.base import ParseResult, SourceOptions
from etl.sources.common import parse_day
from etl.sources.tracker_milestones import TrackerRow, parse_tracker, sniff_header, target_text

FORMAT = "asana"
COLUMNS = {"name", "due date", "section/column", "projects"}
REQUIRED = ("name", "due date", "projects")


def sniff(head: bytes) -> bool:
    return sniff_header(head, COLUMNS)


def parse(path: Path, options: SourceOptions) -> ParseResult:
    return parse_tracker(path, FORMAT, options, REQUIRED, _task, _due)


def _task(row: dict[str, str | None]) -> TrackerRow:
    name = row.get("name")
    projects = row.get("projects") or ""
    # a project name may hold a comma itself: the whole cell is tried first
    names = [projects.strip()] + [p.strip() for p in projects.split(",") if "," in projects]
    return TrackerRow(name, row.get("due date"), target_text(row, name), [n for n in names if n])


def _due(text: str) -> date:
    due = parse_day(text, "Due Date")
    if due is None:
        raise ValueError("Due Date is empty")
    return due
