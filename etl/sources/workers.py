"""Crowdmeter's workers template: the answers of a voluntary survey of self-reported groups,
for the fairness audits.

Columns: `platform, worker_id, answered_on`, then one column per attribute, named as the audits
will name it (docs/templates/workers_template.csv): `platform, worker_id, answered_on, gender,
age_band`. Worker ids are pseudonymised like every other. A blank answer is stored as
"not stated" (the worker was asked and chose not to say); `answered_on` (YYYY-MM-DD) is kept
beside the answers. An optional `time_zone` column holds the worker's IANA time zone
(`Africa/Nairobi`), for the workload audit's night work on the worker's own clock; a name
`zoneinfo` does not know rejects the row with the reason, a blank one is left out. Neither is
audited as an attribute. A re-import of the same worker replaces their answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from etl.sources.base import ParseResult, SourceOptions
from etl.sources.common import parse_day, platform_name
from etl.sources.template import parse_template, required_value, row_platform, template_columns
from metrics.fairness.findings import NOT_STATED

FORMAT = "workers"
# The date the answers were given: kept in the attributes, never audited as one.
ANSWERED_ON = "answered_on"
# The worker's IANA time zone: kept in the attributes, never audited as one.
TIME_ZONE = "time_zone"
KEYS = ("platform", "worker_id", ANSWERED_ON, TIME_ZONE)
REQUIRED = ("worker_id", ANSWERED_ON)
ALIASES = {"worker": "worker_id", "answered": ANSWERED_ON}


def sniff(head: bytes) -> bool:
    return set(REQUIRED) <= template_columns(head, ALIASES)


def parse(path: Path, options: SourceOptions) -> ParseResult:
    def row_parser(record_no: int, row: dict[str, str | None]) -> dict[str, Any]:
        return _worker(row, options)

    platform = platform_name(options, FORMAT)
    return parse_template(path, FORMAT, "workers", platform, REQUIRED, row_parser, ALIASES)


def _worker(row: dict[str, str | None], options: SourceOptions) -> dict[str, Any]:
    platform = row_platform(row, options)
    answered = parse_day(required_value(row, ANSWERED_ON, "the day the answers were given"),
                         ANSWERED_ON)  # fmt: skip
    answers = {name: value or NOT_STATED for name, value in row.items() if name not in KEYS}
    if not answers:
        raise ValueError("no attribute columns: add one column per survey question")
    answers[ANSWERED_ON] = answered.isoformat()
    if zone := (row.get(TIME_ZONE) or "").strip():
        answers[TIME_ZONE] = time_zone(zone)
    return {
        "worker_id": required_value(row, "worker_id"),
        "platform": platform.lower(),
        "country": None,
        "attributes": json.dumps(answers, sort_keys=True, ensure_ascii=False),
    }


def time_zone(name: str) -> str:
    """`name` when it is an IANA time zone `zoneinfo` knows, else a ValueError saying so.

    >>> time_zone("Africa/Nairobi")
    'Africa/Nairobi'
    >>> time_zone("Mars/Olympus")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: time_zone 'Mars/Olympus' is not an IANA time zone name: write one such as ...
    """
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"time_zone {name!r} is not an IANA time zone name: write one such as "
            "'Africa/Nairobi' or 'America/New_York', or leave it blank"
        ) from None
    return name
