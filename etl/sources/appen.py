"""Appen (Figure Eight, CrowdFlower) full report CSV: one row per judgment, vectorized.

System columns start with `_`. A column is an answer when it has a `<name>_gold` partner or
when its value differs between two judgments of one unit (unit data is identical across a
unit's judgments). `_golden` marks test questions; `_tainted` judgments (from contributors
later distrusted) count as rejected. `_ip`, `_city`, `_region` and anything that looks like
an e-mail or a name are never read. `_country` is ISO alpha-3 and becomes alpha-2.
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
from etl.sources.common import Problem, file_stem, platform_name, required_problem
from etl.sources.countries import ALPHA3_TO_ALPHA2
from etl.sources.times import zone

FORMAT = "appen"
REQUIRED = ("_unit_id", "_id", "_worker_id")
TIMES = {"_started_at": "started_at", "_created_at": "submitted_at"}
# Personal data: never read, whatever the config says.
PERSONAL = re.compile(r"^_(ip|city|region)$|e-?mail|(^|_)(first|last|full|user)_?name$", re.I)
JOB_IN_NAME = re.compile(r"(?:^|[_\-.])f(\d{5,})(?:[_\-.]|$)|job[_-]?(\d+)")
TRUE_TEXT = ("true", "t", "1", "yes")
ANSWER_SEPARATOR = "\n"  # checkbox answers list one option per line


def sniff(head: bytes) -> bool:
    header = set(csvfiles.header_from_head(head, ","))
    return {"_unit_id", "_worker_id"} <= header


def parse(path: Path, options: SourceOptions) -> ParseResult:
    platform = platform_name(options, FORMAT)
    source = options.source
    zone(source.timezone)
    table = csvfiles.read_csv_table(
        path, FORMAT, ",", REQUIRED, lambda c: not PERSONAL.search(c), options.limits
    )

    def query(source: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Problem]]:
        return _canonical(table, source, path, platform, options)

    rows_read, good, rejected = checked_rows(table, query, FORMAT, TIMES, {}, source.timezone)
    # configured attributes (a survey's answers) are attributes, never answers to agree on
    attributes = attribute_columns(source)
    fields = [f for f in _answer_fields(good, table.header) if f not in attributes]
    gold = {f: f"{f}_gold" for f in fields if f"{f}_gold" in table.header}
    notes = attribute_notes(table.header, source)
    if not fields:
        notes.append(
            f"{path.name}: no answer columns found (no <field>_gold columns and no "
            "column differs between judgments of one unit)"
        )
    return ParseResult(
        format=FORMAT,
        platform=platform,
        rows_read=rows_read,
        frames={
            "assignments": assignments_frame(good, platform, source.currency),
            "annotations": answers.answer_rows(
                good, ["assignment_uid"], {f: f for f in fields}, gold, split=ANSWER_SEPARATOR
            ),
            "workers": workers_frame(
                good, platform, source.worker_attributes, country=pl.col("country")
            ),
            "items": items_frame(good, platform, source.item_attributes, gold_value_expr(gold)),
        },
        rejects=csvfiles.rejects_with_raw(table, rejected),
        notes=notes,
    )


def _project(path: Path, options: SourceOptions) -> str:
    """--project, else the job id in the file name (`f791490.csv`, `job_791490`), else the name."""
    if options.project:
        return options.project
    match = JOB_IN_NAME.search(path.name)
    return next(g for g in match.groups() if g) if match else file_stem(path)


def _is_true(header: list[str], name: str) -> pl.Expr:
    return column_or_null(header, name).str.strip_chars().str.to_lowercase().is_in(TRUE_TEXT)


def _canonical(
    table: csvfiles.CsvTable,
    source: pl.LazyFrame,
    path: Path,
    platform: str,
    options: SourceOptions,
) -> tuple[pl.LazyFrame, list[Problem]]:
    """The query for canonical columns (times, status, gold, country parsed) and its checks."""
    header = table.header
    frame = source.with_columns(*raw_columns(table, list(TIMES))).with_columns(
        pl.concat_str([pl.lit(f"{platform}:"), pl.col("_id")]).alias("assignment_uid"),
        pl.lit(_project(path, options)).alias("project_id"),
        pl.col("_unit_id").alias("item_id"),
        pl.col("_worker_id").str.strip_chars().alias("worker_id"),
        pl.when(_is_true(header, "_tainted"))
        .then(pl.lit("rejected"))
        .otherwise(pl.lit("approved"))
        .alias("status"),
        _is_true(header, "_golden").alias("is_gold"),
        column_or_null(header, "_country")
        .str.strip_chars()
        .str.to_uppercase()
        .replace_strict(ALPHA3_TO_ALPHA2, default=None, return_dtype=pl.String)
        .alias("country"),
        *value_columns(table, TIMES, {}, options.source.timezone),
    )
    problems = [required_problem(name) for name in REQUIRED]
    problems += [
        csvfiles.too_long_problem(header),
    ]
    drop = ["_id", "_unit_id", "_worker_id", "_golden", "_tainted", "_country"]
    return finish_query(frame, problems, drop, TIMES, {}), problems


def _answer_fields(good: pl.DataFrame, header: list[str]) -> list[str]:
    """Answer columns: those with a `_gold` partner, and those that vary within a unit."""
    candidates = [
        c
        for c in header
        if c in good.columns and not c.startswith("_") and not c.endswith(("_gold", "_gold_reason"))
    ]
    with_gold = {c for c in candidates if f"{c}_gold" in header}
    if good.is_empty():
        return sorted(with_gold)
    varies = (
        good.group_by("item_id")
        .agg((pl.col(c).n_unique() > 1).alias(c) for c in candidates if c not in with_gold)
        .select(pl.exclude("item_id").any())
    )
    varying = {name for name, flag in varies.row(0, named=True).items() if flag}
    return [c for c in candidates if c in with_gold or c in varying]
