"""MTurk batch results: mapping, time zones, taskAnswers JSON and every kind of bad row."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from etl.settings import SourceSettings
from etl.sources import parse_file
from etl.sources.base import SourceOptions, UnreadableFile

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = (
    "HITId,HITTypeId,Reward,AssignmentId,WorkerId,AssignmentStatus,AcceptTime,SubmitTime,"
    "ApprovalTime,RejectionTime,Answer.label,Approve,Reject"
)
GOOD = "H1,T1,$0.50,A1,W1,Approved,{accept},Wed Apr 04 10:27:23 PDT 2018,,,cat"


def write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "batch.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def by_record(frame: pl.DataFrame) -> dict[int, dict]:
    return {row["record_no"]: row for row in frame.iter_rows(named=True)}


def test_fixture_batch_maps_every_column() -> None:
    result = parse_file(FIXTURES / "mturk_batch.csv")
    rows = by_record(result.frames["assignments"])
    assert result.format == "mturk" and result.rows_read == 3
    assert rows[1]["assignment_uid"] == "mturk:A1"
    assert rows[1]["project_id"] == "4242"
    assert rows[1]["item_id"] == "HIT1"
    assert rows[1]["reward"] == Decimal("0.5") and rows[1]["currency"] == "USD"
    assert rows[1]["status"] == "approved"
    assert rows[1]["paid_at"] == datetime(2018, 4, 4, 18, 0, tzinfo=UTC)
    assert rows[2]["status"] == "rejected" and rows[2]["paid_at"] is None
    assert rows[2]["reviewed_at"] == datetime(2020, 2, 22, 14, 0, tzinfo=UTC)
    assert rows[3]["status"] == "submitted" and rows[3]["reviewed_at"] is None
    assert rows[1]["active_seconds"] is None  # WorkTimeInSeconds is wall clock, not active
    answers = result.frames["annotations"].sort("assignment_uid", "field")
    assert answers.filter(pl.col("assignment_uid") == "mturk:A1")["value"].to_list() == [
        "4",
        "Positive",
    ]
    assert answers.filter(pl.col("field") == "confidence")["value_num"].to_list() == [4.0, 2.0]
    assert result.frames["workers"]["worker_id"].sort().to_list() == ["W1", "W2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed Apr 04 10:26:23 PDT 2018", datetime(2018, 4, 4, 17, 26, 23, tzinfo=UTC)),
        ("Sat Feb 22 05:50:29 PST 2020", datetime(2020, 2, 22, 13, 50, 29, tzinfo=UTC)),
        ("Mon Nov 27 18:54:44 UTC 2023", datetime(2023, 11, 27, 18, 54, 44, tzinfo=UTC)),
        ("Mon Nov 27 13:54:44 EST 2023", datetime(2023, 11, 27, 18, 54, 44, tzinfo=UTC)),
        ("2023-11-27T18:54:44Z", datetime(2023, 11, 27, 18, 54, 44, tzinfo=UTC)),
        ("2023-11-27T20:54:44+02:00", datetime(2023, 11, 27, 18, 54, 44, tzinfo=UTC)),
    ],
)
def test_zoned_times_convert_to_utc(tmp_path: Path, text: str, expected: datetime) -> None:
    path = write(tmp_path, GOOD.format(accept=text))
    row = parse_file(path).frames["assignments"].row(0, named=True)
    assert row["started_at"] == expected


def test_mixed_layouts_in_one_column_all_parse(tmp_path: Path) -> None:
    # The fast path reads the column's main layout; the rest is read value by value.
    path = write(
        tmp_path,
        GOOD.format(accept="Wed Apr 04 10:26:23 PDT 2018"),
        GOOD.replace("A1", "A2").format(accept="2018-04-04T17:26:23Z"),
    )
    frame = parse_file(path).frames["assignments"]
    assert frame["started_at"].n_unique() == 1 and frame["started_at"].null_count() == 0


def test_naive_times_use_the_configured_zone(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(accept="2018-07-01 10:00:00"))
    options = SourceOptions(source=SourceSettings(timezone="Europe/Berlin"))
    row = parse_file(path, options=options).frames["assignments"].row(0, named=True)
    assert row["started_at"] == datetime(2018, 7, 1, 8, 0, tzinfo=UTC)  # CEST is UTC+2
    winter = write(tmp_path, GOOD.format(accept="2018-01-01 10:00:00"))
    row = parse_file(winter, options=options).frames["assignments"].row(0, named=True)
    assert row["started_at"] == datetime(2018, 1, 1, 9, 0, tzinfo=UTC)


def test_bad_rows_are_rejected_with_reasons_and_good_rows_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.format(accept="Wed Apr 04 10:26:23 PDT 2018"),
        "H1,T1,$1,2,A2,W2,Approved,,,,,cat",  # an unquoted "$1,2" shifts every later field
        "H1,T1,$0.50,A3,W3,Paid,,,,,cat",
        "H1,T1,$0.50,A4,W4,Approved,Wed Apr 04 10:26:23 XYZ 2018,,,,cat",
        "H1,T1,$0.50,A5,,Approved,,,,,cat",
        "H1,T1,fifty,A6,W6,Approved,,,,,cat",
        "H1,T1,$0.50,A7,W7,Approved,yesterday,,,,cat",
        "H1,T1,$0.50,A1,W1,Approved,,,,,cat",  # the same assignment again
        "H1,T1,$0.50,A8,W8,Approved,,,,,cat,,,surplus",
    )
    result = parse_file(path)
    assert result.rows_read == 9
    assert result.frames["assignments"]["assignment_uid"].to_list() == ["mturk:A1"]
    reasons = dict(result.rejects.select("record_no", "reason").iter_rows())
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert "AssignmentStatus 'W2'" in reasons[2]
    assert "AssignmentStatus 'Paid'" in reasons[3] and "Approved" in reasons[3]
    assert "'XYZ'" in reasons[4]
    assert "WorkerId is empty" in reasons[5]
    assert "Reward: cannot read amount 'fifty'" in reasons[6]
    assert "AcceptTime: cannot read time 'yesterday'" in reasons[7]
    assert "appears again" in reasons[8]
    assert "more fields" in reasons[9]
    raw = dict(result.rejects.select("record_no", "raw").iter_rows())
    assert raw[3] == "H1,T1,$0.50,A3,W3,Paid,,,,,cat"
    # Annotations of rejected rows are dropped with them.
    assert result.frames["annotations"]["assignment_uid"].unique().to_list() == ["mturk:A1"]


def test_money_with_thousands_and_without_dollar(tmp_path: Path) -> None:
    rows = [
        'H1,T1,"$1,250.00",A1,W1,Approved,,,,,x',
        "H1,T1,0.25,A2,W1,Approved,,,,,x",
        'H1,T1,"$1,2",A3,W1,Approved,,,,,x',
    ]
    result = parse_file(write(tmp_path, *rows))
    rewards = dict(result.frames["assignments"].select("record_no", "reward").iter_rows())
    assert rewards == {1: Decimal("1250"), 2: Decimal("0.25")}
    assert "Reward: cannot read amount '$1,2'" in result.rejects["reason"][0]


def test_rows_shorter_than_the_header_are_fine(shared_dir: Path) -> None:
    # The real download's header ends with Approve,Reject that no data row carries.
    path = shared_dir / "samples" / "mturk" / "abadias618_survey-cs6966__batch_results.csv"
    assert parse_file(path).rejects.height == 0


def test_task_answers_json_becomes_fields_options_and_regions() -> None:
    result = parse_file(FIXTURES / "mturk_task_answers.csv")
    answers = result.frames["annotations"].sort("assignment_uid", "field", "ordinal")
    first = answers.filter(pl.col("assignment_uid") == "mturk:B1")
    by_field = {}
    for row in first.iter_rows(named=True):
        by_field.setdefault(row["field"], []).append(row)
    assert [r["value"] for r in by_field["emotion.label"]] == ["Joy"]
    assert [r["value"] for r in by_field["topics"]] == ["sports", "music"]
    assert [r["ordinal"] for r in by_field["topics"]] == [0, 1]
    assert by_field["note"][0]["value"] == "fine"
    boxes = by_field["boxes.boundingBoxes"]
    assert [r["value"] for r in boxes] == ["cat", "dog"]
    assert json.loads(boxes[0]["region"]) == {"label": "cat", "x": 1, "y": 2, "w": 3, "h": 4}
    assert "boxes.inputImageProperties.height" not in by_field
    second = answers.filter(pl.col("assignment_uid") == "mturk:B2")
    assert second.filter(pl.col("field") == "topics")["value"].to_list() == ["politics"]
    assert second.filter(pl.col("field") == "note")["value_num"].to_list() == [3.0]


def test_task_answers_that_are_not_json_are_rejected(tmp_path: Path) -> None:
    header = "HITId,HITTypeId,AssignmentId,WorkerId,AssignmentStatus,Answer.taskAnswers"
    path = write(
        tmp_path,
        'H1,T1,A1,W1,Submitted,"[{""q"":""yes""}]"',
        'H1,T1,A2,W2,Submitted,"[{""q"":""y"',
        header=header,
    )
    result = parse_file(path)
    assert result.frames["assignments"]["assignment_uid"].to_list() == ["mturk:A1"]
    assert result.rejects["record_no"].to_list() == [2]
    assert "Answer.taskAnswers is not valid JSON" in result.rejects["reason"][0]


def test_configured_attributes_only(tmp_path: Path) -> None:
    header = HEADER.replace("Answer.label", "Answer.label,Answer.gender,Input.tone")
    path = write(tmp_path, "H1,T1,$0.50,A1,W1,Approved,,,,,cat,woman,dark", header=header)
    source = SourceSettings(worker_attributes={"gender": "Answer.gender"},
                            item_attributes={"skin_tone": "Input.tone"})  # fmt: skip
    result = parse_file(path, options=SourceOptions(source=source))
    assert json.loads(result.frames["workers"]["attributes"][0]) == {"gender": "woman"}
    assert json.loads(result.frames["items"]["attributes"][0]) == {"skin_tone": "dark"}
    plain = parse_file(path)
    assert plain.frames["workers"]["attributes"].to_list() == [None]


def test_project_option_and_platform_option(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(accept=""))
    options = SourceOptions(platform="mturk-sandbox", project="pilot")
    row = parse_file(path, options=options).frames["assignments"].row(0, named=True)
    assert row["project_id"] == "pilot" and row["platform"] == "mturk-sandbox"
    assert row["assignment_uid"] == "mturk-sandbox:A1"


def test_forced_format_that_does_not_fit_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(UnreadableFile, match="lacks the column"):
        parse_file(path, "mturk")
