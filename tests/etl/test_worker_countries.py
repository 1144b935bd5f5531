"""`[workers] country`: a worker's country from config.toml where the exports give none."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from pydantic import ValidationError

from etl.load import ingest
from etl.pseudonym import pseudonymise
from etl.settings import Settings

KEY = "test-key"
# A freelancer's own log of two platforms with no export (docs/templates/earnings_template.csv)
HEADER = (
    "date,platform,worker,project,task_type,tasks,hours,amount,currency,status,paid_on,entry_id"
)
EARNINGS = f"""{HEADER}
2025-03-03,dataannotation,da-1234567,coding-eval,rlhf_rating,14,3.50,70.00,USD,paid,2025-03-10,
2025-03-04,outlier,olr_8c60079a,gemini-writing,writing,6,2.25,33.75,USD,paid,2025-03-06,
"""


def countries(settings: Settings) -> dict[tuple[str, str], str | None]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT platform, worker_id, country FROM workers").fetchall()
    return {(platform, worker): country for platform, worker, country in rows}


def test_named_workers_get_their_country_and_others_stay_unknown(tmp_path: Path) -> None:
    log = tmp_path / "earnings.csv"
    log.write_text(EARNINGS)
    settings = Settings(
        data_dir=tmp_path / "data",
        pseudonym_key=KEY,
        workers={"country": {"dataannotation:da-1234567": "ke", "mturk:ANOTHER": "PH"}},
    )
    ingest(settings, [log])
    found = countries(settings)
    named = ("dataannotation", pseudonymise("dataannotation", "da-1234567", KEY.encode()))
    other = ("outlier", pseudonymise("outlier", "olr_8c60079a", KEY.encode()))
    assert found[named] == "KE" and found[other] is None
    assert len(found) == 2  # a named worker with no data yet gets no row
    ingest(settings, [log])  # the export again: its silence does not erase the setting
    assert countries(settings)[named] == "KE"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"da-1234567": "KE"}, "must be 'PLATFORM:RAW_ID'"),
        ({"mturk:": "KE"}, "must be 'PLATFORM:RAW_ID'"),
        ({"mturk:A1": "Kenya"}, "not a two-letter ISO 3166-1 country code"),
        ({"mturk:A1": "K1"}, "not a two-letter ISO 3166-1 country code"),
    ],
)
def test_a_malformed_entry_says_what_is_expected(entry: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(workers={"country": entry})
