"""Toloka pool results TSV: one row per task of an assignment (a task suite), vectorized.

Columns are prefixed `INPUT:`, `OUTPUT:` (answers), `GOLDEN:` (control answers), `HINT:` and
`ASSIGNMENT:`. A Toloka assignment is a page of several tasks, so one Crowdmeter assignment
is one task of it (`toloka:<assignment>/<task>`); the page's reward is split evenly over its
tasks and its times are shared by them. Times are naive, read in the source's time zone.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from etl.sources import answers, csvfiles
from etl.sources.base import ParseResult, SourceOptions
from etl.sources.canonical import (
    assignments_frame,
    attribute_columns,
    attribute_notes,
    checked_rows,
    column_or_null,
    finish_query,
    gold_value_expr,
    items_frame,
    raw_columns,
    value_columns,
    workers_frame,
)
from etl.sources.common import Problem, file_stem, platform_name, required_problem, status_problem
from etl.sources.times import zone

FORMAT = "toloka"
ASSIGNMENT = "ASSIGNMENT:"
OUTPUT = "OUTPUT:"
GOLDEN = "GOLDEN:"
REQUIRED = (
    "ASSIGNMENT:task_id",
    "ASSIGNMENT:assignment_id",
    "ASSIGNMENT:worker_id",
    "ASSIGNMENT:status",
)
STATUSES = {
    "APPROVED": "approved",
    "ACCEPTED": "approved",
    "REJECTED": "rejected",
    "SUBMITTED": "submitted",
    "SKIPPED": "skipped",
    "EXPIRED": "expired",
}
TIMES = {
    "ASSIGNMENT:started": "started_at",
    "ASSIGNMENT:submitted": "submitted_at",
    "ASSIGNMENT:accepted": "approved_at",
    "ASSIGNMENT:rejected": "rejected_at",
}
MONEY = {"ASSIGNMENT:reward": "page_reward"}
USED = {*REQUIRED, "ASSIGNMENT:link", *TIMES, *MONEY}
POOL_IN_NAME = re.compile(r"pool_(\d+)")
POOL_IN_LINK = r"/task/(\d+)/"


def sniff(head: bytes) -> bool:
    header = csvfiles.header_from_head(head, "\t")
    return "ASSIGNMENT:worker_id" in header and "ASSIGNMENT:assignment_id" in header


def parse(path: Path, options: SourceOptions) -> ParseResult:
    platform = platform_name(options, FORMAT)
    source = options.source
    zone(source.timezone)
    attributes = attribute_columns(source)
    wanted = lambda c: c in USED or c.startswith((OUTPUT, GOLDEN)) or c in attributes  # noqa: E731
    table = csvfiles.read_csv_table(path, FORMAT, "\t", REQUIRED, wanted, options.limits)

    def query(source: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Problem]]:
        return _canonical(table, source, path, platform, options)

    rows_read, good, rejected = checked_rows(table, query, FORMAT, TIMES, MONEY, source.timezone)
    good = good.with_columns(_reward_share().alias("reward"))
    # configured attributes (a survey's answers) are attributes, never answers to agree on
    outputs = {
        c[len(OUTPUT) :]: c for c in table.header if c.startswith(OUTPUT) and c not in attributes
    }
    golden = {f: f"{GOLDEN}{f}" for f in outputs if f"{GOLDEN}{f}" in table.header}
    notes = attribute_notes(table.header, source)
    return ParseResult(
        format=FORMAT,
        platform=platform,
        rows_read=rows_read,
        frames={
            "assignments": assignments_frame(good, platform, source.currency),
            "annotations": answers.answer_rows(good, ["assignment_uid"], outputs, golden),
            "workers": workers_frame(good, platform, source.worker_attributes),
            "items": items_frame(good, platform, source.item_attributes, gold_value_expr(golden)),
        },
        rejects=csvfiles.rejects_with_raw(table, rejected),
        notes=notes,
    )


def _project(path: Path, options: SourceOptions, header: list[str]) -> pl.Expr:
    """--project, else the pool id in the file name or the task link, else the file name."""
    if options.project:
        return pl.lit(options.project)
    match = POOL_IN_NAME.search(path.name)
    if match:
        return pl.lit(match.group(1))
    from_link = column_or_null(header, "ASSIGNMENT:link").str.extract(POOL_IN_LINK, 1)
    return pl.coalesce(from_link, pl.lit(file_stem(path)))


def _canonical(
    table: csvfiles.CsvTable,
    source: pl.LazyFrame,
    path: Path,
    platform: str,
    options: SourceOptions,
) -> tuple[pl.LazyFrame, list[Problem]]:
    """The query for canonical columns (times, reward, status, gold parsed) and its checks."""
    header = table.header
    golden = [pl.col(c).is_not_null() for c in header if c.startswith(GOLDEN)]
    status = pl.col("ASSIGNMENT:status").str.strip_chars().str.to_uppercase()
    frame = source.with_columns(*raw_columns(table, [*TIMES, *MONEY])).with_columns(
        pl.concat_str(
            [
                pl.lit(f"{platform}:"),
                pl.col("ASSIGNMENT:assignment_id"),
                pl.lit("/"),
                pl.col("ASSIGNMENT:task_id"),
            ]
        ).alias("assignment_uid"),
        _project(path, options, header).alias("project_id"),
        pl.col("ASSIGNMENT:task_id").alias("item_id"),
        pl.col("ASSIGNMENT:assignment_id").alias("page"),
        pl.col("ASSIGNMENT:worker_id").str.strip_chars().alias("worker_id"),
        status.replace_strict(STATUSES, default=None, return_dtype=pl.String).alias("status"),
        (pl.any_horizontal(golden) if golden else pl.lit(False)).alias("is_gold"),
        *value_columns(table, TIMES, MONEY, options.source.timezone),
    )
    active = pl.lit(
        "ASSIGNMENT:status 'ACTIVE': the task is still being worked on; export the pool "
        "again once it is submitted"
    )
    known = status_problem("ASSIGNMENT:status", "status", STATUSES)
    problems = [required_problem(name) for name in REQUIRED]
    problems += [
        Problem(
            known.failed,
            pl.when(status == "ACTIVE").then(active).otherwise(known.reason),
            known.columns,
        ),
        csvfiles.too_long_problem(header),
    ]
    drop = ["ASSIGNMENT:task_id", "ASSIGNMENT:worker_id", "ASSIGNMENT:status", "ASSIGNMENT:link"]
    return finish_query(frame, problems, drop, TIMES, MONEY), problems


def _reward_share() -> pl.Expr:
    """The page's reward split evenly over its tasks, the rounding remainder on the first."""
    page = "page"
    tasks = pl.len().over(page)
    micro = (pl.col("page_reward") * 1_000_000).cast(pl.Int64)
    share = micro // tasks
    first = pl.col("record_no") == pl.col("record_no").min().over(page)
    amount = pl.when(first).then(micro - share * (tasks - 1)).otherwise(share)
    return amount.cast(pl.Decimal(18, 6)) / 1_000_000
