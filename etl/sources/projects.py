"""Crowdmeter's projects template: scope, dates, budget and quality targets of each project.

Columns are those of the `projects` table (docs/templates/projects_template.csv); only
`platform` (or --platform) and `project_id` are required. A re-import updates the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.sources.base import ParseResult, SourceOptions
from etl.sources.common import (
    parse_count,
    parse_currency,
    parse_day,
    parse_money,
    parse_share,
    platform_name,
)
from etl.sources.template import parse_template, required_value, row_platform, template_columns

FORMAT = "projects"
REQUIRED = ("project_id",)
PLAN_COLUMNS = {"target_items", "labels_per_item", "budget", "starts_on"}


def sniff(head: bytes) -> bool:
    header = template_columns(head)
    return set(REQUIRED) <= header and bool(header & PLAN_COLUMNS - {"target_items"})


def parse(path: Path, options: SourceOptions) -> ParseResult:
    def row_parser(record_no: int, row: dict[str, str | None]) -> dict[str, Any]:
        return _project(row, options)

    platform = platform_name(options, FORMAT)
    return parse_template(path, FORMAT, "projects", platform, REQUIRED, row_parser)


def _project(row: dict[str, str | None], options: SourceOptions) -> dict[str, Any]:
    platform = row_platform(row, options)
    starts_on = parse_day(row.get("starts_on"), "starts_on")
    due_on = parse_day(row.get("due_on"), "due_on")
    if starts_on and due_on and due_on < starts_on:
        raise ValueError(f"due_on {due_on} is before starts_on {starts_on}")
    labels = parse_count(row.get("labels_per_item"), "labels_per_item")
    if labels == 0:
        raise ValueError("labels_per_item is 0: a project needs at least one label per item")
    try:
        budget = parse_money(row.get("budget"))
    except ValueError as exc:
        raise ValueError(f"budget: {exc}") from exc
    return {
        "platform": platform,
        "project_id": required_value(row, "project_id"),
        "name": row.get("name"),
        "task_type": row.get("task_type"),
        "starts_on": starts_on,
        "due_on": due_on,
        "target_items": parse_count(row.get("target_items"), "target_items"),
        "labels_per_item": labels,
        "budget": budget,
        "currency": parse_currency(row.get("currency"), "currency", options.source.currency)
        if budget is not None or row.get("currency")
        else None,
        "gold_accuracy_target": parse_share(
            row.get("gold_accuracy_target"), "gold_accuracy_target"
        ),
        "agreement_target": _agreement(row.get("agreement_target")),
    }


def _agreement(value: str | None) -> float | None:
    """Agreement coefficients run from -1 to 1; a target is usually 0.6 to 0.8."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise ValueError(f"agreement_target {value!r} is not a number like 0.7") from exc
    if not -1 <= number <= 1:
        raise ValueError(f"agreement_target {value!r} is outside -1..1")
    return number
