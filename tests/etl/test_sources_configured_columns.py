"""Configured columns: gold answers for MTurk, self-reported groups for Label Studio."""

from __future__ import annotations

from etl.settings import SourceSettings
from etl.sources import parse_file
from etl.sources.base import SourceOptions

HEADER = (
    "HITId,HITTypeId,AssignmentId,WorkerId,AssignmentStatus,SubmitTime,Reward,"
    "Input.gold,Answer.label"
)
ROWS = [
    "H1,T1,A1,W1,Approved,Mon Apr 01 10:01:00 PDT 2024,$0.05,joy,joy",
    "H1,T1,A2,W2,Approved,Mon Apr 01 10:02:00 PDT 2024,$0.05,joy,anger",
    "H2,T1,A3,W1,Approved,Mon Apr 01 10:03:00 PDT 2024,$0.05,,fear",
]


def test_configured_gold_column_marks_gold_questions(tmp_path):
    path = tmp_path / "Batch_1_batch_results.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    options = SourceOptions(source=SourceSettings(gold_columns={"label": "Input.gold"}))
    result = parse_file(path, "mturk", options)
    a = result.frames["assignments"].sort("assignment_uid")
    assert a["is_gold"].to_list() == [True, True, False]
    ann = result.frames["annotations"].sort("assignment_uid")
    assert ann.select("value", "gold_value").rows() == [
        ("joy", "joy"),
        ("anger", "joy"),
        ("fear", None),
    ]
    items = dict(result.frames["items"].select("item_id", "gold_value").rows())
    assert items == {"H1": "joy", "H2": None}


def test_without_configuration_nothing_is_gold(tmp_path):
    path = tmp_path / "Batch_1_batch_results.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    result = parse_file(path, "mturk", SourceOptions())
    assert not result.frames["assignments"]["is_gold"].any()
    assert result.frames["annotations"]["gold_value"].null_count() == 3


def test_label_studio_worker_attributes_from_configured_key_paths(tmp_path):
    import json

    from etl.settings import SourceSettings as Source

    task = {
        "id": 1,
        "project": 7,
        "data": {"text": "hello"},
        "annotations": [
            {"id": 11, "completed_by": {"id": 3, "email": "a@example.org", "gender": "woman"},
             "created_at": "2024-04-01T10:00:00Z", "lead_time": 12.5,
             "result": [{"from_name": "intent", "type": "choices",
                         "value": {"choices": ["buy"]}}]},
            {"id": 12, "completed_by": 4, "created_at": "2024-04-01T10:01:00Z",
             "result": [{"from_name": "intent", "type": "choices",
                         "value": {"choices": ["sell"]}}]},
        ],
    }  # fmt: skip
    path = tmp_path / "project-7.json"
    path.write_text(json.dumps([task]))
    options = SourceOptions(source=Source(worker_attributes={"gender": "completed_by.gender"}))
    workers = parse_file(path, "labelstudio", options).frames["workers"].sort("worker_id")
    expected = [("3", '{"gender": "woman"}'), ("4", None)]  # worker 4 reported nothing
    assert workers.select("worker_id", "attributes").rows() == expected


def test_columns_configured_as_attributes_are_never_answer_fields(tmp_path):
    # a demographics survey batch: its answers describe workers, they are nothing to agree on
    path = tmp_path / "about-you.csv"
    path.write_text(
        "HITId,HITTypeId,Reward,AssignmentId,WorkerId,AssignmentStatus,AcceptTime,SubmitTime,"
        "Answer.gender,Answer.age_band,Answer.comment\n"
        "H1,T1,$0.10,A1,W1,Approved,2024-01-01T10:00:00Z,2024-01-01T10:01:00Z,woman,25-34,hi\n"
    )
    attributes = {"gender": "Answer.gender", "age_band": "Answer.age_band"}
    options = SourceOptions(source=SourceSettings(worker_attributes=attributes))
    result = parse_file(path, options=options)
    assert result.frames["annotations"]["field"].to_list() == ["comment"]
    assert "woman" in result.frames["workers"]["attributes"][0]
