"""Milestones from Asana and Jira CSV exports: found by content, mapped to Crowdmeter projects by
`[sources.<format>] projects`, loaded into the milestones table like the template's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from etl.load import ingest
from etl.settings import Settings, SourceSettings
from etl.sources import FORMATS, detect_format, parse_file
from etl.sources.base import SourceOptions, UnreadableFile

FIXTURES = Path(__file__).parent / "fixtures"
ASANA, JIRA = FIXTURES / "asana_project.csv", FIXTURES / "jira_export.csv"
ASANA_MAP = {"Street signs Q2": "mturk:3930024"}
JIRA_MAP = {"ANN": "mturk:3930024", "toloka work": "toloka:42774131"}


def mapped(projects: dict[str, str], **options: str) -> SourceOptions:
    return SourceOptions(source=SourceSettings(projects=projects), **options)


def milestones(path: Path, options: SourceOptions) -> list[tuple]:
    result = parse_file(path, options=options)
    frame = result.frames["milestones"].sort("platform", "project_id", "due_on")
    return frame.select("platform", "project_id", "name", "due_on", "target_items").rows()


@pytest.mark.parametrize(("path", "fmt"), [(ASANA, "asana"), (JIRA, "jira")])
def test_detected_by_content_whatever_the_name(tmp_path: Path, path: Path, fmt: str) -> None:
    renamed = tmp_path / "export.dat"
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed) == fmt


def test_no_other_fixture_reads_as_a_tracker_export() -> None:
    for path in FIXTURES.glob("*.*sv"):
        if path not in (ASANA, JIRA):
            head = path.read_bytes()[:65536]
            assert not FORMATS["asana"].sniff(head) and not FORMATS["jira"].sniff(head), path


def test_asana_tasks_with_a_due_date_and_a_target_are_milestones() -> None:
    result = parse_file(ASANA, options=mapped(ASANA_MAP))
    assert milestones(ASANA, mapped(ASANA_MAP)) == [
        ("mturk", "3930024", "Pilot", date(2025, 4, 30), 2000),
        ("mturk", "3930024", "Main batch", date(2025, 6, 13), 14000),
        # the target from the name; of its two projects only the mapped one counts
        ("mturk", "3930024", "Final delivery: 20000 items", date(2025, 6, 30), 20000),
    ]
    assert result.rows_read == 5 and result.rejects.is_empty()
    assert result.notes == ["2 task(s) with no due date or no target skipped (not milestones)"]
    assert (result.format, result.platform) == ("asana", "asana")


def test_jira_issues_map_by_project_key_or_name_and_read_jira_dates() -> None:
    result = parse_file(JIRA, options=mapped(JIRA_MAP))
    assert milestones(JIRA, mapped(JIRA_MAP)) == [
        ("mturk", "3930024", "Pilot", date(2025, 4, 30), 2000),
        ("mturk", "3930024", "Main batch", date(2025, 6, 13), 14000),
        ("mturk", "3930024", "Final delivery", date(2025, 6, 30), 20000),
        ("toloka", "42774131", "Final delivery", date(2025, 7, 31), 15000),
    ]
    assert result.rejects.is_empty() and result.platform == "jira"


def test_jira_key_prefix_maps_when_the_export_has_no_project_columns(tmp_path: Path) -> None:
    path = tmp_path / "issues.csv"
    path.write_text(
        "Summary,Issue key,Issue Type,Status,Due date,Target items\n"
        "Batch 1,DATA-12,Epic,Open,2025-05-01,500\n"
    )
    found = milestones(path, mapped({"DATA": "appen:1234567"}))
    assert found == [("appen", "1234567", "Batch 1", date(2025, 5, 1), 500)]


def test_an_unmapped_project_is_rejected_with_what_to_do() -> None:
    result = parse_file(JIRA, options=mapped({"ANN": "mturk:3930024"}))
    assert result.frames["milestones"].height == 3
    (reject,) = result.rejects.to_dicts()
    assert reject["record_no"] == 5
    assert reject["reason"].startswith("jira project 'TOL', 'Toloka work' is mapped to no")
    assert "[sources.jira] projects in config.toml" in reject["reason"]
    assert "--platform and --project" in reject["reason"]


def test_platform_and_project_options_take_the_whole_file() -> None:
    options = SourceOptions(platform="toloka", project="42774131")
    found = milestones(ASANA, options)
    assert {row[:2] for row in found} == {("toloka", "42774131")} and len(found) == 3
    result = parse_file(ASANA, options=SourceOptions(project="42774131"))
    assert set(result.rejects["reason"]) == {
        "--project needs --platform too: the platform of that project"
    }


def test_bad_cells_and_repeated_names_are_rejected_without_the_assignees(tmp_path: Path) -> None:
    path = tmp_path / "asana.csv"
    path.write_text(
        "Name,Section/Column,Assignee,Assignee Email,Due Date,Projects,Target items\n"
        "Pilot,M,Dana Reyes,dana@example.com,30/04/2025,P,100\n"
        "Main,M,Dana Reyes,dana@example.com,2025-06-01,P,lots\n"
        "Final,M,,,2025-07-01,P,300\n"
        "Final,M,,,2025-07-02,P,400\n"
    )
    result = parse_file(path, options=mapped({"P": "mturk:1"}))
    reasons = dict(zip(result.rejects["record_no"], result.rejects["reason"], strict=True))
    assert reasons == {
        1: "Due Date '30/04/2025' is not a date: write it as YYYY-MM-DD",
        2: "target items 'lots' is not a whole number",
        4: "record 3 already names milestone 'Final' of mturk:1: give the milestones different "
        "names",
    }
    raw = " ".join(result.rejects["raw"])
    assert "Dana" not in raw and "example.com" not in raw and "due=30/04/2025" in raw
    bad_date = tmp_path / "jira.csv"
    bad_date.write_text("Summary,Issue key,Issue Type,Status,Due date,Target items\n"
                        "B,K-1,Epic,Open,04/30/2025,5\n")  # fmt: skip
    (reason,) = parse_file(bad_date, options=mapped({"K": "mturk:1"})).rejects["reason"]
    assert "Jira's default 15/Mar/24" in reason


def test_a_malformed_mapping_fails_the_file_naming_the_setting() -> None:
    with pytest.raises(UnreadableFile, match=r"\[sources.asana\] projects: 'Street signs Q2'"):
        parse_file(ASANA, options=mapped({"Street signs Q2": "3930024"}))


def test_loaded_into_the_milestones_table_and_updated_on_re_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    sources = {
        "asana": SourceSettings(projects=ASANA_MAP),
        "jira": SourceSettings(projects=JIRA_MAP),
    }
    settings = Settings(data_dir=tmp_path / "data", lock_timeout_seconds=2, sources=sources)
    report = ingest(settings, [ASANA, JIRA])
    # Jira's Pilot and Main batch are Asana's (same project, name, date and target)
    assert [(f.format, f.rows_inserted, f.rows_updated) for f in report.files] == [
        ("asana", 3, 0), ("jira", 2, 0)
    ]  # fmt: skip
    edited = tmp_path / "asana_again.csv"
    edited.write_text(ASANA.read_text().replace("2025-06-13", "2025-06-20"))
    again = ingest(settings, [ASANA, edited])
    assert [(f.rows_inserted, f.rows_updated) for f in again.files][1] == (0, 1)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        kinds = con.sql("SELECT platform, kind FROM platforms ORDER BY platform").fetchall()
        rows = con.sql(
            "SELECT platform, project_id, name, due_on, target_items FROM milestones "
            "ORDER BY platform, name"
        ).fetchall()
    assert rows == [
        ("mturk", "3930024", "Final delivery", date(2025, 6, 30), 20000),
        ("mturk", "3930024", "Final delivery: 20000 items", date(2025, 6, 30), 20000),
        ("mturk", "3930024", "Main batch", date(2025, 6, 20), 14000),
        ("mturk", "3930024", "Pilot", date(2025, 4, 30), 2000),
        ("toloka", "42774131", "Final delivery", date(2025, 7, 31), 15000),
    ]
    # the planning tools are trackers, not marketplaces
    assert dict(kinds) == {
        "asana": "tracker", "jira": "tracker", "mturk": "marketplace", "toloka": "marketplace"
    }  # fmt: skip
