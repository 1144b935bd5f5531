"""The layering is a contract (pyproject.toml, [tool.importlinter]): imports flow one way,
cli -> dashboard -> etl -> metrics with simulate beside the dashboard, nothing imports cli, and
no package's modules import each other in a cycle. Imports inside functions count too."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
)


def test_imports_keep_the_layers_and_have_no_cycles():
    done = subprocess.run([sys.executable, "-c", LINT], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_contract_covers_every_package_the_wheel_ships():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    shipped = {p.rstrip("*") for p in config["setuptools"]["packages"]["find"]["include"]}
    assert set(config["importlinter"]["root_packages"]) == shipped
