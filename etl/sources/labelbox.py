"""Labelbox exports: legacy v1 JSON (a list of labels) and Export v2 NDJSON (one data row a line).

Each label is one assignment by its labeller (`Created By` / `label_details.created_by`),
with `Seconds to Label` as active time, reviews (score +1 approves, -1 rejects), skips and
benchmarks (gold). Export v2 carries the labeller only when exported with label details: a
file with none is refused with the option to tick.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from etl.sources.base import ParseResult, SourceOptions, UnreadableFile
from etl.sources.common import number_or_none, platform_name
from etl.sources.records import (
    RecordError,
    RowCollector,
    collect_json_lines,
    load_json_document,
)
from etl.sources.times import parse_instant, zone

FORMAT = "labelbox"
V1_KEYS = (b'"DataRow ID"', b'"Label"')
V2_KEYS = (b'"data_row"', b'"projects"')
NO_LABELLER = (
    "holds no labeller for any label (label_details.created_by is missing); export it again "
    "from Labelbox with 'Include label details' and 'Include performance details' ticked"
)


def sniff(head: bytes) -> bool:
    return all(k in head for k in V1_KEYS) or all(k in head for k in V2_KEYS)


def parse(path: Path, options: SourceOptions) -> ParseResult:
    collector = RowCollector(platform_name(options, FORMAT), FORMAT)
    head = path.open("rb").read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if all(k in head for k in V2_KEYS) or (head[:1] == b"{" and b'"data_row"' in head):
        rows_read = _parse_v2(path, collector, options)
        unattributed = [r for r in collector.rejects if "has no labeller" in r["reason"]]
        if (
            unattributed
            and not collector.assignments
            and len(unattributed) == len(collector.rejects)
        ):
            raise UnreadableFile(f"{path.name} is a Labelbox Export v2 file that {NO_LABELLER}")
    else:
        rows_read = _parse_v1(path, collector, options)
    return collector.result(rows_read=rows_read)


def _parse_v1(path: Path, collector: RowCollector, options: SourceOptions) -> int:
    document = load_json_document(path, FORMAT)
    labels = document if isinstance(document, list) else [document]
    tz = zone(options.source.timezone)
    for record_no, label in enumerate(labels, start=1):
        with collector.record(record_no, label):
            _v1_label(collector, label, options, tz)
    return len(labels)


def _v1_label(collector: RowCollector, label: Any, options: SourceOptions, tz: Any) -> None:
    if not isinstance(label, dict) or "ID" not in label:
        raise RecordError("the record is not a Labelbox v1 label (no 'ID')")
    uid = f"{collector.platform}:{label['ID']}"
    status, reviewer, reviewed_at = _v1_review(label, tz)
    project = options.project or label.get("Project Name") or label.get("Project ID")
    if not project:
        raise RecordError("the label names no project ('Project Name'): pass --project")
    collector.assignment(
        {
            "assignment_uid": uid,
            "project_id": str(project),
            "item_id": str(label["DataRow ID"]),
            "worker_id": label.get("Created By"),
            "submitted_at": parse_instant(label.get("Created At"), tz),
            "active_seconds": number_or_none(label.get("Seconds to Label")),
            "status": "skipped" if label.get("Skipped") else status,
            "is_gold": label.get("Benchmark ID") not in (None, ""),
            "reviewer_id": reviewer,
            "reviewed_at": reviewed_at,
        }
    )
    body = label.get("Label")
    if isinstance(body, dict):
        _answers(collector, uid, body.get("objects"), body.get("classifications"))


def _v1_review(label: dict, tz: Any) -> tuple[str, str | None, Any]:
    reviews = [r for r in label.get("Reviews") or [] if isinstance(r, dict)]
    if not reviews:
        return "submitted", None, None
    latest = max(reviews, key=lambda r: str(r.get("createdAt") or ""))
    status = "approved" if (number_or_none(latest.get("score")) or 0) > 0 else "rejected"
    return status, latest.get("createdBy"), parse_instant(latest.get("createdAt"), tz)


def _parse_v2(path: Path, collector: RowCollector, options: SourceOptions) -> int:
    tz = zone(options.source.timezone)
    return collect_json_lines(path, collector, lambda r: _v2_data_row(collector, r, options, tz))


def _v2_data_row(collector: RowCollector, record: Any, options: SourceOptions, tz: Any) -> None:
    if not isinstance(record, dict) or "data_row" not in record:
        raise RecordError("the line is not a Labelbox Export v2 data row (no 'data_row')")
    item_id = str(record["data_row"]["id"])
    for project_id, project in (record.get("projects") or {}).items():
        for label in project.get("labels") or []:
            details = label.get("label_details") or {}
            performance = label.get("performance_details") or {}
            if not details.get("created_by"):
                raise RecordError(
                    f"label {label.get('id')} has no labeller: the file {NO_LABELLER}"
                )
            uid = f"{collector.platform}:{label['id']}"
            status, reviewer, reviewed_at = _v2_review(details, tz)
            collector.assignment(
                {
                    "assignment_uid": uid,
                    "project_id": options.project or str(project_id),
                    "item_id": item_id,
                    "worker_id": details["created_by"],
                    "submitted_at": parse_instant(details.get("created_at"), tz),
                    "active_seconds": number_or_none(performance.get("seconds_to_create")),
                    "status": "skipped" if performance.get("skipped") else status,
                    "is_gold": bool(label.get("is_benchmark_reference")),
                    "reviewer_id": reviewer,
                    "reviewed_at": reviewed_at,
                }
            )
            annotations = label.get("annotations") or {}
            _answers(collector, uid, annotations.get("objects"), annotations.get("classifications"))


def _v2_review(details: dict, tz: Any) -> tuple[str, str | None, Any]:
    reviews = [r for r in details.get("reviews") or [] if isinstance(r, dict)]
    if not reviews:
        return "submitted", None, None
    latest = max(reviews, key=lambda r: str(r.get("reviewed_at") or ""))
    action = str(latest.get("review_action") or "").lower()
    status = "approved" if action in ("approve", "approved", "accept") else "rejected"
    return status, latest.get("reviewed_by"), parse_instant(latest.get("reviewed_at"), tz)


def _answers(collector: RowCollector, uid: str, objects: Any, classifications: Any) -> None:
    for obj in objects or []:
        name = obj.get("value") or obj.get("name") or obj.get("title")
        region = _region(obj, name)
        collector.answer(uid, str(name), name, region=region)
        for nested in obj.get("classifications") or []:
            _classification(collector, uid, nested, prefix=f"{name}/")
    for classification in classifications or []:
        _classification(collector, uid, classification, prefix="")


def _region(obj: dict, label: Any) -> dict:
    box = obj.get("bbox") or obj.get("bounding_box")
    if isinstance(box, dict):
        return {
            "x": box.get("left"),
            "y": box.get("top"),
            "w": box.get("width"),
            "h": box.get("height"),
            "label": label,
        }
    location = (obj.get("data") or {}).get("location") or obj.get("location")
    if isinstance(location, dict) and "start" in location:
        return {"start": location["start"], "end": location.get("end"), "label": label}
    shape = {k: v for k, v in obj.items() if k in ("polygon", "point", "line", "mask")}
    return {**shape, "label": label}


def _classification(collector: RowCollector, uid: str, item: dict, prefix: str) -> None:
    """Radio, checklist and free-text answers; nested ones get 'parent/child' field names."""
    field_name = prefix + str(item.get("value") or item.get("name") or item.get("title"))
    answers: list[Any] = []
    if "radio_answer" in item:
        answers = [item["radio_answer"]]
    elif "checklist_answers" in item:
        answers = item["checklist_answers"]
    elif "text_answer" in item:
        answers = [(item["text_answer"] or {}).get("content")]
    elif "answer" in item:  # v1: an option object, a list of them, or free text
        raw = item["answer"]
        answers = raw if isinstance(raw, list) else [raw]
    elif "answers" in item:
        answers = item["answers"]
    for answer in answers:
        if isinstance(answer, dict):
            value = answer.get("value") or answer.get("name") or answer.get("title")
            collector.answer(uid, field_name, value, value_num=number_or_none(value))
            for nested in answer.get("classifications") or []:
                _classification(collector, uid, nested, prefix=f"{field_name}/")
        elif answer is not None:
            text = answer if isinstance(answer, str) else json.dumps(answer)
            collector.answer(uid, field_name, text, value_num=number_or_none(text))
