"""Crowdmeter's own templates: the published files parse, and every bad cell is explained."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from etl.settings import SourceSettings
from etl.sources import detect_format, earnings, parse_file
from etl.sources.base import SourceOptions

TEMPLATES = Path(__file__).resolve().parents[2] / "docs" / "templates"
EARNINGS_HEADER = (
    "date,platform,worker,project,task_type,tasks,hours,amount,currency,status,paid_on"
)


def test_published_templates_are_detected_and_parse_cleanly() -> None:
    expected = {
        "earnings_template.csv": ("earnings", "earnings", 4),
        "projects_template.csv": ("projects", "projects", 3),
        "milestones_template.csv": ("milestones", "milestones", 4),
        "scope_changes_template.csv": ("scope_changes", "scope_changes", 3),
    }
    for name, (fmt, table, rows) in expected.items():
        path = TEMPLATES / name
        assert detect_format(path) == fmt
        result = parse_file(path)
        assert result.rejects.height == 0, result.rejects.to_dicts()
        assert result.frames[table].height == rows


def test_earnings_template_lists_every_column_the_importer_reads() -> None:
    header = (TEMPLATES / "earnings_template.csv").read_text().splitlines()[0].split(",")
    assert tuple(header) == earnings.COLUMNS


def test_earnings_rows_map_to_the_earnings_table() -> None:
    options = SourceOptions(source=SourceSettings(timezone="Europe/Berlin"))
    frame = parse_file(TEMPLATES / "earnings_template.csv", options=options).frames["earnings"]
    first = frame.sort("record_no").row(0, named=True)
    assert first["platform"] == "dataannotation" and first["worker_id"] == "da-1234567"
    assert first["day"] == date(2025, 3, 3) and first["tasks"] == 14
    assert first["seconds"] == 3.5 * 3600 and first["amount"] == Decimal("70")
    assert first["status"] == "paid"
    assert first["paid_at"] == datetime(2025, 3, 9, 23, 0, tzinfo=UTC)  # midnight in Berlin
    assert set(frame["currency"]) == {"USD", "GBP", "EUR"}


def test_earnings_identity_survives_a_status_edit(tmp_path: Path) -> None:
    before = tmp_path / "log.csv"
    before.write_text(f"{EARNINGS_HEADER}\n2025-03-03,outlier,me,p,t,1,1,10,USD,pending,\n")
    after = tmp_path / "log2.csv"
    after.write_text(
        f"{EARNINGS_HEADER}\n2025-03-03,outlier,me,p,t,1,1,12.50,USD,paid,2025-03-20\n"
    )
    uid = parse_file(before).frames["earnings"]["earning_uid"][0]
    assert parse_file(after).frames["earnings"]["earning_uid"][0] == uid


def test_earnings_other_column_names_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "Date,Platform,Worker_ID,Amount,Status,Paid_Date\n2025-03-03,outlier,me,10,PAID,2025-03-04\n"
    )
    assert detect_format(path) == "earnings"
    row = parse_file(path).frames["earnings"].row(0, named=True)
    assert row["worker_id"] == "me" and row["status"] == "paid" and row["paid_at"] is not None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("03/04/2025,outlier,me,,,,,10,USD,paid,", "write it as YYYY-MM-DD"),
        ("2025-03-03,,me,,,,,10,USD,paid,", "platform is empty"),
        ("2025-03-03,outlier,,,,,,10,USD,paid,", "worker is empty"),
        ('2025-03-03,outlier,me,,,,,"10,5",USD,paid,', "cannot read amount '10,5'"),
        ("2025-03-03,outlier,me,,,,,10,USD,approved,", "accepted values: pending, paid, rejected"),
        ("2025-03-03,outlier,me,,,2.5,,10,USD,paid,", "tasks '2.5' is not a whole number"),
        ("2025-03-03,outlier,me,,,,-1,10,USD,paid,", "hours '-1'"),
        ("2025-03-03,outlier,me,,,,,10,dollars,paid,", "ISO 4217"),
        ("2025-03-03,outlier,me,,,,,10,USD,paid,soon", "paid_on"),
        ("2025-03-03,outlier,me,,,,,10,USD,paid,,extra", "fields but the header has"),
    ],
)
def test_earnings_bad_rows(tmp_path: Path, row: str, reason: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text(f"{EARNINGS_HEADER}\n2025-03-03,outlier,me,,,,,10,USD,paid,\n{row}\n")
    result = parse_file(path)
    assert result.frames["earnings"].height == 1
    assert result.rejects["record_no"].to_list() == [2]
    assert reason in result.rejects["reason"][0]


def test_projects_and_milestones(tmp_path: Path) -> None:
    projects = parse_file(TEMPLATES / "projects_template.csv").frames["projects"]
    toloka = projects.filter(projects["platform"] == "toloka").row(0, named=True)
    assert toloka["gold_accuracy_target"] == 0.85 and toloka["labels_per_item"] == 5
    assert toloka["budget"] == Decimal("1800") and toloka["due_on"] == date(2025, 7, 31)
    labelstudio = projects.filter(projects["platform"] == "labelstudio").row(0, named=True)
    assert labelstudio["budget"] is None and labelstudio["currency"] is None
    milestones = parse_file(TEMPLATES / "milestones_template.csv").frames["milestones"]
    assert milestones["target_items"].sum() == 51000
    bad = tmp_path / "projects.csv"
    bad.write_text(
        "platform,project_id,starts_on,due_on,labels_per_item,agreement_target\n"
        "mturk,a,2025-05-01,2025-04-01,3,0.7\n"
        "mturk,b,2025-04-01,2025-05-01,0,0.7\n"
        "mturk,c,2025-04-01,2025-05-01,3,1.7\n"
        ",d,2025-04-01,2025-05-01,3,0.7\n"
    )
    reasons = dict(parse_file(bad).rejects.select("record_no", "reason").iter_rows())
    assert "before starts_on" in reasons[1]
    assert "at least one label" in reasons[2]
    assert "outside -1..1" in reasons[3]
    assert "platform is empty" in reasons[4]
    with_platform = parse_file(bad, options=SourceOptions(platform="mturk"))
    assert with_platform.frames["projects"]["project_id"].to_list() == ["d"]


def test_milestones_accept_milestone_as_the_name_column(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "platform,project_id,milestone,due_on,target_items\nmturk,a,Pilot,2025-05-01,10\n"
    )
    assert detect_format(path) == "milestones"
    assert parse_file(path).frames["milestones"]["name"].to_list() == ["Pilot"]


def test_scope_changes_are_dated_whole_scopes_and_bad_cells_are_explained(tmp_path: Path):
    changes = parse_file(TEMPLATES / "scope_changes_template.csv").frames["scope_changes"]
    first = changes.row(0, named=True)
    assert first["changed_on"] == date(2025, 5, 12) and first["target_items"] == 22000
    assert first["reason"] == "client added the French tweets"
    path = tmp_path / "changes.csv"
    path.write_text(
        "Platform,Project_ID,Date,Target_Items\n"  # other case, and `date` for changed_on
        "mturk,a,2025-05-01,1200\n"
        "mturk,a,05/01/2025,1200\n"
        "mturk,a,2025-05-02,0\n"
        "mturk,a,2025-05-03,+10%\n"
        ",a,2025-05-04,1300\n"
        "mturk,a,2025-05-05,\n"
    )
    assert detect_format(path) == "scope_changes"
    result = parse_file(path)
    assert result.frames["scope_changes"].select("changed_on", "target_items", "reason").rows() == [
        (date(2025, 5, 1), 1200, None)
    ]
    reasons = dict(result.rejects.select("record_no", "reason").iter_rows())
    assert "YYYY-MM-DD" in reasons[2]
    assert "whole scope in items" in reasons[3]
    assert "not a whole number" in reasons[4]
    assert "platform is empty" in reasons[5]
    assert "give the new scope" in reasons[6]
