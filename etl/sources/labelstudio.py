"""Label Studio JSON export (full, one record per task), JSON_MIN (one per annotation), and
the CSV/TSV exports (JSON_MIN flattened, one row per annotation, when they carry annotators).

Each annotation is one assignment. `was_cancelled` means skipped; the latest review decides
approved or rejected; `lead_time` (seconds, idle tab time included) is the active time and
the start is the submit time minus it; `ground_truth` marks gold, whose answers become the
gold values of the other annotators' answers on that task.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from etl.sources import csvfiles
from etl.sources.base import ParseResult, SourceOptions, UnreadableFile
from etl.sources.common import file_stem, number_or_none, platform_name
from etl.sources.records import RecordError, RowCollector, decode_json, load_json_document
from etl.sources.times import parse_instant, zone

FORMAT = "labelstudio"
# Result types whose value is a region; the list key names the region's labels.
REGION_LABEL_KEYS = (
    "labels",
    "rectanglelabels",
    "polygonlabels",
    "keypointlabels",
    "brushlabels",
    "ellipselabels",
    "hypertextlabels",
    "paragraphlabels",
    "timeserieslabels",
)
LAST_ACTION_STATUS = {
    "rejected": "rejected",
    "accepted": "approved",
    "fixed_and_accepted": "approved",
}
# JSON_MIN keys written after the answers (the converter's order: data, id, answers, these).
MIN_META = ("annotator", "annotation_id", "created_at", "updated_at", "lead_time", "agreement")


def sniff(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] not in (b"[", b"{"):
        return _delimited_header(text) is not None
    full = b'"annotations"' in head and (b'"completed_by"' in head or b'"result"' in head)
    minimal = b'"annotator"' in head and b'"annotation_id"' in head
    return full or minimal


# The CSV and TSV exports are JSON_MIN flattened (the converter's order: data, id, answers,
# then these); an answer that is a list or an object is written as JSON text.
CSV_META = {"annotator", "annotation_id"}


def _delimited_header(head: bytes) -> str | None:
    """The separator of a Label Studio CSV/TSV export's first line, if it is one."""
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    for separator in ("\t", ","):
        names = {name.strip().strip('"') for name in first.split(separator)}
        if names >= CSV_META and names & {"created_at", "lead_time"}:
            return separator
    return None


def parse(path: Path, options: SourceOptions) -> ParseResult:
    with path.open("rb") as fh:
        head = fh.read(64 * 1024).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] not in (b"[", b"{"):
        return _parse_delimited(path, head, options)
    document = load_json_document(path, FORMAT)
    records = document if isinstance(document, list) else [document]
    if not all(isinstance(r, dict) for r in records):
        raise UnreadableFile(
            f"{path.name} is JSON but not a Label Studio export (expected a list of tasks); "
            "export again with the JSON or JSON_MIN format"
        )
    collector = RowCollector(platform_name(options, FORMAT), FORMAT)
    minimal = bool(records) and "annotations" not in records[0] and "annotation_id" in records[0]
    default_project = options.project or file_stem(path)
    for record_no, record in enumerate(records, start=1):
        with collector.record(record_no, record):
            if minimal:
                _min_record(collector, record, default_project, options)
            else:
                _task(collector, record, default_project, options)
    return collector.result(rows_read=len(records))


def _parse_delimited(path: Path, head: bytes, options: SourceOptions) -> ParseResult:
    """A CSV or TSV export: one row per annotation, read as the JSON_MIN record it flattens."""
    separator = _delimited_header(head)
    if separator is None:
        raise UnreadableFile(
            f"{path.name} is a Label Studio CSV/TSV without annotator columns (annotator, "
            "annotation_id, created_at, lead_time): it holds the labels but not who gave them, "
            "so no worker figure can come from it. Export the project as JSON (or JSON_MIN)"
        )
    _, rows = csvfiles.csv_rows(path, FORMAT, separator, sorted(CSV_META), limits=options.limits)
    collector = RowCollector(platform_name(options, FORMAT), FORMAT)
    default_project = options.project or file_stem(path)
    rows_read = 0
    for record_no, row, raw, problem in rows:
        rows_read += 1
        with collector.record(record_no, raw):
            if problem:
                raise RecordError(problem)
            record = {key: _cell(value) for key, value in row.items()}
            _min_record(collector, record, default_project, options, flattened=True)
    return collector.result(rows_read=rows_read)


def _cell(value: str | None) -> Any:
    """A CSV cell as JSON_MIN holds it: lists and objects decoded from their JSON text."""
    if value is None or value[:1] not in ("[", "{"):
        return value
    try:
        return decode_json(value)
    except ValueError:
        return value


def _task(
    collector: RowCollector, task: dict, default_project: str, options: SourceOptions
) -> None:
    if "annotations" not in task:
        raise RecordError("the task has no 'annotations' list; is this a Label Studio export?")
    tz = zone(options.source.timezone)
    item_id = str(task["id"])
    annotations = [a for a in task["annotations"] or [] if isinstance(a, dict)]
    gold = _gold_answers(annotations)
    first = annotations[0] if annotations else {}
    project = options.project or str(task.get("project") or first.get("project") or default_project)
    for annotation in annotations:
        uid = f"{collector.platform}:{annotation['id']}"
        _assignment(collector, uid, annotation, project, item_id, tz)
        _worker_attributes(collector, annotation, options.source.worker_attributes)
        # The ground truth's own answers are the gold, not answers to it: never scored.
        graded_against = {} if annotation.get("ground_truth") else gold
        for result in annotation.get("result") or []:
            if isinstance(result, dict) and result.get("from_name"):
                kind, value = result.get("type"), result.get("value")
                _result_answers(collector, uid, result["from_name"], kind, value, graded_against)
    if gold:
        collector.item(project, item_id, gold_value=_single_gold(gold))


def _assignment(
    collector: RowCollector, uid: str, annotation: dict, project: str, item_id: str, tz: Any
) -> None:
    submitted = parse_instant(annotation.get("created_at"), tz)
    lead_time = number_or_none(annotation.get("lead_time"))
    status, reviewer, reviewed_at = _review(annotation, tz)
    collector.assignment(
        {
            "assignment_uid": uid,
            "project_id": project,
            "item_id": item_id,
            "worker_id": _user_id(annotation.get("completed_by")),
            "started_at": submitted - timedelta(seconds=lead_time)
            if submitted and lead_time
            else None,
            "submitted_at": submitted,
            "active_seconds": lead_time,
            "status": status,
            "is_gold": bool(annotation.get("ground_truth")),
            "reviewer_id": reviewer,
            "reviewed_at": reviewed_at,
        }
    )


def _worker_attributes(
    collector: RowCollector, annotation: dict, attributes: dict[str, str]
) -> None:
    """Self-reported groups at the configured key paths of an annotation (`completed_by.gender`);
    Label Studio has no such fields of its own, so they are never guessed."""
    worker_id = _user_id(annotation.get("completed_by"))
    if not attributes or worker_id is None:
        return
    found = {}
    for name, path in attributes.items():
        value: Any = annotation
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value not in (None, ""):
            found[name] = str(value)
    if found:
        collector.worker(worker_id, attributes=json.dumps(found, sort_keys=True))


def _review(annotation: dict, tz: Any) -> tuple[str, str | None, Any]:
    """Status, reviewer, review time: skipped, else the latest review, else the last action."""
    if annotation.get("was_cancelled"):
        return "skipped", None, None
    reviews = [r for r in annotation.get("reviews") or [] if isinstance(r, dict)]
    if reviews:
        latest = max(reviews, key=lambda r: str(r.get("created_at") or ""))
        status = "approved" if latest.get("accepted") else "rejected"
        return (
            status,
            _user_id(latest.get("created_by")),
            parse_instant(latest.get("created_at"), tz),
        )
    status = LAST_ACTION_STATUS.get(str(annotation.get("last_action") or ""), "submitted")
    return status, None, None


def _user_id(user: Any) -> str | None:
    """Label Studio users are objects with an id, or bare ids; e-mails are never kept."""
    if isinstance(user, dict):
        user = user.get("id")
    return None if user is None or isinstance(user, bool) else str(user)


def _gold_answers(annotations: list[dict]) -> dict[str, str]:
    """field -> the ground-truth annotation's single answer (choices, ratings, text)."""
    for annotation in annotations:
        if not annotation.get("ground_truth"):
            continue
        values: dict[str, list[str]] = {}
        for result in annotation.get("result") or []:
            if not isinstance(result, dict) or not result.get("from_name"):
                continue
            for value, region in _values(result.get("type"), result.get("value")):
                if region is None:
                    values.setdefault(result["from_name"], []).append(value)
        return {name: found[0] for name, found in values.items() if len(found) == 1}
    return {}


def _single_gold(gold: dict[str, str]) -> str:
    if len(gold) == 1:
        return next(iter(gold.values()))
    return json.dumps(gold, sort_keys=True, ensure_ascii=False)


def _result_answers(
    collector: RowCollector,
    uid: str,
    field_name: str,
    kind: str | None,
    value: Any,
    gold: dict[str, str],
) -> None:
    for text, region in _values(kind, value):
        collector.answer(
            uid,
            field_name,
            text,
            value_num=number_or_none(text) if region is None else None,
            region=region,
            gold_value=gold.get(field_name) if region is None else None,
        )


def _values(kind: str | None, value: Any) -> list[tuple[str | None, dict | None]]:
    """(answer text, region or None) pairs of one result value."""
    if not isinstance(value, dict):
        return [] if value is None else [(str(value), None)]
    kind = (kind or _kind_of(value)).lower()
    if kind == "taxonomy":
        return [("/".join(str(p) for p in path), None) for path in value.get("taxonomy") or []]
    if kind == "choices":
        return [(str(c), None) for c in value.get("choices") or []]
    if kind == "textarea":
        return [(str(t), None) for t in value.get("text") or []]
    if kind in ("rating", "number", "datetime"):
        return [(str(value.get(kind)), None)]
    if kind in REGION_LABEL_KEYS or kind in ("rectangle", "polygon", "keypoint", "ellipse"):
        return _regions(value)
    return [(json.dumps(value, sort_keys=True, ensure_ascii=False), None)]


def _regions(value: dict) -> list[tuple[str | None, dict | None]]:
    labels = next((value[k] for k in REGION_LABEL_KEYS if isinstance(value.get(k), list)), [None])
    region = _region_shape(value)
    return [(None if label is None else str(label), {**region, "label": label}) for label in labels]


def _region_shape(value: dict) -> dict:
    if "start" in value and "end" in value:
        shape = {"start": value["start"], "end": value["end"]}
        if "text" in value:
            shape["text"] = value["text"]
        return shape
    if {"x", "y", "width", "height"} <= set(value):
        return {"x": value["x"], "y": value["y"], "w": value["width"], "h": value["height"]}
    skip = {*REGION_LABEL_KEYS, "type"}
    return {k: v for k, v in value.items() if k not in skip}


def _kind_of(value: dict) -> str:
    """The result type of a JSON_MIN value, which carries no `type`."""
    for key in ("taxonomy", "choices", *REGION_LABEL_KEYS, "rating", "number", "datetime"):
        if key in value:
            return key
    if "text" in value and isinstance(value["text"], list):
        return "textarea"
    return "unknown"


def _min_record(
    collector: RowCollector,
    record: dict,
    default_project: str,
    options: SourceOptions,
    flattened: bool = False,
) -> None:
    tz = zone(options.source.timezone)
    if record.get("annotation_id") is None:
        raise RecordError(
            "the record has no annotation_id; is this a Label Studio JSON_MIN export?"
        )
    uid = f"{collector.platform}:{record['annotation_id']}"
    submitted = parse_instant(record.get("created_at"), tz)
    lead_time = number_or_none(record.get("lead_time"))
    collector.assignment(
        {
            "assignment_uid": uid,
            "project_id": options.project or default_project,
            "item_id": str(record.get("id")),
            "worker_id": _user_id(record.get("annotator")),
            "started_at": submitted - timedelta(seconds=lead_time)
            if submitted and lead_time
            else None,
            "submitted_at": submitted,
            "active_seconds": lead_time,
            "status": "submitted",
            "is_gold": False,
        }
    )
    for name, value in _min_answers(record, flattened).items():
        items = value if isinstance(value, list) else [value]
        for element in items:
            if isinstance(element, dict):
                _result_answers(collector, uid, name, None, element, {})
            elif element is not None:
                collector.answer(uid, name, element, value_num=number_or_none(element))


def _min_answers(record: dict, flattened: bool = False) -> dict[str, Any]:
    """The answer keys of a JSON_MIN record: after `id`, before the annotation metadata. In a
    flattened (CSV/TSV) export the columns are every record's keys in order of first use, so
    an answer first given in a later row stands after the metadata: there every key after
    `id` but the metadata is an answer."""
    keys = list(record)
    start = keys.index("id") + 1 if "id" in keys else 0
    answers = {}
    for key in keys[start:]:
        if key in MIN_META:
            if flattened:
                continue
            break
        answers[key] = record[key]
    if "id" not in keys:
        # Without the id marker, only structured values are surely answers, not task data.
        answers = {k: v for k, v in answers.items() if isinstance(v, list | dict)}
    return answers
