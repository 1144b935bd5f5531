"""Crowdmeter's earnings template: a freelancer's own log for platforms with no usable export.

One row per day, platform and task type (or per payout): `date, platform, worker, project,
task_type, tasks, hours, amount, currency, status, paid_on, entry_id`. The template is in
docs/templates/earnings_template.csv. `status` is pending, paid or rejected; a row keeps its
identity across re-imports through `entry_id`, or else through its date, platform, worker,
project and task type, so editing the status or the amount updates the row.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from etl.sources.base import EARNING_STATUSES, ParseResult, SourceOptions
from etl.sources.common import (
    parse_count,
    parse_currency,
    parse_day,
    parse_money,
    parse_number,
    platform_name,
    stable_uid,
)
from etl.sources.template import parse_template, required_value, row_platform, template_columns
from etl.sources.times import parse_instant, zone

FORMAT = "earnings"
REQUIRED = ("date", "worker", "amount", "status")
# Other names people (and older logs) use for the template's columns.
ALIASES = {"worker_id": "worker", "paid_date": "paid_on", "paid_at": "paid_on", "day": "date"}
# The published template's columns, in order (docs/templates/earnings_template.csv).
COLUMNS = (
    "date",
    "platform",
    "worker",
    "project",
    "task_type",
    "tasks",
    "hours",
    "amount",
    "currency",
    "status",
    "paid_on",
    "entry_id",
)


def sniff(head: bytes) -> bool:
    return set(REQUIRED) <= template_columns(head, ALIASES)


def parse(path: Path, options: SourceOptions) -> ParseResult:
    tz = zone(options.source.timezone)
    seen: dict[tuple, int] = {}

    def row_parser(record_no: int, row: dict[str, str | None]) -> dict[str, Any]:
        return _earning(row, options, tz, seen) | {"record_no": record_no}

    platform = platform_name(options, FORMAT)
    return parse_template(path, FORMAT, "earnings", platform, REQUIRED, row_parser, ALIASES)


def _earning(
    row: dict[str, str | None], options: SourceOptions, tz: Any, seen: dict[tuple, int]
) -> dict[str, Any]:
    platform = row_platform(row, options)
    day = parse_day(required_value(row, "date"), "date")
    worker = required_value(row, "worker", "write your id on that platform (or your handle)")
    status = required_value(row, "status").lower()
    if status not in EARNING_STATUSES:
        raise ValueError(
            f"status {row['status']!r} is not an earnings status; accepted values: "
            f"{', '.join(EARNING_STATUSES)}"
        )
    try:
        amount = parse_money(required_value(row, "amount"))
    except ValueError as exc:
        raise ValueError(f"amount: {exc}") from exc
    project, task_type = row.get("project") or options.project, row.get("task_type")
    hours = parse_number(row.get("hours"), "hours")
    return {
        "earning_uid": _uid(row, platform, worker, day, project, task_type, seen),
        "worker_id": worker,
        "platform": platform,
        "project_id": project,
        "task_type": task_type,
        "day": day,
        "tasks": parse_count(row.get("tasks"), "tasks"),
        "seconds": None if hours is None else hours * 3600,
        "amount": amount,
        "currency": parse_currency(row.get("currency"), "currency", options.source.currency),
        "status": status,
        "paid_at": _paid_at(row.get("paid_on"), tz),
    }


def _uid(
    row: dict[str, str | None],
    platform: str,
    worker: str,
    day: Any,
    project: str | None,
    task_type: str | None,
    seen: dict[tuple, int],
) -> str:
    """`entry_id` when given; else the natural key plus its repeat count in this file."""
    if row.get("entry_id"):
        return stable_uid(platform, "entry", worker, row["entry_id"])
    key = (platform, worker, day.isoformat(), project, task_type)
    seen[key] = seen.get(key, 0) + 1
    return stable_uid(platform, *key, str(seen[key]))


def _paid_at(value: str | None, tz: Any) -> datetime | None:
    """A payment date is taken as the start of that day in the source's zone."""
    if value is None:
        return None
    if len(value) == 10:
        day = parse_day(value, "paid_on")
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    try:
        return parse_instant(value, tz)
    except ValueError as exc:
        raise ValueError(f"paid_on: {exc}; write it as YYYY-MM-DD") from exc
