"""Importing Crowdmeter runs no Polars or DuckDB work. Gunicorn forks its workers from the
process that imported the app. Polars' thread pool, once started, does not survive a fork,
and a forked worker's first Polars query then waits forever. So a module that computes
something with Polars at import (a schema asked of a function on an empty frame, say) would
hang every worker of any server that imports it before forking."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Imports every module of the shipped packages, forks, and runs Polars in the child: the
# child exits 0 when the query ran. A child that hangs is killed by its alarm; the alarm is
# only an upper bound for a deadlock, which never ends by itself.
PROBE = """
import importlib, os, pkgutil, signal, sys
import polars as pl
import pyarrow as pa
packages = sys.argv[1:]
for name in packages:
    package = importlib.import_module(name)
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        if module.name.endswith("__main__"):
            continue
        importlib.import_module(module.name)
pid = os.fork()
if pid == 0:
    signal.alarm(120)
    table = pa.table({"a": list(range(100_000)), "b": [str(i) for i in range(100_000)]})
    pl.from_arrow(table).group_by("b").agg(pl.col("a").sum())
    os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(0 if status == 0 else 1)
"""


def test_importing_every_module_leaves_a_forked_child_able_to_run_polars():
    packages = ["metrics", "etl", "dashboard", "simulate", "cli"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *packages], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, (
        "after importing every module, a forked child could not run a Polars query: some "
        "module runs Polars at import\n" + done.stdout + done.stderr
    )
