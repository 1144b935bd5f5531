"""Every time shape MTurk has written loads, by the fast column layout and value by value."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from etl.sources import parse_file
from etl.sources.times import instant_expr, parse_instant, time_layout, zone

HEADER = (
    "HITId,HITTypeId,Reward,AssignmentId,WorkerId,AssignmentStatus,AcceptTime,SubmitTime,"
    "ApprovalTime,RejectionTime,Answer.label,Approve,Reject"
)
# (shape, as written, the instant in UTC)
SHAPES = [
    ("zone word after ISO, UTC", "2016-09-24 10:47:53 UTC", datetime(2016, 9, 24, 10, 47, 53)),
    ("zone word after ISO, GMT", "2016-09-24 10:47:53 GMT", datetime(2016, 9, 24, 10, 47, 53)),
    ("zone word after ISO, PDT", "2016-09-24 10:47:53 PDT", datetime(2016, 9, 24, 17, 47, 53)),
    ("zone word after ISO, PST", "2016-12-24 10:47:53 PST", datetime(2016, 12, 24, 18, 47, 53)),
    ("zone word after ISO, fraction", "2016-09-24 10:47:53.5 UTC",
     datetime(2016, 9, 24, 10, 47, 53, 500000)),
    ("date(1), PDT", "Wed Apr 04 10:26:23 PDT 2018", datetime(2018, 4, 4, 17, 26, 23)),
    ("date(1), PST", "Sat Feb 22 05:50:29 PST 2020", datetime(2020, 2, 22, 13, 50, 29)),
    ("date(1), UTC", "Mon Nov 27 18:54:44 UTC 2023", datetime(2023, 11, 27, 18, 54, 44)),
    ("date(1), GMT", "Mon Nov 27 18:54:44 GMT 2023", datetime(2023, 11, 27, 18, 54, 44)),
    ("date(1), one-digit day", "Wed Apr 4 10:26:23 PDT 2018", datetime(2018, 4, 4, 17, 26, 23)),
    ("date(1), GMT offset", "Wed Apr 04 10:26:23 GMT+05:30 2018",
     datetime(2018, 4, 4, 4, 56, 23)),
    ("ISO 8601, Z", "2016-09-24T10:47:53Z", datetime(2016, 9, 24, 10, 47, 53)),
    ("ISO 8601, milliseconds and Z", "2016-09-24T10:47:53.000Z", datetime(2016, 9, 24, 10, 47, 53)),
    ("ISO 8601, offset", "2016-09-24T10:47:53-07:00", datetime(2016, 9, 24, 17, 47, 53)),
    ("ISO 8601, offset without colon", "2016-09-24T10:47:53+0200",
     datetime(2016, 9, 24, 8, 47, 53)),
    ("API (boto3) text", "2016-09-24 10:47:53+00:00", datetime(2016, 9, 24, 10, 47, 53)),
]  # fmt: skip
IDS = [shape for shape, _, _ in SHAPES]


def batch(tmp_path: Path, text: str, rows: int) -> Path:
    path = tmp_path / "batch.csv"
    lines = [f"H1,T1,$0.50,A{i},W{i},Approved,{text},{text},{text},,cat" for i in range(rows)]
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("shape", "text", "expected"), SHAPES, ids=IDS)
def test_a_batch_written_in_one_shape_loads_every_row(
    tmp_path: Path, shape: str, text: str, expected: datetime
) -> None:
    result = parse_file(batch(tmp_path, text, rows=46))
    assert result.rejects["reason"].to_list() == []
    frame = result.frames["assignments"]
    assert frame.height == 46
    moment = expected.replace(tzinfo=UTC)
    for column in ("started_at", "submitted_at", "reviewed_at", "paid_at"):
        assert frame[column].unique().to_list() == [moment], column


@pytest.mark.parametrize(("shape", "text", "expected"), SHAPES, ids=IDS)
def test_one_value_reads_alike(shape: str, text: str, expected: datetime) -> None:
    assert parse_instant(text, zone("America/Los_Angeles")) == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["2016-09-24 10:47:53 UTC", "2016-09-24 10:47:53 PDT", "Wed Apr 04 10:26:23 PDT 2018"]
)
def test_the_fast_column_layout_reads_the_common_shapes(text: str) -> None:
    """A million-row batch must not fall back to reading values one by one."""
    layout = time_layout([text])
    parsed = pl.DataFrame({"t": [text]}).select(instant_expr("t", "UTC", layout))
    assert parsed["t"][0] == parse_instant(text, zone("UTC"))


def test_an_unknown_zone_word_is_rejected_with_the_known_ones(tmp_path: Path) -> None:
    result = parse_file(batch(tmp_path, "2016-09-24 10:47:53 XYZ", rows=1))
    assert result.frames["assignments"].height == 0
    assert "zone 'XYZ'" in result.rejects["reason"][0]
    assert "PDT" in result.rejects["reason"][0]
