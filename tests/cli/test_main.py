"""The command line's shape: every command listed once, in `--help` order, a parser that loads
no heavy library (the commands import DuckDB, Polars or Dash when they run), and a `status`
that needs neither Polars nor the dashboard."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cli.main import COMMANDS
from etl.settings import Settings
from tests.cli.test_quality import build_snapshot

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


def test_status_reads_a_snapshot_without_polars_or_the_dashboard(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    build_snapshot(settings)
    code = (
        "import sys; from cli.main import main; "
        f"assert main(['--data-dir', {str(settings.data_dir)!r}, 'status', '--json']) == 0; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout)["totals"]["assignments"] == 12
    assert set(out.stderr.strip().split(",")) == {"duckdb", "pydantic"}
