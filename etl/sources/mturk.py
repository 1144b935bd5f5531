"""Amazon Mechanical Turk requester batch results CSV: assignments, answers, reward, approvals.

Vectorized end to end (Polars expressions, no per-row Python), so a batch of millions of
assignments parses in seconds. Times carry their zone (`Wed Apr 04 10:26:23 PDT 2018`);
`WorkTimeInSeconds` is wall clock (submit minus accept), so it is not taken as active time.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from etl.sources import answers, csvfiles
from etl.sources.base import ParseResult, SourceOptions, rejects_frame
from etl.sources.canonical import (
    Query,
    assignments_frame,
    attribute_columns,
    attribute_notes,
    checked_batches,
    checked_rows,
    column_or_null,
    finish_query,
    gold_value_expr,
    items_frame,
    raw_columns,
    value_columns,
    workers_frame,
)
from etl.sources.common import Problem, platform_name, required_problem, status_problem
from etl.sources.records import decode_json
from etl.sources.times import zone

FORMAT = "mturk"
REQUIRED = ("HITId", "AssignmentId", "WorkerId", "AssignmentStatus")
STATUSES = {"Submitted": "submitted", "Approved": "approved", "Rejected": "rejected"}
TIMES = {
    "AcceptTime": "started_at",
    "SubmitTime": "submitted_at",
    "ApprovalTime": "approved_at",
    "RejectionTime": "rejected_at",
}
MONEY = {"Reward": "reward"}
LOAD_BATCH_BYTES = 96 << 20  # bytes of a big batch file parsed and staged at a time
USED = {*REQUIRED, "HITTypeId", "RequesterAnnotation", *TIMES, *MONEY}
ANSWER = "Answer."
TASK_ANSWERS = "Answer.taskAnswers"
# Objects inside taskAnswers that describe the input, not the worker's answer.
NOT_ANSWERS = frozenset({"inputImageProperties"})


def sniff(head: bytes) -> bool:
    return set(REQUIRED) <= set(csvfiles.header_from_head(head, ","))


def parse(path: Path, options: SourceOptions) -> ParseResult:
    table, query = _table(path, options)
    checked = checked_rows(table, query, FORMAT, TIMES, MONEY, options.source.timezone)
    return _result(table, options, *checked, notes=attribute_notes(table.header, options.source))


def parse_batches(
    path: Path, options: SourceOptions, chunk_bytes: int | None = None
) -> Iterator[ParseResult]:
    """`parse` of about `chunk_bytes` (default LOAD_BATCH_BYTES) of the file at a time, so a
    multi-million-row batch loads in bounded memory; notes come with the first result."""
    chunk_bytes = chunk_bytes or options.part_bytes or LOAD_BATCH_BYTES
    table, query = _table(path, options)
    notes = attribute_notes(table.header, options.source)
    tz = options.source.timezone
    for checked in checked_batches(table, query, FORMAT, TIMES, MONEY, tz, chunk_bytes):
        yield _result(table, options, *checked, notes=notes)
        notes = []


def _table(path: Path, options: SourceOptions) -> tuple[csvfiles.CsvTable, Query]:
    zone(options.source.timezone)
    platform = platform_name(options, FORMAT)
    attributes = attribute_columns(options.source)
    gold = set(options.source.gold_columns.values())
    wanted = lambda c: c in USED or c.startswith(ANSWER) or c in attributes | gold  # noqa: E731
    table = csvfiles.read_csv_table(path, FORMAT, ",", REQUIRED, wanted, options.limits)

    def query(source: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Problem]]:
        return _canonical(table, source, platform, options)

    return table, query


def _result(
    table: csvfiles.CsvTable,
    options: SourceOptions,
    rows_read: int,
    good: pl.DataFrame,
    rejected: pl.DataFrame,
    notes: list[str],
) -> ParseResult:
    platform = platform_name(options, FORMAT)
    source = options.source
    gold = _gold_columns(table.header, options)
    good, annotations, blob_rejects = _annotations(
        good, table.header, gold, attribute_columns(source)
    )
    return ParseResult(
        format=FORMAT,
        platform=platform,
        rows_read=rows_read,
        frames={
            "assignments": assignments_frame(good, platform, source.currency),
            "annotations": annotations,
            "workers": workers_frame(good, platform, source.worker_attributes),
            "items": items_frame(good, platform, source.item_attributes, gold_value_expr(gold)),
        },
        rejects=pl.concat([csvfiles.rejects_with_raw(table, rejected), blob_rejects]),
        notes=notes,
    )


def _canonical(
    table: csvfiles.CsvTable, source: pl.LazyFrame, platform: str, options: SourceOptions
) -> tuple[pl.LazyFrame, list[Problem]]:
    """The query for canonical columns (times, money, status, project parsed) and its checks."""
    header = table.header
    # 'BatchId:3930024;OriginalHitTemplateId:...': sliced, as a regex is 4x slower here.
    note = column_or_null(header, "RequesterAnnotation")
    end = note.str.find(";", literal=True).fill_null(note.str.len_chars())
    batch = pl.when(note.str.starts_with("BatchId:")).then(note.str.slice(8, end - 8))
    project = pl.coalesce(
        pl.lit(options.project, dtype=pl.String), batch, column_or_null(header, "HITTypeId")
    )
    status = pl.col("AssignmentStatus").str.strip_chars()
    tz = options.source.timezone
    frame = source.with_columns(*raw_columns(table, [*TIMES, *MONEY])).with_columns(
        pl.concat_str([pl.lit(f"{platform}:"), pl.col("AssignmentId")]).alias("assignment_uid"),
        pl.col("WorkerId").str.strip_chars().alias("worker_id"),
        pl.col("HITId").alias("item_id"),
        _is_gold(_gold_columns(header, options)).alias("is_gold"),
        project.alias("project_id"),
        status.replace_strict(STATUSES, default=None, return_dtype=pl.String).alias("status"),
        *value_columns(table, TIMES, MONEY, tz),
    )
    problems = [required_problem(name) for name in REQUIRED]
    problems += [
        Problem(
            pl.col("project_id").is_null(),
            pl.lit("HITTypeId is empty and no BatchId is given: pass --project"),
        ),
        status_problem("AssignmentStatus", "status", STATUSES),
        csvfiles.too_long_problem(header),
    ]
    drop = ["HITTypeId", "RequesterAnnotation"]
    return finish_query(frame, problems, drop, TIMES, MONEY), problems


def _gold_columns(header: list[str], options: SourceOptions) -> dict[str, str]:
    """Answer field -> gold column, for the configured gold columns this file has."""
    return {f: c for f, c in options.source.gold_columns.items() if c in header}


def _is_gold(gold: dict[str, str]) -> pl.Expr:
    if not gold:
        return pl.lit(False)
    given = [pl.col(c).str.strip_chars().str.len_chars().fill_null(0) > 0 for c in gold.values()]
    return pl.any_horizontal(given)


def _annotations(
    good: pl.DataFrame, header: list[str], gold: dict[str, str], attributes: set[str]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Annotation rows from Answer.* columns and the taskAnswers JSON blob; columns config
    names as worker or item attributes (a demographics survey's answers) are attributes,
    never answers to agree on.

    Returns the good rows (less those whose taskAnswers is not JSON), the annotations and
    the rejects for bad blobs.
    """
    key = ["assignment_uid"]
    columns = {
        name[len(ANSWER) :]: name
        for name in header
        if name.startswith(ANSWER) and name != TASK_ANSWERS and name not in attributes
    }
    blob_rejects = rejects_frame([])
    parts = [answers.answer_rows(good, key, columns, gold)]
    if TASK_ANSWERS in header:
        decoded, bad = _decode_task_answers(good)
        if bad:
            blob_rejects = rejects_frame(bad)
            good = good.filter(~pl.col(csvfiles.RECORD_NO).is_in([b["record_no"] for b in bad]))
        if decoded is not None:
            rows = answers.json_answer_rows(decoded, csvfiles.RECORD_NO, "a", NOT_ANSWERS)
            uids = good.select(csvfiles.RECORD_NO, "assignment_uid")
            rows = rows.join(uids, on=csvfiles.RECORD_NO, how="inner").drop(csvfiles.RECORD_NO)
            parts.append(rows.select(*key, *[c for c in rows.columns if c not in key]))
    annotations = pl.concat(parts, how="vertical_relaxed")
    return good, annotations, blob_rejects


def _decode_task_answers(good: pl.DataFrame) -> tuple[pl.DataFrame | None, list[dict]]:
    """taskAnswers decoded in one pass as NDJSON; records whose blob is not JSON are returned
    as rejects, and the rest decoded without them."""
    blobs = good.select(csvfiles.RECORD_NO, pl.col(TASK_ANSWERS)).drop_nulls()
    if blobs.is_empty():
        return None, []
    try:
        return _read_blobs(blobs), []
    except pl.exceptions.PolarsError:
        bad = []
        for record_no, text in blobs.iter_rows():
            try:
                decode_json(text, constants=False)  # Polars' reader refuses NaN too
            except json.JSONDecodeError as exc:
                bad.append(
                    {
                        "record_no": record_no,
                        "reason": f"{TASK_ANSWERS} is not valid JSON ({exc.msg} at "
                        f"character {exc.pos}); fix or remove the record",
                        "raw": text[:2000],
                    }
                )
        kept = blobs.filter(~pl.col(csvfiles.RECORD_NO).is_in([b["record_no"] for b in bad]))
        return (_read_blobs(kept) if kept.height else None), bad


def _read_blobs(blobs: pl.DataFrame) -> pl.DataFrame:
    lines = blobs.select(
        pl.format('{{"record_no":{},"a":{}}}', csvfiles.RECORD_NO, TASK_ANSWERS)
    ).to_series()
    text = lines.str.join("\n").item()
    return pl.read_ndjson(io.BytesIO(text.encode()), infer_schema_length=None)
