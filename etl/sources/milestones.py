"""Crowdmeter's milestones template: dated targets inside a project (items done by a date).

Columns: `platform, project_id, name, due_on, target_items` (docs/templates/
milestones_template.csv). A re-import with the same platform, project and name updates it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.sources.base import ParseResult, SourceOptions
from etl.sources.common import parse_count, parse_day, platform_name
from etl.sources.projects import PLAN_COLUMNS
from etl.sources.template import parse_template, required_value, row_platform, template_columns

FORMAT = "milestones"
REQUIRED = ("project_id", "name", "due_on", "target_items")
ALIASES = {"milestone": "name"}


def sniff(head: bytes) -> bool:
    header = template_columns(head, ALIASES)
    return set(REQUIRED) <= header and not header & (PLAN_COLUMNS - {"target_items"})


def parse(path: Path, options: SourceOptions) -> ParseResult:
    def row_parser(record_no: int, row: dict[str, str | None]) -> dict[str, Any]:
        return _milestone(row, options)

    platform = platform_name(options, FORMAT)
    return parse_template(path, FORMAT, "milestones", platform, REQUIRED, row_parser, ALIASES)


def _milestone(row: dict[str, str | None], options: SourceOptions) -> dict[str, Any]:
    platform = row_platform(row, options)
    return {
        "platform": platform,
        "project_id": required_value(row, "project_id"),
        "name": required_value(row, "name", "give the milestone a name"),
        "due_on": parse_day(required_value(row, "due_on"), "due_on"),
        "target_items": parse_count(required_value(row, "target_items"), "target_items"),
    }
