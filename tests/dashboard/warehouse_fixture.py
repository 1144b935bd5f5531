"""A small published snapshot built from SQL text: two platforms, three projects, nine workers.

Worker pseudonyms use the test key, so a freelancer login made with `--worker mturk:A_RAW_0`
links to exactly the rows of `A_RAW_0` here. The counts below are what tests check against.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb

from etl.pseudonym import pseudonymise
from etl.publish import refresh_marts, write_current
from etl.settings import Settings
from etl.warehouse import apply_migrations

KEY = b"test-key"
START = date(2024, 3, 4)  # a Monday
# (platform, project, raw worker ids); the last mturk worker also works on project P2.
PROJECTS = {
    ("mturk", "P1"): [f"A_RAW_{i}" for i in range(6)],
    ("mturk", "P2"): ["A_RAW_5", "A_RAW_6"],
    ("toloka", "T1"): [f"t{i}" for i in range(3)],
}
STATUSES = ["approved", "approved", "approved", "rejected", "submitted", "returned"]


def worker(platform: str, raw: str) -> str:
    return pseudonymise(platform, raw, KEY)


def fixture_sql() -> str:
    """INSERT statements for every table the dashboard reads."""
    rows = [
        "INSERT INTO platforms VALUES ('mturk', 'Amazon Mechanical Turk', 'marketplace', 'USD', 0),"
        " ('toloka', 'Toloka', 'marketplace', 'USD', 0);",
        "INSERT INTO projects (platform, project_id, name, task_type) VALUES "
        "('mturk', 'P1', 'Sentiment batch', 'classification'), "
        "('mturk', 'P2', 'Receipts', 'transcription'), "
        "('toloka', 'T1', 'Street signs', 'classification');",
        "INSERT INTO etl_runs VALUES (1, 'cli', '2024-03-25 08:00:00+00', "
        "'2024-03-25 08:01:00+00', 'partial');",
        "INSERT INTO etl_files VALUES "
        "(1, 1, 'mturk', '/exports/mturk_p1.csv', 'aa', 'mturk', 100, 97, 0, 3, 'loaded', NULL, "
        "'2024-03-25 08:00:30+00'), "
        "(2, 1, 'toloka', '/exports/toloka_t1.tsv', 'bb', 'toloka', 40, 40, 0, 0, 'loaded', NULL,"
        " '2024-03-25 08:00:40+00'), "
        "(3, 1, 'mturk', '/exports/broken.csv', 'cc', 'mturk', 0, 0, 0, 0, 'failed', "
        "'file is truncated', NULL);",
        "INSERT INTO etl_rejects VALUES "
        "(1, 7, 'Reward ''abc'' is not an amount; fix the Reward column', 'row 7'), "
        "(1, 9, 'Reward ''abc'' is not an amount; fix the Reward column', 'row 9'), "
        "(1, 12, 'SubmitTime is empty', 'row 12');",
    ]
    values = []
    for (platform, project), raws in PROJECTS.items():
        file_id = 1 if platform == "mturk" else 2
        for w, raw in enumerate(raws):
            for n in range(12):
                day = START + timedelta(days=n * 2 + w % 2)
                status = STATUSES[(n + w) % len(STATUSES)]
                uid = f"{platform}:{project}:{raw}:{n}"
                gold = "true" if n % 3 == 0 else "false"
                values.append(
                    f"('{uid}', '{platform}', '{project}', 'item{n}', '{worker(platform, raw)}', "
                    f"'classification', TIMESTAMPTZ '{day} 10:00:00+00', "
                    f"TIMESTAMPTZ '{day} 10:05:00+00', 240, '{status}', 0.10, 0, 'USD', {gold}, "
                    f"NULL, NULL, NULL, {file_id})"
                )
    rows.append("INSERT INTO assignments VALUES " + ",\n".join(values) + ";")
    # gold answers: worker index 0 of each project is always wrong, everyone else right
    rows.append(
        "INSERT INTO annotations (assignment_uid, field, value, gold_value, file_id) "
        "SELECT assignment_uid, 'label', CASE WHEN assignment_uid LIKE '%:A_RAW_0:%' "
        "OR assignment_uid LIKE '%:t0:%' THEN 'neg' ELSE 'pos' END, 'pos', file_id "
        "FROM assignments WHERE is_gold;"
    )
    return "\n".join(rows)


def publish_fixture(settings: Settings, name: str = "00000001-fixture.duckdb") -> Path:
    """Build the fixture warehouse with its marts and publish it as the current snapshot."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "fixture-warehouse.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        apply_migrations(con)
        con.execute(fixture_sql())
        refresh_marts(con, settings, run_id=1)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    settings.snapshots_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, settings.snapshots_dir / name)
    write_current(settings.snapshots_dir, name)
    return settings.snapshots_dir / name
