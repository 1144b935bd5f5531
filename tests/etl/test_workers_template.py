"""The `workers` template (survey answers): detected by its header, pseudonymised like every
worker id, blank answers "not stated", the answer date kept, and audited by the fairness mart
without the date becoming an attribute."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from etl.load import ingest
from etl.marts.fairness import attribute_table, attributes_of
from etl.pseudonym import pseudonymise
from etl.settings import Settings
from etl.sources import detect_format, parse_file

KEY = "test-key"
TEMPLATE = Path(__file__).resolve().parents[2] / "docs" / "templates" / "workers_template.csv"


def stored_attributes(settings: Settings) -> dict[tuple[str, str], dict]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT platform, worker_id, attributes FROM workers").fetchall()
    return {(p, w): json.loads(a) for p, w, a in rows}


def test_the_template_is_detected_and_parses_cleanly() -> None:
    assert detect_format(TEMPLATE) == "workers"
    result = parse_file(TEMPLATE)
    assert result.rejects.height == 0
    assert result.frames["workers"].height == 2


def test_answers_are_stored_under_the_pseudonym_with_their_date(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", pseudonym_key=KEY)
    report = ingest(settings, [TEMPLATE])
    assert report.status == "succeeded"
    found = stored_attributes(settings)
    mturk = ("mturk", pseudonymise("mturk", "A1B2C3D4E5", KEY.encode()))
    toloka = ("toloka", pseudonymise("toloka", "5f1c0a9e", KEY.encode()))
    assert set(found) == {mturk, toloka}  # raw ids never reach the warehouse
    assert found[mturk] == {"gender": "woman", "age_band": "25-34", "answered_on": "2025-03-01"}
    assert found[toloka]["gender"] == "not stated"


def test_the_answer_date_is_not_an_attribute() -> None:
    frame = parse_file(TEMPLATE).frames["workers"].select("worker_id", "platform", "attributes")
    assert attributes_of(attribute_table(frame)) == ["age_band", "gender"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",A1,2025-03-01,woman", "platform is empty"),
        ("mturk,A1,01/03/2025,woman", "answered_on '01/03/2025' is not a date"),
        ("mturk,,2025-03-01,woman", "worker_id is empty"),
    ],
)
def test_bad_rows_say_why(tmp_path: Path, row: str, reason: str) -> None:
    path = tmp_path / "survey.csv"
    path.write_text(f"platform,worker_id,answered_on,gender\n{row}\n")
    rejects = parse_file(path).rejects
    assert rejects.height == 1 and reason in rejects["reason"][0]


def test_time_zones_are_checked_kept_and_not_audited(tmp_path: Path) -> None:
    survey = tmp_path / "workers.csv"
    survey.write_text(
        "platform,worker_id,answered_on,gender,time_zone\n"
        "mturk,A1,2025-03-01,woman,Africa/Nairobi\n"
        "mturk,A2,2025-03-01,man,\n"
        "mturk,A3,2025-03-01,man,GMT+25\n"
    )
    result = parse_file(survey)
    assert result.frames["workers"].height == 2
    (reason,) = result.rejects["reason"].to_list()
    assert "GMT+25" in reason and "IANA" in reason
    settings = Settings(data_dir=tmp_path / "data", pseudonym_key=KEY)
    assert ingest(settings, [survey]).status == "succeeded"
    found = stored_attributes(settings)
    assert found[("mturk", pseudonymise("mturk", "A1", KEY.encode()))]["time_zone"] == (
        "Africa/Nairobi"
    )
    assert "time_zone" not in found[("mturk", pseudonymise("mturk", "A2", KEY.encode()))]
    rows = [{"worker_id": w, "platform": p, "attributes": json.dumps(a)}
            for (p, w), a in found.items()]  # fmt: skip
    import polars as pl

    assert attributes_of(attribute_table(pl.DataFrame(rows))) == ["gender"]


def test_night_work_is_on_the_workers_clock_where_known() -> None:
    """Ten workers work 12:00-14:00 UTC each day; the five of group a live in Tokyo (21:00-23:00
    there: half of it night), group b's time zone is unknown (UTC: no night)."""
    from datetime import UTC, datetime, timedelta

    import polars as pl

    from etl.marts.fairness import workload_findings

    workers = [f"w{i}" for i in range(10)]
    start = datetime(2025, 3, 3, 12, tzinfo=UTC)
    work = pl.DataFrame([
        {"worker_id": w, "platform": "p", "started_at": start + timedelta(days=d),
         "submitted_at": start + timedelta(days=d, hours=2), "active_seconds": 7200.0,
         "task_type": "t"}
        for w in workers for d in range(5)
    ])  # fmt: skip
    people = pl.DataFrame({
        "worker_id": workers, "platform": ["p"] * 10, "group": ["a"] * 5 + ["b"] * 5,
        "time_zone": ["Asia/Tokyo"] * 5 + [None] * 5,
    })  # fmt: skip
    settings = Settings(fairness={"bootstrap_samples": 20, "permutations": 20})
    found = {(f.group, f.measure): f for f in workload_findings(work, people, settings)}
    assert found[("a", "night_share")].estimate == pytest.approx(0.5)
    assert found[("b", "night_share")].estimate == 0
    assert not any(f.attribute == "time_zone" for f in found.values())
