"""Toloka, Appen and Toggl importers on the project's own fixtures, good and bad."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from etl.settings import SourceSettings, TogglSettings
from etl.sources import parse_file
from etl.sources.base import SourceOptions

FIXTURES = Path(__file__).parent / "fixtures"
MOSCOW = SourceOptions(source=SourceSettings(timezone="Europe/Moscow"))


def rows_by(frame: pl.DataFrame, key: str) -> dict:
    return {row[key]: row for row in frame.iter_rows(named=True)}


def test_toloka_tasks_of_a_page_share_its_reward_and_times() -> None:
    result = parse_file(FIXTURES / "toloka_pool.tsv", options=MOSCOW)
    rows = rows_by(result.frames["assignments"], "assignment_uid")
    assert sorted(rows) == ["toloka:s1/t1", "toloka:s1/t2", "toloka:s1/t3", "toloka:s2/t1",
                            "toloka:s3/t2"]  # fmt: skip
    page = [rows[f"toloka:s1/t{i}"] for i in (1, 2, 3)]
    assert sum(r["reward"] for r in page) == Decimal("0.10")
    assert [r["reward"] for r in page] == [Decimal("0.033334"), Decimal("0.033333"),
                                           Decimal("0.033333")]  # fmt: skip
    # Naive Moscow times (UTC+3).
    assert page[0]["started_at"] == datetime(2024, 2, 4, 16, 13, 23, 631000, tzinfo=UTC)
    assert page[0]["paid_at"] == datetime(2024, 2, 5, 7, 0, tzinfo=UTC)
    assert {r["project_id"] for r in rows.values()} == {"777"}  # pool id from the task link
    assert rows["toloka:s2/t1"]["status"] == "rejected"
    assert rows["toloka:s2/t1"]["reviewed_at"] == datetime(2024, 7, 2, 6, 0, tzinfo=UTC)
    assert rows["toloka:s3/t2"]["status"] == "expired"
    assert [r["is_gold"] for r in page] == [False, True, False]
    assert rows["toloka:s3/t2"]["is_gold"] is True


def test_toloka_gold_reaches_items_and_answers() -> None:
    result = parse_file(FIXTURES / "toloka_pool.tsv", options=MOSCOW)
    items = rows_by(result.frames["items"], "item_id")
    assert items["t2"]["gold_value"] == "3" and items["t1"]["gold_value"] is None
    answers = result.frames["annotations"].sort("assignment_uid")
    assert answers["value"].to_list() == ["2", "3", "0", "1"]  # the expired task has none
    assert answers["gold_value"].to_list() == [None, "3", None, None]


def test_toloka_pool_from_file_name_and_item_attributes(tmp_path: Path) -> None:
    path = tmp_path / "assignments_from_pool_42__01-01-2025.tsv"
    path.write_bytes((FIXTURES / "toloka_pool.tsv").read_bytes())
    source = SourceSettings(timezone="UTC", item_attributes={"dialect": "INPUT:dialect"})
    result = parse_file(path, options=SourceOptions(source=source))
    assert result.frames["assignments"]["project_id"].unique().to_list() == ["42"]
    items = rows_by(result.frames["items"], "item_id")
    assert json.loads(items["t1"]["attributes"]) == {"dialect": "north"}


def test_toloka_unknown_and_active_statuses_are_rejected(tmp_path: Path) -> None:
    lines = (FIXTURES / "toloka_pool.tsv").read_text().splitlines()
    header, first = lines[0], "\t".join(lines[1:3])  # the first row spans two lines
    rows = [first, first.replace("APPROVED", "ACTIVE").replace("\ts1\t", "\ts9\t"),
            first.replace("APPROVED", "PAID").replace("\ts1\t", "\ts8\t")]  # fmt: skip
    path = tmp_path / "pool.tsv"
    path.write_text("\n".join([header, *rows]) + "\n")
    result = parse_file(path, options=MOSCOW)
    reasons = dict(result.rejects.select("record_no", "reason").iter_rows())
    assert "still being worked on" in reasons[2]
    assert "'PAID' is not a status" in reasons[3] and "APPROVED" in reasons[3]
    assert result.frames["assignments"].height == 1


def test_appen_judgments_gold_country_and_personal_data() -> None:
    result = parse_file(FIXTURES / "f1234567_full.csv")
    rows = rows_by(result.frames["assignments"], "assignment_uid")
    assert sorted(rows) == ["appen:9001", "appen:9002", "appen:9003", "appen:9004"]
    assert rows["appen:9002"]["status"] == "rejected"  # tainted
    assert rows["appen:9001"]["project_id"] == "1234567"
    assert [rows[f"appen:900{i}"]["is_gold"] for i in range(1, 5)] == [False, False, True, True]
    # Naive M/D/YYYY times in the default UTC zone.
    assert rows["appen:9001"]["submitted_at"] == datetime(2016, 3, 24, 17, 57, 2, tzinfo=UTC)
    workers = rows_by(result.frames["workers"], "worker_id")
    assert workers["-6822381399734128004"]["country"] is None  # its last judgment says NA
    assert workers["3587109"]["country"] == "GB"
    assert workers["21665495"]["country"] == "XK"
    answers = result.frames["annotations"]
    assert set(answers["field"]) == {"sentiment", "topics"}  # text is unit data, not an answer
    topics = answers.filter(pl.col("assignment_uid") == "appen:9001", pl.col("field") == "topics")
    assert topics.sort("ordinal")["value"].to_list() == ["sports", "music"]
    gold = answers.filter(pl.col("assignment_uid") == "appen:9004", pl.col("field") == "sentiment")
    assert gold["gold_value"].to_list() == ["neutral"]
    assert rows_by(result.frames["items"], "item_id")["101"]["gold_value"] == "neutral"
    for frame in [*result.frames.values(), result.rejects]:
        text = " ".join(str(v) for row in frame.iter_rows() for v in row)
        assert "example.org" not in text and "192.0.2" not in text and "City 0" not in text


def test_appen_repeated_judgment_and_bad_time(tmp_path: Path) -> None:
    lines = (FIXTURES / "f1234567_full.csv").read_text().splitlines()
    header = lines[0]
    last = lines[-1]
    broken = last.replace("9004", "9005").replace("3/24/2016 19:30:21", "24.03.2016 19:30")
    path = tmp_path / "job.csv"
    path.write_text("\n".join([header, last, last, broken]) + "\n")
    result = parse_file(path)
    reasons = dict(result.rejects.select("record_no", "reason").iter_rows())
    assert "appears again" in reasons[2]
    assert "_started_at: cannot read time '24.03.2016 19:30'" in reasons[3]


def test_toggl_entries_platforms_workers_and_activities() -> None:
    toggl = TogglSettings(
        client_platform={"Toloka": "toloka", "DataAnnotation": "dataannotation"},
        user_worker={"Ana": ["toloka:ana-on-toloka"]},
    )
    options = SourceOptions(source=SourceSettings(timezone="Europe/Berlin"), toggl=toggl)
    result = parse_file(FIXTURES / "toggl_detailed.csv", options=options)
    entries = result.frames["time_entries"].sort("started_at")
    rows = entries.to_dicts()
    # The night the clocks went forward: 00:30 CET to 03:30 CEST is two hours.
    assert rows[0]["started_at"] == datetime(2025, 3, 29, 23, 30, tzinfo=UTC)
    assert rows[0]["ended_at"] == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert rows[0]["seconds"] == 7200.0
    assert (rows[0]["platform"], rows[0]["worker_id"]) == ("toloka", "ana-on-toloka")
    assert rows[0]["project_id"] == "Relevance"
    assert (rows[1]["platform"], rows[1]["worker_id"]) == ("dataannotation", "Ana")
    assert rows[1]["activity"] == "qualification"
    assert (rows[2]["platform"], rows[2]["activity"]) == (None, "admin")
    assert rows[3]["activity"] == "searching"
    assert "2 time entries map to no platform" in result.notes[0]
    assert "Acme Corp / Website" in result.notes[0]
    again = parse_file(FIXTURES / "toggl_detailed.csv", options=options)
    assert again.frames["time_entries"]["entry_uid"].sort().to_list() == sorted(
        entries["entry_uid"].to_list()
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ('"Ana","","","","","x","No","2025-03-31","09:00:00","2025-03-31","09:45:00","45 min",""',
         "Duration '45 min'"),
        ('"Ana","","","","","x","No","31/03/2025","09:00:00","2025-03-31","09:45:00","0:45:00",""',
         "Start date/time 31/03/2025"),
        ('"","","","","","x","No","2025-03-31","09:00:00","2025-03-31","09:45:00","0:45:00",""',
         "User is empty"),
        ('"Ana","","","","","x","No","2025-03-31","10:00:00","2025-03-31","09:45:00","0:45:00",""',
         "ends"),
        ('"Ana","","","","","x","No","2025-03-31","09:00:00","2025-03-31","09:45:00","0:45:00","",'
         '"extra"', "fields but the header has"),
    ],
)  # fmt: skip
def test_toggl_bad_rows(tmp_path: Path, row: str, reason: str) -> None:
    header = (FIXTURES / "toggl_detailed.csv").read_text().splitlines()[0]
    good = (FIXTURES / "toggl_detailed.csv").read_text().splitlines()[1]
    path = tmp_path / "toggl.csv"
    path.write_text("\n".join([header, good, row]) + "\n")
    result = parse_file(path)
    assert result.frames["time_entries"].height == 1
    assert result.rejects["record_no"].to_list() == [2]
    assert reason in result.rejects["reason"][0]
