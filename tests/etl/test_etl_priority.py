"""The ETL lowers its own CPU priority, so publishing on a small machine leaves the web workers
the CPU (`etl_nice`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Runs in a child: niceness can only go up, and the test process must keep its own.
CHILD = """
import os, threading, time
from pathlib import Path
from etl.warehouse import lower_cpu_priority
started = threading.Event()
threading.Thread(target=lambda: (started.set(), time.sleep(2)), daemon=True).start()
started.wait()
before = os.getpriority(os.PRIO_PROCESS, 0)
lower_cpu_priority(int(os.environ["NICE"]))
tasks = [int(t.name) for t in Path("/proc/self/task").iterdir()]
print(before, min(os.getpriority(os.PRIO_PROCESS, t) for t in tasks))
"""


def niceness(value: int) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        env={"NICE": str(value), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = map(int, done.stdout.split())
    return before, after


def test_every_thread_takes_the_configured_niceness():
    before, after = niceness(15)
    assert after == max(before, 15)


def test_zero_leaves_the_priority_alone():
    before, after = niceness(0)
    assert after == before
