"""`crowdmeter earnings` and `crowdmeter report earnings` on a snapshot built from SQL text."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from cli.main import main
from etl.pseudonym import pseudonymise
from etl.publish import publish
from etl.reference import load_reference_tables
from etl.settings import Settings
from etl.warehouse import open_warehouse

KEY = b"test-key"
MTURK = pseudonymise("mturk", "A1FREELANCER", KEY)
DA = pseudonymise("dataannotation", "da-1", KEY)
TOGGL = pseudonymise("toggl", "Me", KEY)
WORKER_ARGS = ["--worker", "mturk:A1FREELANCER", "--worker", "dataannotation:da-1"]

# One MTurk morning (fee 0 in config.toml): T1 approved 10:00-10:10, $1.00 + $0.20 bonus, paid
# after 2 days; T2 rejected 10:10:30-10:15:30; T3 approved 10:15:40-10:25:40, $1.00, paid after
# 7 days. Approved 1200 s, rejected 300 s, gaps 30 + 10 s. A DataAnnotation log line: 2 h for
# 40 EUR paid 6 March at 12:00 (EUR 1.093 USD in the shipped table's first half of 2025), with a
# 20% fee from the platforms table. One hour of Toggl time maps to no platform.
FIXTURE_SQL = f"""
INSERT INTO platforms VALUES ('mturk', 'Amazon Mechanical Turk', 'marketplace', 'USD', 0),
    ('dataannotation', 'DataAnnotation.tech', 'marketplace', 'USD', 0.2);
INSERT INTO workers (worker_id, platform, country) VALUES ('{MTURK}', 'mturk', 'GB'),
    ('{DA}', 'dataannotation', NULL);
INSERT INTO assignments (assignment_uid, platform, project_id, item_id, worker_id, task_type,
    started_at, submitted_at, status, reward, bonus, currency, paid_at, file_id) VALUES
  ('a1', 'mturk', 'b1', 'i1', '{MTURK}', 'sentiment', '2025-03-03 10:00:00+00',
   '2025-03-03 10:10:00+00', 'approved', 1.00, 0.20, 'USD', '2025-03-05 10:10:00+00', 1),
  ('a2', 'mturk', 'b1', 'i2', '{MTURK}', 'sentiment', '2025-03-03 10:10:30+00',
   '2025-03-03 10:15:30+00', 'rejected', 0.50, NULL, 'USD', NULL, 1),
  ('a3', 'mturk', 'b1', 'i3', '{MTURK}', 'sentiment', '2025-03-03 10:15:40+00',
   '2025-03-03 10:25:40+00', 'approved', 1.00, NULL, 'USD', '2025-03-10 10:25:40+00', 1);
INSERT INTO earnings (earning_uid, worker_id, platform, project_id, task_type, day, tasks,
    seconds, amount, currency, status, paid_at, file_id) VALUES
  ('e1', '{DA}', 'dataannotation', 'chatbot', 'rating', '2025-03-04', 4, 7200, 40, 'EUR',
   'paid', '2025-03-06 12:00:00+00', 2);
INSERT INTO time_entries VALUES ('t1', '{TOGGL}', NULL, NULL, '2025-03-03 14:00:00+00',
    '2025-03-03 15:00:00+00', 3600, 'task', 3);
"""
MTURK_EFFECTIVE = 2.20 / (1540 / 3600)
DA_EFFECTIVE = 40 * 1.093 * 0.8 / 2


@pytest.fixture
def published(settings: Settings) -> Settings:
    with open_warehouse(settings) as con:
        load_reference_tables(con, settings)
        con.execute(FIXTURE_SQL)
        publish(con, settings, 1)
    return settings


def run_json(settings: Settings, capsys: pytest.CaptureFixture, *args: str) -> dict:
    assert main(["--data-dir", str(settings.data_dir), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_wages_waterfall_and_delays_per_platform(published: Settings, capsys) -> None:
    out = run_json(published, capsys, "earnings", *WORKER_ARGS)
    rows = {r["platform"]: r for r in out["rows"]}
    mturk, da = rows["mturk"], rows["dataannotation"]
    assert mturk["paid_time_wage"] == pytest.approx(2.20 / (1200 / 3600))
    assert mturk["effective_wage"] == pytest.approx(MTURK_EFFECTIVE)
    assert [s["step"] for s in mturk["waterfall"]] == [
        "fees", "rejected_work", "returned_work", "gaps_in_sessions",
        "time_tracking_adjustment", "logged_unpaid_time",
    ]  # fmt: skip
    steps = sum(s["change"] for s in mturk["waterfall"])
    assert mturk["gross_paid_time_wage"] + steps == pytest.approx(mturk["effective_wage"])
    assert mturk["hours"]["gap"] * 3600 == pytest.approx(40)
    assert mturk["tasks"] == {"approved": 2, "rejected": 1, "returned": 0, "pending": 0}
    assert mturk["delays"]["median_delay_days"] == pytest.approx(4.5)
    assert da["effective_wage"] == pytest.approx(DA_EFFECTIVE)
    assert da["money"]["fees"] == pytest.approx(40 * 1.093 * 0.2)
    assert da["delays"]["median_delay_days"] == pytest.approx(2.5)
    assert out["currency"] == "USD"
    assert out["unattributed_total"] == {"entries": 1, "hours": 1.0}


def test_fair_pay_against_the_floor_of_the_workers_country(published: Settings, capsys) -> None:
    out = run_json(published, capsys, "earnings", *WORKER_ARGS)
    checks = {r["platform"]: r for r in out["fair_pay"]}
    # GB floor on 3 March 2025: 11.44 GBP (from 2024-04-01) x 1.296 USD = 14.83 USD an hour.
    assert checks["mturk"]["floor_per_hour"] == pytest.approx(11.44 * 1.296)
    assert checks["mturk"]["share_below_floor"] == 1.0
    assert checks["dataannotation"]["share_below_floor"] is None  # country unknown


def test_skip_list_with_a_chosen_threshold(
    published: Settings, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = run_json(published, capsys, "earnings", *WORKER_ARGS, "--skip-below", "6")
    assert out["skip_list"] == []  # 2 and 4 tasks: fewer than skip_min_tasks (5)
    monkeypatch.setenv("CROWDMETER_PAY__SKIP_MIN_TASKS", "2")
    out = run_json(published, capsys, "earnings", *WORKER_ARGS, "--skip-below", "6")
    listed = {(r["platform"], r["kind"], r["name"]): r for r in out["skip_list"]}
    assert set(listed) == {("mturk", "task type", "sentiment"), ("mturk", "project", "b1")}
    row = listed[("mturk", "task type", "sentiment")]
    assert row["effective_wage"] == pytest.approx(MTURK_EFFECTIVE)
    assert (row["tasks"], row["days"], row["threshold"]) == (3, 1, 6.0)


def test_by_week_and_all_workers(published: Settings, capsys) -> None:
    out = run_json(published, capsys, "earnings", "--by", "week")
    assert [r["week"] for r in out["rows"]] == ["2025-03-03"]
    assert out["total"]["workers"] == 2
    spread = out["across_workers"][0]
    assert spread["suppressed"] is True and spread["median_effective_wage"] is None


def test_text_output_names_the_wages(published: Settings, capsys) -> None:
    assert main(["--data-dir", str(published.data_dir), "earnings", *WORKER_ARGS]) == 0
    text = capsys.readouterr().out
    assert "effective wage" in text and f"{MTURK_EFFECTIVE:.2f}" in text
    assert "1 entries, 1.0 h map to no platform" not in text  # only the chosen workers' time


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--worker", "A1FREELANCER"], "is not PLATFORM:ID"),
        (["--worker", "mturk:NOBODY"], "No work of mturk:NOBODY"),
    ],
)
def test_worker_mistakes_say_what_to_do(published: Settings, capsys, args, message) -> None:
    assert main(["--data-dir", str(published.data_dir), "earnings", *args]) == 2
    assert message in capsys.readouterr().err


def test_without_a_snapshot_the_user_is_told_to_ingest(settings: Settings, capsys) -> None:
    assert main(["--data-dir", str(settings.data_dir), "earnings"]) == 2
    assert "crowdmeter ingest" in capsys.readouterr().err


def test_marts_hold_the_same_wages(published: Settings) -> None:
    snapshot = (published.snapshots_dir / "CURRENT").read_text().strip()
    con = duckdb.connect(str(published.snapshots_dir / snapshot), read_only=True)
    try:
        wages = dict(
            con.execute(
                "SELECT platform, effective_wage FROM mart_earnings_by_worker ORDER BY platform"
            ).fetchall()
        )
        ledger_rows = con.execute("SELECT count(*) FROM mart_earnings_ledger").fetchone()[0]
        throughput = con.execute(
            "SELECT sum(tasks_completed), sum(active_hours) * 3600 FROM mart_earnings_throughput"
        ).fetchone()
    finally:
        con.close()
    assert wages == {
        "dataannotation": pytest.approx(DA_EFFECTIVE),
        "mturk": pytest.approx(MTURK_EFFECTIVE),
    }
    assert ledger_rows == 2
    # No platform active time in the fixture: each task's session share (covered + gap).
    assert throughput == (3, pytest.approx(1200 + 300 + 40))


def test_earnings_report_is_one_offline_html_file(
    published: Settings, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "me.html"
    args = ["--data-dir", str(published.data_dir), "report", "earnings", *WORKER_ARGS]
    assert main([*args, "--out", str(out)]) == 0
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in html
    assert "<script src=" not in html  # plotly.js is inline: the file opens offline
    assert "mturk:A1FREELANCER" in html and "How these figures are computed" in html
    assert f"{MTURK_EFFECTIVE:.2f}" in html


def test_a_project_report_without_a_project_says_what_to_do(
    published: Settings, tmp_path: Path, capsys
) -> None:
    args = ["--data-dir", str(published.data_dir), "report", "project"]
    assert main([*args, "--out", str(tmp_path / "f.html")]) == 2
    assert "Name the project" in capsys.readouterr().err


def test_a_real_toggl_export_without_mappings_is_listed_as_unattributed(
    settings: Settings, shared_dir: Path, capsys
) -> None:
    from etl.load import ingest

    path = shared_dir / "samples/toggl"
    path = next(path.glob("floresfdev_*.csv"))
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    seconds = sum(
        int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in (r["Duration"].split(":") for r in rows)
    )
    ingest(settings, [path])
    out = run_json(settings, capsys, "earnings")
    assert out["unattributed_total"]["entries"] == len(rows)
    assert out["unattributed_total"]["hours"] == pytest.approx(seconds / 3600)
    assert out["rows"] == []  # no platform: no wage


def test_marts_build_on_an_empty_warehouse(
    memory_warehouse: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    from etl.marts.earnings import build

    build(memory_warehouse, settings)  # no reference tables loaded either
    count = memory_warehouse.execute("SELECT count(*) FROM mart_earnings_by_worker").fetchone()
    assert count == (0,)
