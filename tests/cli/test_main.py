"""The command line's shape: every command listed once, in `--help` order, and a parser that
loads no heavy library (the commands import DuckDB, Polars or Dash when they run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("dash", "duckdb", "gunicorn", "numpy", "plotly", "polars", "pydantic", "scipy")


def test_every_command_module_is_listed():
    listed = [c.__name__.rsplit(".", 1)[1] for c in COMMANDS]
    on_disk = sorted(p.stem for p in (ROOT / "cli" / "commands").glob("*.py") if p.stem[0] != "_")
    assert listed == on_disk


def test_building_the_parser_loads_no_heavy_library():
    code = (
        "import sys; from cli.main import build_parser; build_parser(); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_python_dash_m_cli_main_runs_the_command_line():
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.startswith("usage: crowdmeter ")
    shown = [
        line.split()[0]
        for line in out.stdout.splitlines()
        if line.startswith("    ") and line[4] != " "
    ]
    assert shown == [c.__name__.rsplit(".", 1)[1] for c in COMMANDS]
