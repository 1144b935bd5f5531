"""doccano JSONL export: spans (`[start, end, label]`) or categories per example.

doccano exports one file per annotator with no annotator field and no times, so the file
name is the annotator (`admin.jsonl`) and the folder name the project unless --project says
otherwise. The older layout's `annotation_approver` is the reviewer who approved the example.
"""

from __future__ import annotations

from pathlib import Path

from etl.sources.base import ParseResult, SourceOptions
from etl.sources.common import file_stem, platform_name, stable_uid
from etl.sources.records import RecordError, RowCollector, collect_json_lines

FORMAT = "doccano"
LABEL_KEYS = ("label", "labels", "entities")


def sniff(head: bytes) -> bool:
    first_line = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    if not first_line.startswith(b"{") or b'"_input_hash"' in first_line:
        return False
    has_label = any(f'"{key}"'.encode() in first_line for key in LABEL_KEYS)
    return has_label and b'"text"' in first_line


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
    for label in labels or []:
        _label(collector, uid, label)


def _label(collector: RowCollector, uid: str, label: object) -> None:
    """A span `[start, end, label]` / `{start_offset, end_offset, label}` or a category."""
    if isinstance(label, list) and len(label) == 3:
        start, end, name = label
        region = {"start": start, "end": end, "label": name}
        collector.answer(uid, "spans", name, region=region)
    elif isinstance(label, dict) and "start_offset" in label:
        name = label.get("label")
        region = {"start": label["start_offset"], "end": label.get("end_offset"), "label": name}
        collector.answer(uid, "spans", name, region=region)
    elif isinstance(label, str | int | float):
        collector.answer(uid, "category", label)
    else:
        raise RecordError(
            f"label {label!r} is neither a span [start, end, label] nor a category name"
        )
