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
