"""The scheduler killed with `kill -9` mid-work and started again, while a reader queries the
published snapshots: the reader never fails, no row is loaded twice, and every dropped file is
loaded exactly once. Three drop folders run every second; files arrive one by one."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest

from etl.reader import NoSnapshot, SnapshotReader
from etl.settings import load_settings
from tests.cli.test_scheduler import _events, _loaded_files, _start, _stop, _wait_for

SOURCES = ("alpha", "beta", "gamma")
FILES = 9
ROWS = 40

pytestmark = pytest.mark.slow


def _config(tmp_path: Path) -> Path:
    text = f'data_dir = "{tmp_path / "data"}"\n'
    for name in SOURCES:
        (tmp_path / name).mkdir()
        text += (
            f'[[pulls]]\nname = "{name}"\nkind = "folder"\npath = "{tmp_path / name}"\n'
            'every = "1s"\nsettle_seconds = 0\n'
        )
    config = tmp_path / "config.toml"
    config.write_text(text)
    return config


def _batch(n: int) -> str:
    header = "HITId,HITTypeId,Reward,AssignmentId,WorkerId,AssignmentStatus,AcceptTime,SubmitTime"
    rows = [
        f"H{n},T1,$0.10,A{n}x{i},W{i % 7},Approved,2024-01-01T10:00:00Z,2024-01-01T10:01:00Z"
        for i in range(ROWS)
    ]
    return "\n".join([header, *rows]) + "\n"


class Reader(threading.Thread):
    """Counts assignments in the newest snapshot until stopped, keeping every error."""

    def __init__(self, config: Path) -> None:
        super().__init__(daemon=True)
        self.reader = SnapshotReader(load_settings(config))
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.queries = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with self.reader.cursor() as cur:
                    cur.execute("SELECT count(*) FROM assignments").fetchone()
                self.queries += 1
            except NoSnapshot:
                continue
            except BaseException as exc:  # every failure is evidence
                self.errors.append(exc)


def _pull_starts(log: Path) -> int:
    return sum(e.get("event") == "pull.started" for e in _events(log))


def test_a_killed_scheduler_restarts_with_every_file_loaded_once(tmp_path: Path):
    config = _config(tmp_path)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    scheduler = _start(config, "scheduler", logs[0])
    reader = Reader(config)
    reader.start()
    try:
        for n in range(FILES):
            if n == FILES // 2:  # kill -9 as soon as the next run has started
                starts = _pull_starts(logs[0])
                (tmp_path / SOURCES[n % 3] / f"batch{n}.csv").write_text(_batch(n))
                _wait_for("a run", scheduler, logs[0], lambda s=starts: _pull_starts(logs[0]) > s)
                scheduler.send_signal(signal.SIGKILL)
                scheduler.wait()
                scheduler = _start(config, "scheduler", logs[1])
                continue
            (tmp_path / SOURCES[n % 3] / f"batch{n}.csv").write_text(_batch(n))
            log = logs[1] if n > FILES // 2 else logs[0]
            _wait_for(
                f"batch{n}", scheduler, log, lambda n=n: f"batch{n}.csv" in _loaded_files(config)
            )
        _wait_for("every file", scheduler, logs[1], lambda: len(_loaded_files(config)) >= FILES)
    finally:
        reader.stop.set()
        reader.join()
        if scheduler.poll() is None:
            _stop(scheduler, logs[1])
    assert reader.errors == [] and reader.queries > 0
    with SnapshotReader(load_settings(config)).cursor() as cur:
        rows, distinct = cur.execute(
            "SELECT count(*), count(DISTINCT assignment_uid) FROM assignments"
        ).fetchone()
        loaded = cur.execute(
            "SELECT path, count(*) FROM etl_files WHERE status = 'loaded' GROUP BY path"
        ).fetchall()
    assert rows == distinct == FILES * ROWS
    assert sorted(Path(p).name for p, _ in loaded) == sorted(f"batch{n}.csv" for n in range(FILES))
    assert {count for _, count in loaded} == {1}
