"""Jira CSV export (Filters > Export > CSV): issues with a due date and a target are milestones.

Columns read: `Summary` (the milestone's name), `Issue key` (its prefix is the project key),
`Project key` and `Project name` where the export has them, `Due date`, and the target (a
`Custom field (Target items)` or `Target items` column, else "N items" in the summary).
`Issue Type`, `Status` and `Resolved` identify the export; the milestone table keeps none.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from etl.sources.base import ParseResult, SourceOptions
from etl.sources.tracker_milestones import TrackerRow, parse_tracker, sniff_header, target_text

FORMAT = "jira"
COLUMNS = {"summary", "issue key", "issue type", "status"}
REQUIRED = ("summary", "issue key", "due date")
# Jira writes dates in the instance's format: ISO, or its default day/month-name/year
DATE_LAYOUTS = ("%Y-%m-%d", "%d/%b/%y", "%d/%b/%Y", "%d-%b-%Y")


def sniff(head: bytes) -> bool:
    return sniff_header(head, COLUMNS)


def parse(path: Path, options: SourceOptions) -> ParseResult:
    return parse_tracker(path, FORMAT, options, REQUIRED, _issue, _due)


def _issue(row: dict[str, str | None]) -> TrackerRow:
    name = row.get("summary")
    key_prefix = (row.get("issue key") or "").rpartition("-")[0]
    projects = [p for p in (row.get("project key"), row.get("project name"), key_prefix) if p]
    unique = list(dict.fromkeys(projects))
    return TrackerRow(name, row.get("due date"), target_text(row, name), unique)


def _due(text: str) -> date:
    day = text.split()[0]  # "15/Mar/24 12:00 AM": the time of day plays no part
    for layout in DATE_LAYOUTS:
        try:
            return datetime.strptime(day, layout).date()
        except ValueError:
            continue
    raise ValueError(
        f"Due date {text!r} is not a date Crowdmeter reads: export with dates as YYYY-MM-DD "
        "or Jira's default 15/Mar/24"
    )
