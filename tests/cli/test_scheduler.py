"""`crowdmeter scheduler` and `crowdmeter up` as processes: sources run at start and on their
schedules, a run asked for by request file happens, SIGTERM stops everything with exit 0.
Waits poll for an event (a recorded pull, a page served) up to a bound for a stuck process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from etl.pulls.requests import request_run
from etl.reader import NoSnapshot, SnapshotReader
from etl.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "etl" / "fixtures"
STUCK = 120  # seconds: a bound for a stuck process, not a speed expectation

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, every: str, port: int = 8050) -> Path:
    (tmp_path / "drop").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f"[server]\nport = {port}\nworkers = 1\n"
        "[[pulls]]\n"
        'name = "drop"\nkind = "folder"\n'
        f'path = "{tmp_path / "drop"}"\nevery = "{every}"\nsettle_seconds = 0\n'
    )
    return config


def _start(config: Path, command: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "CROWDMETER_PSEUDONYM_KEY": "test-key", "PYTHONPATH": str(REPO)}
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", "--config", str(config), command],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _query(config: Path, sql: str) -> dict | None:
    try:
        with SnapshotReader(load_settings(config)).cursor() as cur:
            result = cur.execute(sql)
            row = result.fetchone()
            return (
                None
                if row is None
                else dict(zip([c[0] for c in result.description], row, strict=True))
            )
    except NoSnapshot:
        return None


def _pull_state(config: Path) -> dict | None:
    return _query(config, "SELECT * FROM pull_state WHERE name = 'drop'")


def _loaded_files(config: Path) -> list[str]:
    """Names of the files the published snapshot says were loaded."""
    found = _query(config, "SELECT list(path ORDER BY path) AS paths FROM etl_files")
    return [Path(p).name for p in (found or {}).get("paths") or []]


def _wait_for(what: str, process: subprocess.Popen, log: Path, check: Callable[[], object]):
    deadline = time.monotonic() + STUCK
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}:\n{log.read_text()}"
        if found := check():
            return found
        time.sleep(0.2)
    pytest.fail(f"no {what}:\n{log.read_text()}")


def _stop(process: subprocess.Popen, log: Path) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=STUCK) == 0, log.read_text()
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("did not stop on SIGTERM")


def _events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def _finished_pulls(log: Path) -> int:
    return sum(e.get("event") == "pull.finished" for e in _events(log))


def test_the_scheduler_loads_a_dropped_file_and_stops_on_sigterm(tmp_path: Path):
    config, log = _config(tmp_path, every="1s"), tmp_path / "scheduler.log"
    scheduler = _start(config, "scheduler", log)
    try:
        _wait_for("first pull", scheduler, log, lambda: _finished_pulls(log))
        shutil.copy(FIXTURES / "mturk_batch.csv", tmp_path / "drop" / "batch.csv")
        _wait_for("load of the dropped file", scheduler, log, lambda: _loaded_files(config))
        state = _pull_state(config)
        assert state["next_run_at"] > state["last_started_at"]
    finally:
        _stop(scheduler, log)
    assert _loaded_files(config) == ["batch.csv"]
    finished = [e for e in _events(log) if e.get("event") == "pull.finished"]
    assert [e["result"] for e in finished].count("loaded") == 1
    assert {e["pull"] for e in finished} == {"drop"}
    assert _events(log)[-1]["event"] == "scheduler.stopped"


def test_a_run_asked_for_by_request_happens_before_its_schedule(tmp_path: Path):
    config, log = _config(tmp_path, every="1d"), tmp_path / "scheduler.log"
    scheduler = _start(config, "scheduler", log)
    try:
        _wait_for("first pull", scheduler, log, lambda: _finished_pulls(log))
        shutil.copy(FIXTURES / "mturk_batch.csv", tmp_path / "drop" / "batch.csv")
        request = request_run(load_settings(config), "drop")
        _wait_for("requested run", scheduler, log, lambda: not request.exists())
        # the run at start, then the requested one (the schedule's next is a day away)
        _wait_for("requested run", scheduler, log, lambda: _finished_pulls(log) == 2)
        assert _loaded_files(config) == ["batch.csv"]
    finally:
        _stop(scheduler, log)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serves(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def test_up_serves_the_dashboard_pulls_and_stops_both_on_sigterm(tmp_path: Path):
    port = _free_port()
    config, log = _config(tmp_path, every="1s", port=port), tmp_path / "up.log"
    shutil.copy(FIXTURES / "mturk_batch.csv", tmp_path / "drop" / "batch.csv")
    up = _start(config, "up", log)
    try:
        _wait_for("dashboard", up, log, lambda: _serves(f"http://127.0.0.1:{port}/login"))
        _wait_for("load of the dropped file", up, log, lambda: _loaded_files(config))
    finally:
        _stop(up, log)
    assert not _serves(f"http://127.0.0.1:{port}/login")
    assert _events(log)[-1]["event"] == "scheduler.stopped"
