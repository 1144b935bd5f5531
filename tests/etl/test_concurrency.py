"""One writer at a time; readers of published snapshots never see an error while ETL publishes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from etl.load import ingest
from etl.warehouse import WarehouseBusy, writer_lock
from tests.etl.test_load import fake_source, write  # noqa: F401  (fixture)


def test_second_writer_waits_then_names_the_holder(settings):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import time
            from etl.settings import Settings
            from etl.warehouse import writer_lock
            with writer_lock(Settings(data_dir={str(settings.data_dir)!r})):
                print("held", flush=True)
                time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match=f"pid {holder.pid}"), writer_lock(settings):
            pass
        assert time.monotonic() - started >= settings.lock_timeout_seconds * 0.9
    finally:
        holder.kill()
        holder.wait()
    with writer_lock(settings):  # released when the holder died
        pass


READER_LOOP = """
import sys, time
from pathlib import Path
from etl.settings import Settings
from etl.reader import SnapshotReader, NoSnapshot
reader = SnapshotReader(Settings(data_dir=sys.argv[1]))
stop = Path(sys.argv[2])
deadline = time.monotonic() + 600  # a bound for a lost test runner, not a duration
queries = errors = 0
seen = set()
while not stop.exists() and time.monotonic() < deadline:
    try:
        n = reader.frame("SELECT count(*) AS n FROM assignments").item()
        name = reader.current_name()
        if name not in seen:
            seen.add(name)
            print("seen", name, flush=True)
        queries += 1
    except NoSnapshot:
        pass
    except Exception as exc:
        errors += 1
        print("ERROR", type(exc).__name__, exc, flush=True)
print("queries", queries, "snapshots", len(seen), "errors", errors, flush=True)
"""

PUBLISHES = 4


def test_readers_see_no_error_while_ingests_publish(settings, tmp_path, fake_source):  # noqa: F811
    batch = write(tmp_path / "b.json", [[i, f"W{i % 7}", "submitted"] for i in range(200)])
    ingest(settings, [batch])
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_LOOP, str(settings.data_dir), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    lines = []
    try:
        for published in range(PUBLISHES):
            status = "approved" if published % 2 else "submitted"
            rows = [[i, f"W{i % 7}", status] for i in range(200)]
            ingest(settings, [write(tmp_path / f"b{published}.json", rows)])
            # count events: the reader has to see this publish before the next one starts
            current = (settings.snapshots_dir / "CURRENT").read_text().strip()
            while not any(line.split()[-1] == current for line in lines if line.startswith("seen")):
                line = reader.stdout.readline()
                assert line, f"the reader stopped: {lines}"
                lines.append(line.strip())
    finally:
        stop.touch()
    out, _ = reader.communicate(timeout=120)
    out = "\n".join(lines) + "\n" + out
    assert "ERROR" not in out, out
    summary = out.split()
    assert summary[summary.index("errors") + 1] == "0"
    assert int(summary[summary.index("snapshots") + 1]) >= PUBLISHES, out
