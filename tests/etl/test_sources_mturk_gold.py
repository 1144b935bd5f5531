"""MTurk has no gold convention: configured gold columns make gold questions and gold answers."""

from __future__ import annotations

from etl.settings import SourceSettings
from etl.sources import parse_file
from etl.sources.base import SourceOptions

HEADER = "HITId,HITTypeId,AssignmentId,WorkerId,AssignmentStatus,SubmitTime,Reward,Input.gold,Answer.label"
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
