"""Crowdmeter's scope-changes template: a project's scope as it changed, each change dated.

Columns: `platform, project_id, changed_on, target_items, reason` (docs/templates/
scope_changes_template.csv). `target_items` is the whole scope in items from `changed_on` on
(not the items added), the unit the project marts count; the projects file's `target_items`
is the scope the plan started with. A re-import with the same platform, project and day
updates the change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.sources.base import ParseResult, SourceOptions
from etl.sources.common import parse_count, parse_day, platform_name
from etl.sources.template import parse_template, required_value, row_platform, template_columns

FORMAT = "scope_changes"
REQUIRED = ("project_id", "changed_on", "target_items")
ALIASES = {"date": "changed_on"}


def sniff(head: bytes) -> bool:
    return set(REQUIRED) <= template_columns(head, ALIASES)


def parse(path: Path, options: SourceOptions) -> ParseResult:
    def row_parser(record_no: int, row: dict[str, str | None]) -> dict[str, Any]:
        return _scope_change(row, options)

    platform = platform_name(options, FORMAT)
    return parse_template(path, FORMAT, "scope_changes", platform, REQUIRED, row_parser, ALIASES)


def _scope_change(row: dict[str, str | None], options: SourceOptions) -> dict[str, Any]:
    platform = row_platform(row, options)
    items = parse_count(required_value(row, "target_items", "give the new scope"), "target_items")
    if not items:
        raise ValueError(
            "target_items is 0: give the project's whole scope in items from that day on"
        )
    return {
        "platform": platform,
        "project_id": required_value(row, "project_id"),
        "changed_on": parse_day(required_value(row, "changed_on"), "changed_on"),
        "target_items": items,
        "reason": row.get("reason"),
    }
