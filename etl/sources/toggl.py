"""Toggl Track detailed time entries CSV (plain or fully quoted): tracked work intervals.

Dates and times sit in separate columns with no zone, so they are read in the source's time
zone; `Duration` is `H:MM:SS`. An entry's platform comes from config: the Toggl project
(`[toggl] project_platform`), else its client (`client_platform`). The worker is the user's
raw id on that platform (`user_worker`), else the Toggl user name. E-mails are never read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from etl.settings import TogglSettings
from etl.sources import csvfiles
from etl.sources.base import ACTIVITIES, ParseResult, SourceOptions, rejects_frame
from etl.sources.common import platform_name, stable_uid
from etl.sources.records import RecordError, RowCollector, frame_of
from etl.sources.times import parse_instant, zone

FORMAT = "toggl"
REQUIRED = ("User", "Start date", "Start time", "End date", "End time", "Duration")
DURATION = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")


def sniff(head: bytes) -> bool:
    header = set(csvfiles.header_from_head(head, ","))
    return {"Start date", "Start time", "Duration"} <= header and "User" in header


def parse(path: Path, options: SourceOptions) -> ParseResult:
    tz = zone(options.source.timezone)
    _, rows = csvfiles.csv_rows(path, FORMAT, ",", REQUIRED, limits=options.limits)
    collector = RowCollector(platform_name(options, FORMAT), FORMAT)
    entries: list[dict[str, Any]] = []
    unmapped: dict[str, int] = {}
    rows_read = 0
    for record_no, row, raw, problem in rows:
        rows_read += 1
        try:
            if problem:
                raise RecordError(problem)
            entry = _entry(row, options.toggl, tz)
        except ValueError as exc:
            collector.reject(record_no, str(exc), raw)
            continue
        entries.append({"record_no": record_no, **entry})
        if entry["platform"] is None:
            name = " / ".join(filter(None, (row.get("Client"), row.get("Project")))) or "(none)"
            unmapped[name] = unmapped.get(name, 0) + 1
    return ParseResult(
        format=FORMAT,
        platform=collector.platform,
        rows_read=rows_read,
        frames={"time_entries": frame_of("time_entries", entries)},
        rejects=rejects_frame(collector.rejects),
        notes=_unmapped_note(unmapped),
    )


def _entry(row: dict[str, str | None], toggl: TogglSettings, tz: Any) -> dict[str, Any]:
    user = row["User"]
    if not user:
        raise RecordError("User is empty; every entry needs the Toggl user who tracked it")
    started = _moment(row, "Start", tz)
    ended = _moment(row, "End", tz)
    seconds = _seconds(row["Duration"]) if row["Duration"] else (ended - started).total_seconds()
    if ended < started:
        raise RecordError(f"the entry ends ({ended}) before it starts ({started})")
    platform, project = _platform(row, toggl)
    description = row.get("Description") or ""
    return {
        "entry_uid": stable_uid(FORMAT, user, started.isoformat(), ended.isoformat(), description),
        "worker_id": _worker(user, platform, toggl),
        "platform": platform,
        "project_id": project,
        "started_at": started,
        "ended_at": ended,
        "seconds": seconds,
        "activity": _activity(f"{description} {row.get('Tags') or ''}", toggl),
    }


def _moment(row: dict[str, str | None], side: str, tz: Any) -> Any:
    day, time = row[f"{side} date"], row[f"{side} time"]
    if not day or not time:
        raise RecordError(f"{side} date or {side} time is empty")
    try:
        return parse_instant(f"{day} {time}", tz)
    except ValueError as exc:
        raise RecordError(f"{side} date/time {day} {time!s}: {exc}") from exc


def _seconds(text: str) -> float:
    match = DURATION.match(text)
    if not match:
        raise RecordError(f"Duration {text!r} is not a duration: expected H:MM:SS like '1:05:00'")
    hours, minutes, seconds = (int(g) for g in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def _platform(row: dict[str, str | None], toggl: TogglSettings) -> tuple[str | None, str | None]:
    """(platform, project id): a project named in config is the platform itself; a client
    named in config is the platform and its Toggl project the project on it."""
    project, client = row.get("Project"), row.get("Client")
    if project and project in toggl.project_platform:
        return toggl.project_platform[project], None
    if client and client in toggl.client_platform:
        return toggl.client_platform[client], project
    return None, None


def _worker(user: str, platform: str | None, toggl: TogglSettings) -> str:
    """The user's raw id on `platform` from config, else the Toggl user name."""
    if platform is not None:
        for worker in toggl.user_worker.get(user, []):
            on, _, raw_id = worker.partition(":")
            if on == platform and raw_id:
                return raw_id
    return user


def _activity(text: str, toggl: TogglSettings) -> str:
    lowered = text.lower()
    for keyword, activity in toggl.activity_keywords.items():
        if keyword.lower() in lowered:
            if activity not in ACTIVITIES:
                raise RecordError(
                    f"[toggl] activity_keywords maps {keyword!r} to {activity!r}, which is not "
                    f"an activity ({', '.join(ACTIVITIES)}); fix config.toml"
                )
            return activity
    return "task"


def _unmapped_note(unmapped: dict[str, int]) -> list[str]:
    if not unmapped:
        return []
    names = ", ".join(sorted(unmapped))
    return [
        f"{sum(unmapped.values())} time entries map to no platform (client / project: "
        f"{names}); add them to [toggl] client_platform or project_platform in config.toml "
        "so their time counts for a platform"
    ]
