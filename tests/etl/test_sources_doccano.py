"""doccano JSONL in both layouts (`text`/`label`, 1.x `data`/`label`), spans as lists or dicts."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from etl.sources import detect_format, parse_file

LIST_SPANS = [[0, 5, "PER"], [10, 13, "PER"]]
DICT_SPANS = [
    {"id": 7, "start_offset": 0, "end_offset": 5, "label": "PER"},
    {"id": 8, "start_offset": 10, "end_offset": 13, "label": "PER"},
]
LAYOUTS = {
    "text + label lists": {"text": "Alice met Bob.", "label": LIST_SPANS},
    "1.x data + label lists": {"data": "Alice met Bob.", "label": LIST_SPANS},
    "1.x data + label dicts": {"data": "Alice met Bob.", "label": DICT_SPANS},
    "text + entities dicts": {"text": "Alice met Bob.", "entities": DICT_SPANS, "relations": []},
    "text + labels lists (0.x)": {
        "text": "Alice met Bob.",
        "labels": LIST_SPANS,
        "meta": {},
        "annotation_approver": None,
    },
}


def jsonl(tmp_path: Path, *records: dict, name: str = "admin.jsonl") -> Path:
    folder = tmp_path / "ner"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_layout_is_detected_and_loads_its_spans(tmp_path: Path, layout: str) -> None:
    path = jsonl(tmp_path, {"id": 1, **LAYOUTS[layout]}, {"id": 2, **LAYOUTS[layout]})
    assert detect_format(path) == "doccano"
    result = parse_file(path)
    assert result.rejects.height == 0
    assignments = result.frames["assignments"]
    assert sorted(assignments["item_id"]) == ["1", "2"]
    assert set(assignments["worker_id"]) == {"admin"} and set(assignments["project_id"]) == {"ner"}
    spans = result.frames["annotations"].filter(
        pl.col("assignment_uid") == assignments["assignment_uid"][0]
    )
    assert [json.loads(r) for r in spans.sort("ordinal")["region"]] == [
        {"start": 0, "end": 5, "label": "PER"},
        {"start": 10, "end": 13, "label": "PER"},
    ]
    assert spans["field"].unique().to_list() == ["spans"]


def test_1x_categories_load_as_categories(tmp_path: Path) -> None:
    path = jsonl(tmp_path, {"id": 1, "data": "Great film.", "label": ["positive"]})
    assert detect_format(path) == "doccano"
    annotations = parse_file(path).frames["annotations"]
    assert annotations.select("field", "value").rows() == [("category", "positive")]


def test_spans_with_offsets_that_are_no_positions_are_rejected(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"id": 1, "data": "x", "label": [["a", 2, "PER"]]},
        {"id": 2, "data": "x", "label": [{"start_offset": 5, "end_offset": 1, "label": "PER"}]},
        {"id": 3, "data": "x", "label": [[0, 1, "PER"]]},
    )
    result = parse_file(path)
    reasons = dict(result.rejects.select("record_no", "reason").iter_rows())
    assert "not whole numbers" in reasons[1] and "ends before it starts" in reasons[2]
    assert result.frames["assignments"]["item_id"].to_list() == ["3"]


def test_other_jsonl_formats_are_not_taken_for_doccano(tmp_path: Path) -> None:
    prodigy = jsonl(tmp_path, {"text": "x", "label": "A", "_input_hash": 1, "_task_hash": 2})
    assert detect_format(prodigy) == "prodigy"
    task = jsonl(tmp_path, {"data": {"text": "x"}, "label": []}, name="tasks.jsonl")
    with pytest.raises(Exception, match="matches none"):
        detect_format(task)  # `data` is an object: a Label Studio task, not a doccano example
