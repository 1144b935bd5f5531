"""Prodigy `db-out` JSONL: one line per decision (accept, reject, ignore) with spans and choices.

The annotator is `_annotator_id` (or `_session_id`) when it names someone; Prodigy's unnamed
sessions are bare timestamps, and then the file name is the annotator (`alice.jsonl`) and
the folder name the project, unless --project says otherwise. `_timestamp` is the save time:
there is no start time. `accept`/`reject` are the annotator's answers, not review outcomes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from etl.sources.base import ParseResult, SourceOptions
from etl.sources.common import file_stem, number_or_none, platform_name, stable_uid
from etl.sources.records import RecordError, RowCollector, collect_json_lines
from etl.sources.times import parse_instant, zone

FORMAT = "prodigy"
ANSWER_STATUS = {"accept": "submitted", "reject": "submitted", "ignore": "skipped"}
# Prodigy names an unnamed session after the time it started.
UNNAMED_SESSION = re.compile(r"^(?:.+-)?\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}$")


def sniff(head: bytes) -> bool:
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return first == b"{" and b'"_input_hash"' in head and b'"_task_hash"' in head


def parse(path: Path, options: SourceOptions) -> ParseResult:
    collector = RowCollector(platform_name(options, FORMAT), FORMAT)
    tz = zone(options.source.timezone)
    named_by_file: set[str] = set()
    project = _project(path, options)

    def handle(record: dict) -> None:
        annotator = _annotator(record)
        if annotator is None:
            annotator = file_stem(path)
            named_by_file.add(annotator)
        _decision(collector, record, annotator, project, tz)

    rows_read = collect_json_lines(path, collector, handle)
    return collector.result(rows_read=rows_read, notes=_notes(path, options, named_by_file))


def _annotator(record: dict) -> str | None:
    for key in ("_annotator_id", "_session_id"):
        value = record.get(key)
        if value not in (None, "") and not UNNAMED_SESSION.match(str(value)):
            return str(value)
    return None


def _project(path: Path, options: SourceOptions) -> str:
    return options.project or path.resolve().parent.name or file_stem(path)


def _decision(collector: RowCollector, record: dict, annotator: str, project: str, tz: Any) -> None:
    answer = record.get("answer")
    if answer not in ANSWER_STATUS:
        raise RecordError(
            f"answer {answer!r} is not a Prodigy decision; accepted values: "
            f"{', '.join(ANSWER_STATUS)}"
        )
    item_id = str(record.get("_input_hash", ""))
    if not item_id:
        raise RecordError("the record has no _input_hash, so its item is unknown")
    task = str(record.get("_task_hash") or item_id)
    uid = stable_uid(collector.platform, project, task, annotator)
    collector.assignment(
        {
            "assignment_uid": uid,
            "project_id": project,
            "item_id": item_id,
            "worker_id": annotator,
            "submitted_at": parse_instant(record.get("_timestamp"), tz),
            "status": ANSWER_STATUS[answer],
            "is_gold": False,
        }
    )
    collector.answer(uid, "answer", answer)
    if record.get("label") is not None:
        collector.answer(uid, "label", record["label"])
    for span in record.get("spans") or []:
        if isinstance(span, dict) and "start" in span and "end" in span:
            region = {"start": span["start"], "end": span["end"], "label": span.get("label")}
            collector.answer(uid, "spans", span.get("label"), region=region)
    for option in record.get("accept") or []:
        collector.answer(uid, "accept", option, value_num=number_or_none(option))


def _notes(path: Path, options: SourceOptions, named_by_file: set[str]) -> list[str]:
    if not named_by_file:
        return []
    note = (
        f"{path.name}: no annotator name in the records, so the annotator is the file name "
        f"({', '.join(sorted(named_by_file))})"
    )
    if not options.project:
        project = _project(path, options)
        note += f" and the project the folder name ({project}); pass --project to set it"
    return [note]
