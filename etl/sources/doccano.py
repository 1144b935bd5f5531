"""doccano JSONL export: spans or categories per example, in both of doccano's layouts.

An example's text is `text` (current doccano, and 0.x) or `data` (1.x); its answers are
`label` (or `labels`, `entities`): spans as `[start, end, "TAG"]` lists or
`{start_offset, end_offset, label}` dicts, or category names. The layout is recognised from
the first record's keys and values, not from the file name.

doccano exports one file per annotator with no annotator field and no times, so the file
name is the annotator (`admin.jsonl`) and the folder name the project unless --project says
otherwise. The older layout's `annotation_approver` is the reviewer who approved the example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.sources.base import ParseResult, SourceOptions
from etl.sources.common import file_stem, platform_name, stable_uid
from etl.sources.records import RecordError, RowCollector, collect_json_lines, decode_json

FORMAT = "doccano"
TEXT_KEYS = ("text", "data")
LABEL_KEYS = ("label", "labels", "entities")
# Keys other JSONL formats carry that no doccano example has (Prodigy, Label Studio, Labelbox).
OTHER_FORMATS_KEYS = ("_input_hash", "_task_hash", "annotations", "data_row", "completed_by")


def sniff(head: bytes) -> bool:
    first_line = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    if not first_line.startswith(b"{"):
        return False
    try:
        record = decode_json(first_line)
    except (ValueError, RecursionError):
        return _looks_like_example(first_line)  # a first line longer than the head
    return isinstance(record, dict) and is_example(record)


def is_example(record: dict[str, Any]) -> bool:
    """A doccano example: a text (`text` or `data`) and its labels, and no other tool's keys."""
    if any(key in record for key in OTHER_FORMATS_KEYS):
        return False
    has_text = any(isinstance(record.get(key), str) for key in TEXT_KEYS)
    labels = next((record[key] for key in LABEL_KEYS if key in record), None)
    return has_text and isinstance(labels, list | str)


def _looks_like_example(first_line: bytes) -> bool:
    if any(f'"{key}"'.encode() in first_line for key in OTHER_FORMATS_KEYS):
        return False
    has_label = any(f'"{key}"'.encode() in first_line for key in LABEL_KEYS)
    return has_label and any(f'"{key}"'.encode() in first_line for key in TEXT_KEYS)


def parse(path: Path, options: SourceOptions) -> ParseResult:
    platform = platform_name(options, FORMAT)
    collector = RowCollector(platform, FORMAT)
    annotator = file_stem(path)
    project = options.project or path.resolve().parent.name or annotator
    rows_read = collect_json_lines(
        path, collector, lambda record: _example(collector, record, annotator, project)
    )
    note = (
        f"{path.name}: doccano names no annotator, so the annotator is the file name ({annotator})"
    )
    if not options.project:
        note += f" and the project the folder name ({project}); pass --project to set it"
    return collector.result(rows_read=rows_read, notes=[note])


def _example(collector: RowCollector, record: dict, annotator: str, project: str) -> None:
    if record.get("id") is None:
        raise RecordError("the example has no id, so its item is unknown")
    item_id = str(record["id"])
    approver = record.get("annotation_approver")
    approver = None if approver in (None, "", "None") else str(approver)
    uid = stable_uid(collector.platform, project, item_id, annotator)
    collector.assignment(
        {
            "assignment_uid": uid,
            "project_id": project,
            "item_id": item_id,
            "worker_id": annotator,
            "status": "approved" if approver else "submitted",
            "reviewer_id": approver,
            "is_gold": False,
        }
    )
    labels = next((record[k] for k in LABEL_KEYS if k in record), [])
    if isinstance(labels, str):  # a single category written bare
        labels = [labels]
    if not isinstance(labels, list):
        raise RecordError(f"label {labels!r} is neither a list of spans nor of categories")
    for label in labels:
        _label(collector, uid, label)


def _label(collector: RowCollector, uid: str, label: object) -> None:
    """A span `[start, end, label]` / `{start_offset, end_offset, label}` or a category."""
    if isinstance(label, list) and len(label) == 3:
        start, end, name = label
        collector.answer(uid, "spans", name, region=_span(start, end, name))
    elif isinstance(label, dict) and "start_offset" in label:
        name = label.get("label")
        region = _span(label["start_offset"], label.get("end_offset"), name)
        collector.answer(uid, "spans", name, region=region)
    elif isinstance(label, str | int | float) and not isinstance(label, bool):
        collector.answer(uid, "category", label)
    else:
        raise RecordError(
            f"label {str(label)[:80]!r} is neither a span [start, end, label] nor a category name"
        )


def _span(start: object, end: object, name: object) -> dict[str, Any]:
    offsets = (start, end)
    if not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets):
        raise RecordError(f"span {[start, end, name]!r:.80} has offsets that are not whole numbers")
    if not 0 <= start <= end:  # type: ignore[operator]
        raise RecordError(f"span {[start, end, name]!r:.80} ends before it starts")
    return {"start": start, "end": end, "label": name}
