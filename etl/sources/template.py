"""Reading Crowdmeter's own CSV templates (earnings, projects, milestones) row by row.

Each template module turns one row into one canonical row; this module runs the rows, turns
a row's ValueError into a reject and builds the frame.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from etl.sources import csvfiles
from etl.sources.base import ParseResult, SourceOptions, rejects_frame
from etl.sources.records import frame_of

RowParser = Callable[[int, dict[str, str | None]], dict[str, Any]]


def parse_template(
    path: Path,
    fmt: str,
    table: str,
    platform: str,
    required: tuple[str, ...],
    row_parser: RowParser,
    aliases: dict[str, str] | None = None,
) -> ParseResult:
    """Parse every row of a template file into the canonical `table` frame plus rejects.

    Column names are case-insensitive; `aliases` maps other accepted names to the template's.
    """
    _, rows = csvfiles.csv_rows(path, fmt, ",", required, aliases or {})
    parsed: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    rows_read = 0
    for record_no, row, raw, problem in rows:
        rows_read += 1
        try:
            if problem:
                raise ValueError(problem)
            parsed.append(row_parser(record_no, row))
        except ValueError as exc:
            rejects.append({"record_no": record_no, "reason": str(exc), "raw": raw})
    return ParseResult(
        format=fmt,
        platform=platform,
        rows_read=rows_read,
        frames={table: frame_of(table, parsed)},
        rejects=rejects_frame(rejects),
    )


def template_columns(head: bytes, aliases: dict[str, str] | None = None) -> set[str]:
    """The header of a template file from its first bytes, as the template names columns."""
    return set(csvfiles.template_header(csvfiles.header_from_head(head, ","), aliases or {}))


def required_value(row: dict[str, str | None], column: str, hint: str = "") -> str:
    value = row.get(column)
    if value is None:
        raise ValueError(f"{column} is empty{': ' + hint if hint else ''}")
    return value


def row_platform(row: dict[str, str | None], options: SourceOptions) -> str:
    """The row's platform, else the one given with --platform; an error saying so when both
    are empty."""
    platform = row.get("platform") or options.platform
    if not platform:
        raise ValueError("platform is empty: fill the platform column or pass --platform")
    return platform
