"""The contract every importer keeps: a file in, canonical frames plus rejects out, no database.

An importer is a module in `etl/sources/` with

    FORMAT: str                                  # the name `--format` takes
    def sniff(head: bytes) -> bool               # True when the first 64 KiB look like this format
    def parse(path: Path, options: SourceOptions) -> ParseResult

`parse` raises `UnreadableFile` when nothing of the file can be trusted (wrong format,
truncated JSON document, binary, empty); it returns rejects for single bad records.

Ids in the frames are the platform's *raw* ids (`worker_id`, `reviewer_id`): the loader
pseudonymises them once per file, so importers never see the key. Every frame row carries
`record_no`, the 1-based record number in the file (CSV data row, JSON array index, JSONL line),
so a fact can be traced back to the record it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from etl.settings import IngestLimits, SourceSettings, TogglSettings

UTC_TS = pl.Datetime("us", "UTC")
MONEY = pl.Decimal(18, 6)

STATUSES = ("submitted", "approved", "rejected", "returned", "abandoned", "skipped", "expired")
ACTIVITIES = ("task", "qualification", "training", "searching", "admin", "other")
EARNING_STATUSES = ("pending", "paid", "rejected")

# Canonical frames. Importers return any subset; missing columns are filled with nulls by
# `conform`, extra columns are an error (so a typo never silently drops data).
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "projects": {
        "platform": pl.String,
        "project_id": pl.String,
        "name": pl.String,
        "task_type": pl.String,
        "starts_on": pl.Date,
        "due_on": pl.Date,
        "target_items": pl.Int64,
        "labels_per_item": pl.Int32,
        "budget": MONEY,
        "currency": pl.String,
        "gold_accuracy_target": pl.Float64,
        "agreement_target": pl.Float64,
    },
    "milestones": {
        "platform": pl.String,
        "project_id": pl.String,
        "name": pl.String,
        "due_on": pl.Date,
        "target_items": pl.Int64,
    },
    "scope_changes": {
        "platform": pl.String,
        "project_id": pl.String,
        "changed_on": pl.Date,  # the scope below holds from this day on
        "target_items": pl.Int64,  # the whole scope in items, not the items added
        "reason": pl.String,
    },
    "workers": {
        "worker_id": pl.String,  # raw id
        "platform": pl.String,
        "country": pl.String,  # ISO 3166-1 alpha-2 where known
        "attributes": pl.String,  # JSON object of self-reported groups, or null
    },
    "items": {
        "platform": pl.String,
        "project_id": pl.String,
        "item_id": pl.String,
        "gold_value": pl.String,
        "attributes": pl.String,  # JSON object of data-subject groups, or null
    },
    "assignments": {
        "record_no": pl.Int64,
        "assignment_uid": pl.String,
        "platform": pl.String,
        "project_id": pl.String,
        "item_id": pl.String,
        "worker_id": pl.String,  # raw id
        "task_type": pl.String,
        "started_at": UTC_TS,
        "submitted_at": UTC_TS,
        "active_seconds": pl.Float64,
        "status": pl.String,  # one of STATUSES
        "reward": MONEY,
        "bonus": MONEY,
        "currency": pl.String,
        "is_gold": pl.Boolean,
        "reviewer_id": pl.String,  # raw id
        "reviewed_at": UTC_TS,
        "paid_at": UTC_TS,
    },
    "annotations": {
        "assignment_uid": pl.String,
        "field": pl.String,
        "value": pl.String,
        "value_num": pl.Float64,
        "region": pl.String,  # JSON: {"start":..,"end":..,"label":..} or {"x","y","w","h","label"}
        "gold_value": pl.String,
        "ordinal": pl.Int32,  # 0, 1, ... when one field has several answers (spans, boxes)
    },
    "time_entries": {
        "record_no": pl.Int64,
        "entry_uid": pl.String,
        "worker_id": pl.String,  # raw id or freelancer handle
        "platform": pl.String,
        "project_id": pl.String,
        "started_at": UTC_TS,
        "ended_at": UTC_TS,
        "seconds": pl.Float64,
        "activity": pl.String,  # one of ACTIVITIES
    },
    "earnings": {
        "record_no": pl.Int64,
        "earning_uid": pl.String,
        "worker_id": pl.String,  # raw id or freelancer handle
        "platform": pl.String,
        "project_id": pl.String,
        "task_type": pl.String,
        "day": pl.Date,
        "tasks": pl.Int64,
        "seconds": pl.Float64,
        "amount": MONEY,
        "currency": pl.String,
        "status": pl.String,  # one of EARNING_STATUSES
        "paid_at": UTC_TS,
    },
}

REJECTS_SCHEMA: dict[str, pl.DataType] = {
    "record_no": pl.Int64,
    "reason": pl.String,
    "raw": pl.String,
}


class UnreadableFile(Exception):
    """The whole file cannot be trusted; the message says why and what to do."""


@dataclass(frozen=True)
class SourceOptions:
    """What an importer may know beyond the file itself."""

    platform: str | None = None  # --platform: overrides the format's default platform name
    project: str | None = None  # --project: overrides or supplies the project id
    source: SourceSettings = field(default_factory=SourceSettings)
    toggl: TogglSettings = field(default_factory=TogglSettings)
    show_progress: bool = False
    part_bytes: int | None = None  # formats that read big files in parts: bytes per part
    limits: IngestLimits = field(default_factory=IngestLimits)
    mapping: dict[str, str] | None = None  # --map for the longform importer: role -> column


@dataclass
class ParseResult:
    """Canonical frames (raw ids) plus the rejected records of one file."""

    format: str
    platform: str
    rows_read: int
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECTS_SCHEMA))
    notes: list[str] = field(default_factory=list)  # things the user should know (unmapped rows)
    # a delimited file's header as written and its delimiter, to scrub rejected lines by column
    header: list[str] | None = None
    delimiter: str | None = None

    def __post_init__(self) -> None:
        self.frames = {name: conform(name, frame) for name, frame in self.frames.items()}
        self.rejects = self.rejects.select(
            pl.col(c).cast(t) for c, t in REJECTS_SCHEMA.items()
        ).sort("record_no")


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Cast `frame` to the canonical schema of `table`, adding missing columns as nulls."""
    schema = SCHEMAS[table]
    extra = set(frame.columns) - set(schema)
    if extra:
        raise ValueError(f"importer produced unknown columns for {table}: {sorted(extra)}")
    return frame.select(
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
        for c, t in schema.items()
    )


def rejects_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rejects from a list of {record_no, reason, raw} dicts."""
    return pl.DataFrame(rows, schema=REJECTS_SCHEMA)
