"""`kill -9` during ingest and publish: whole files only, and a rerun matches a clean run."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from etl.settings import Settings
from etl.warehouse import open_warehouse

FILES, ROWS = 5, 30_000
HEADER = [
    "HITId", "HITTypeId", "Title", "Reward", "AssignmentId", "WorkerId", "AssignmentStatus",
    "AcceptTime", "SubmitTime", "ApprovalTime", "RejectionTime", "WorkTimeInSeconds",
    "Input.text", "Answer.label",
]  # fmt: skip


def write_batches(folder: Path) -> list[Path]:
    """Small MTurk batches whose assignment ids say which file they come from (F<n>A...)."""
    folder.mkdir()
    rng = random.Random(5)
    paths = []
    for n in range(FILES):
        path = folder / f"batch_{n}.csv"
        with path.open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(HEADER)
            for i in range(ROWS):
                status = rng.choice(["Submitted", "Approved", "Rejected"])
                approved = "Tue Apr 02 11:00:00 PDT 2024" if status == "Approved" else ""
                rejected = "Tue Apr 02 11:00:00 PDT 2024" if status == "Rejected" else ""
                out.writerow([
                    f"H{n}X{i // 3:08d}", "TYPE1", "Label a tweet", "$0.05", f"F{n}A{i:08d}",
                    f"A{rng.randrange(400):06d}W", status, "Mon Apr 01 10:00:00 PDT 2024",
                    "Mon Apr 01 10:01:00 PDT 2024", approved, rejected, "60", "a tweet",
                    rng.choice(["joy", "anger"]),
                ])  # fmt: skip
        paths.append(path)
    return paths


def ingest_process(data_dir: Path, folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--data-dir", str(data_dir), "ingest", str(folder),
         "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "CROWDMETER_PSEUDONYM_KEY": "crash-test", "PYTHONPATH": os.getcwd(),
             # parts of 1 MB: a kill lands in staging as well as in the final merge
             "CROWDMETER_ETL_PART_BYTES": "1000000"},
    )  # fmt: skip


def per_file_counts(data_dir: Path) -> dict[int, int]:
    """Assignments per input file, read through the writer (which also proves it opens)."""
    with open_warehouse(Settings(data_dir=data_dir)) as con:
        rows = con.sql(
            "SELECT regexp_extract(assignment_uid, 'mturk:F(\\d+)A', 1)::INT AS f, count(*)"
            " FROM assignments GROUP BY f"
        ).fetchall()
        dupes = con.execute(
            "SELECT count(*) - count(DISTINCT assignment_uid) FROM assignments"
        ).fetchone()[0]
    assert dupes == 0
    return dict(rows)


def totals(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT count(*), count(DISTINCT worker_id), sum(reward), "
            " (SELECT count(*) FROM annotations), (SELECT count(*) FROM items),"
            " (SELECT count(*) FROM workers) FROM assignments"
        ).fetchone()
    finally:
        con.close()


@pytest.mark.slow
def test_kill_minus_nine_leaves_whole_files_and_a_rerun_matches_a_clean_run(tmp_path):
    folder = write_batches(tmp_path / "exports")[0].parent
    clean = tmp_path / "clean"
    assert ingest_process(clean, folder).wait(timeout=300) == 0
    clean_totals = totals(Settings(data_dir=clean).warehouse_path)

    crashed = tmp_path / "crashed"
    rng = random.Random(11)
    kills = 0
    for _ in range(4):
        proc = ingest_process(crashed, folder)
        time.sleep(rng.uniform(0.8, 6.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        counts = per_file_counts(crashed)
        assert all(n == ROWS for n in counts.values()), f"half-loaded file: {counts}"
        current = crashed / "snapshots" / "CURRENT"
        if current.exists():  # the current snapshot is always a whole file that opens
            duckdb.connect(
                str(crashed / "snapshots" / current.read_text().strip()), read_only=True
            ).close()
    assert kills >= 1, "no run was killed mid-way; the test proved nothing"
    assert ingest_process(crashed, folder).wait(timeout=300) == 0
    assert per_file_counts(crashed) == {n: ROWS for n in range(FILES)}
    assert totals(Settings(data_dir=crashed).warehouse_path) == clean_totals
    assert not list((crashed / "snapshots").glob("*.part"))
    assert not list((crashed / "tmp").glob("staging-*"))  # killed runs' staged parts are gone
