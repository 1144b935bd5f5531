"""Label Studio, Prodigy, Labelbox and doccano importers on the project's own fixtures."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from etl.sources import parse_file
from etl.sources.base import SourceOptions, UnreadableFile

FIXTURES = Path(__file__).parent / "fixtures"


def rows_by(frame: pl.DataFrame, key: str) -> dict:
    return {row[key]: row for row in frame.iter_rows(named=True)}


def answers_of(result, uid: str, field: str) -> list[dict]:
    frame = result.frames["annotations"]
    picked = frame.filter(pl.col("assignment_uid") == uid, pl.col("field") == field)
    return picked.sort("ordinal").to_dicts()


def test_labelstudio_statuses_reviews_gold_and_time() -> None:
    result = parse_file(FIXTURES / "labelstudio_export.json")
    rows = rows_by(result.frames["assignments"], "assignment_uid")
    gold, reviewed, skipped, accepted = (rows[f"labelstudio:{i}"] for i in (101, 102, 103, 104))
    assert gold["is_gold"] and gold["worker_id"] == "7" and gold["status"] == "submitted"
    assert reviewed["worker_id"] == "8"  # completed_by as a bare id
    assert reviewed["status"] == "rejected"  # the latest review rejected it
    assert reviewed["reviewer_id"] == "10"
    assert reviewed["reviewed_at"] == datetime(2024, 5, 17, 9, 0, tzinfo=UTC)
    assert reviewed["submitted_at"] == datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
    assert reviewed["active_seconds"] == 30.5
    assert reviewed["started_at"] == datetime(2024, 5, 15, 11, 59, 29, 500000, tzinfo=UTC)
    assert skipped["status"] == "skipped"
    assert accepted["status"] == "approved"
    assert {r["project_id"] for r in rows.values()} == {"5"}


def test_labelstudio_answers_spans_taxonomy_boxes_and_gold_values() -> None:
    result = parse_file(FIXTURES / "labelstudio_export.json")
    sentiment = answers_of(result, "labelstudio:102", "sentiment")
    assert [(a["value"], a["gold_value"]) for a in sentiment] == [("Positive", "Neutral")]
    spans = answers_of(result, "labelstudio:102", "ner")
    assert [a["ordinal"] for a in spans] == [0, 1]
    assert json.loads(spans[1]["region"]) == {"start": 19, "end": 22, "label": "Thing"}
    assert [a["value"] for a in answers_of(result, "labelstudio:102", "topic")] == [
        "Home/Pets",
        "Home",
    ]
    box = answers_of(result, "labelstudio:104", "box")[0]
    assert json.loads(box["region"]) == {"x": 10, "y": 20, "w": 30, "h": 40, "label": "Car"}
    items = rows_by(result.frames["items"], "item_id")
    assert items["11"]["gold_value"] == "Neutral"
    # the ground truth's own answer is the gold, never scored against itself
    own = answers_of(result, "labelstudio:101", "sentiment")
    assert [(a["value"], a["gold_value"]) for a in own] == [("Neutral", None)]
    assert all("example.org" not in str(v) for f in result.frames.values() for v in f.rows())


def test_labelstudio_json_min() -> None:
    result = parse_file(FIXTURES / "labelstudio_min.json", options=SourceOptions(project="p"))
    rows = rows_by(result.frames["assignments"], "assignment_uid")
    assert rows["labelstudio:31"]["worker_id"] == "3"
    assert rows["labelstudio:31"]["project_id"] == "p"
    assert rows["labelstudio:32"]["active_seconds"] == 3.0
    assert [a["value"] for a in answers_of(result, "labelstudio:31", "sentiment")] == ["Positive"]
    assert [a["value"] for a in answers_of(result, "labelstudio:32", "sentiment")] == [
        "Negative",
        "Angry",
    ]
    span = answers_of(result, "labelstudio:32", "ner")[0]
    assert json.loads(span["region"])["start"] == 0 and span["value"] == "Opinion"
    assert result.frames["annotations"].filter(pl.col("field") == "text").height == 0


def test_labelstudio_bad_task_is_rejected_and_truncated_file_unreadable(tmp_path: Path) -> None:
    tasks = json.loads((FIXTURES / "labelstudio_export.json").read_text())
    tasks[1]["annotations"][0]["created_at"] = "the day before yesterday"
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    result = parse_file(path)
    assert result.rejects["record_no"].to_list() == [2]
    assert "cannot read time 'the day before yesterday'" in result.rejects["reason"][0]
    assert result.frames["assignments"].height == 3
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(tasks)[:500])
    with pytest.raises(UnreadableFile, match="not complete JSON"):
        parse_file(cut, "labelstudio")


def test_prodigy_annotators_answers_and_skips(tmp_path: Path) -> None:
    folder = tmp_path / "news-project"
    folder.mkdir()
    path = folder / "carol.jsonl"
    shutil.copy(FIXTURES / "prodigy_dataset.jsonl", path)
    result = parse_file(path)
    frame = result.frames["assignments"]
    assert sorted(frame["worker_id"]) == ["carol", "news-alice", "news-alice", "news-bob"]
    assert dict(frame["status"].value_counts().iter_rows()) == {"submitted": 3, "skipped": 1}
    assert set(frame["project_id"]) == {"news-project"}
    first = frame.filter(pl.col("worker_id") == "news-bob").row(0, named=True)
    assert first["submitted_at"] == datetime(2024, 4, 23, 12, 48, 20, tzinfo=UTC)
    assert first["started_at"] is None
    annotations = result.frames["annotations"]
    assert annotations.filter(pl.col("field") == "answer")["value"].sort().to_list() == [
        "accept",
        "accept",
        "ignore",
        "reject",
    ]
    span = annotations.filter(pl.col("field") == "spans").row(0, named=True)
    assert json.loads(span["region"]) == {"start": 0, "end": 5, "label": "ORG"}
    assert annotations.filter(pl.col("field") == "accept")["value_num"].to_list() == [1.0, 2.0]
    assert "carol" in result.notes[0] and "news-project" in result.notes[0]
    again = parse_file(path)
    assert sorted(again.frames["assignments"]["assignment_uid"]) == sorted(frame["assignment_uid"])


def test_prodigy_bad_lines(tmp_path: Path) -> None:
    good = (FIXTURES / "prodigy_dataset.jsonl").read_text().splitlines()[0]
    path = tmp_path / "x.jsonl"
    lines = [good, '{"text": "cut', '{"_input_hash": 5, "_task_hash": 6, "answer": "maybe"}',
             "[1, 2]", good]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    result = parse_file(path, "prodigy")
    reasons = dict(result.rejects.select("record_no", "reason").iter_rows())
    assert sorted(reasons) == [2, 3, 4, 5]
    assert "not valid JSON" in reasons[2]
    assert "answer 'maybe'" in reasons[3] and "accept, reject, ignore" in reasons[3]
    assert "not an object" in reasons[4]
    assert "appears again" in reasons[5]
    assert result.frames["assignments"].height == 1


def test_labelbox_v1_labels_reviews_benchmarks_and_skips() -> None:
    result = parse_file(FIXTURES / "labelbox_v1.json")
    rows = rows_by(result.frames["assignments"], "assignment_uid")
    first, second, third = rows["labelbox:L1"], rows["labelbox:L2"], rows["labelbox:L3"]
    assert first["status"] == "approved" and first["reviewer_id"] == "rev@example.org"
    assert first["active_seconds"] == 150.9 and first["project_id"] == "cars"
    assert second["status"] == "rejected" and second["is_gold"]
    assert third["status"] == "skipped"
    box = answers_of(result, "labelbox:L1", "car")[0]
    assert json.loads(box["region"]) == {"x": 2, "y": 1, "w": 4, "h": 3, "label": "car"}
    assert [a["value"] for a in answers_of(result, "labelbox:L1", "car/color")] == ["red"]
    assert [a["value"] for a in answers_of(result, "labelbox:L1", "tags")] == ["urban", "day"]
    span = answers_of(result, "labelbox:L3", "entity")[0]
    assert json.loads(span["region"]) == {"start": 3, "end": 9, "label": "entity"}


def test_labelbox_v2_labels_and_bad_lines() -> None:
    result = parse_file(FIXTURES / "labelbox_v2.ndjson")
    rows = rows_by(result.frames["assignments"], "assignment_uid")
    assert sorted(rows) == ["labelbox:L1", "labelbox:L2"]
    assert rows["labelbox:L1"]["status"] == "approved"
    assert rows["labelbox:L1"]["reviewer_id"] == "boss@example.org"
    assert rows["labelbox:L1"]["active_seconds"] == 12.5
    assert rows["labelbox:L2"]["status"] == "skipped"
    assert rows["labelbox:L1"]["project_id"] == "P1"
    assert [a["value"] for a in answers_of(result, "labelbox:L1", "species")] == ["owl"]
    assert [a["value"] for a in answers_of(result, "labelbox:L1", "traits")] == ["small", "brown"]
    reasons = dict(result.rejects.select("record_no", "reason").iter_rows())
    assert "has no labeller" in reasons[2]
    assert "not valid JSON" in reasons[3]


def test_doccano_spans_categories_and_approver(tmp_path: Path) -> None:
    result = parse_file(FIXTURES / "doccano_ner" / "alice.jsonl")
    frame = result.frames["assignments"]
    assert set(frame["worker_id"]) == {"alice"} and set(frame["project_id"]) == {"doccano_ner"}
    rows = rows_by(frame, "item_id")
    assert rows["3"]["status"] == "approved" and rows["3"]["reviewer_id"] == "carol"
    assert rows["1"]["status"] == "submitted"
    spans = result.frames["annotations"].filter(pl.col("field") == "spans")
    assert spans.height == 4
    assert result.frames["annotations"].filter(pl.col("field") == "category")[
        "value"
    ].to_list() == ["positive"]
    bad = tmp_path / "bob.jsonl"
    bad.write_text('{"id": 1, "text": "x", "label": [[0, 1]]}\n{"text": "no id", "label": []}\n')
    rejected = parse_file(bad, "doccano")
    reasons = dict(rejected.rejects.select("record_no", "reason").iter_rows())
    assert "neither a span" in reasons[1] and "no id" in reasons[2]


def _as_delimited(records: list[dict], separator: str) -> str:
    """JSON_MIN records written as Label Studio's CSV/TSV export writes them: one column per
    key in the records' order, lists and objects as JSON text."""
    out = io.StringIO()
    keys = list(dict.fromkeys(k for r in records for k in r))
    writer = csv.writer(out, delimiter=separator)
    writer.writerow(keys)
    for r in records:
        cells = [r.get(k) for k in keys]
        writer.writerow(
            ["" if v is None else json.dumps(v) if isinstance(v, list | dict) else v for v in cells]
        )
    return out.getvalue()


@pytest.mark.parametrize(("separator", "suffix"), [(",", ".csv"), ("\t", ".tsv")])
def test_labelstudio_csv_and_tsv_read_as_the_json_min_they_flatten(tmp_path, separator, suffix):
    records = json.loads((FIXTURES / "labelstudio_min.json").read_text())
    path = tmp_path / f"project-1-at-2024{suffix}"
    path.write_text(_as_delimited(records, separator))
    options = SourceOptions(project="p")
    flat = parse_file(path, options=options)
    assert flat.format == "labelstudio" and flat.rejects.is_empty()
    whole = parse_file(FIXTURES / "labelstudio_min.json", options=options)
    for table in ("assignments", "annotations"):
        key = "assignment_uid"
        assert flat.frames[table].sort(key).equals(whole.frames[table].sort(key)), table


def test_a_labelstudio_csv_without_annotators_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("text,sentiment\nGreat product,Positive\n")
    with pytest.raises(UnreadableFile, match="without annotator columns"):
        parse_file(path, "labelstudio")
