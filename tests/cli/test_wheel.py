"""A wheel built from the repository works outside the checkout: it carries its SQL, settings
and metric definitions, and its `crowdmeter` simulates, ingests and reports.

The wheel goes into a fresh virtual environment that sees the test venv's installed libraries
(a .pth line, which adds their folder to sys.path without running its .pth files, so the
editable install of the checkout stays out) and nothing of the checkout: the commands run from
a temporary folder, without PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Left out of the copy the wheel is built from: the checkout's own state (and its data folder).
NOT_SOURCE = {".git", ".venv", "build", "crowdmeter.egg-info", ".ruff_cache", "data", "tmp"}

pytestmark = pytest.mark.slow


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(the fresh venv's bin folder, an environment without the checkout) once the wheel is in."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CROWDMETER_"))}
    # A copy of the source, so that the build leaves nothing in the checkout (and no stale
    # build/ folder of the checkout's ends up in the wheel). Links stay links.
    source = tmp / "source"
    shutil.copytree(
        ROOT,
        source,
        symlinks=True,
        ignore=lambda folder, names: NOT_SOURCE & set(names) if Path(folder) == ROOT else (),
    )
    run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", "dist"],
        tmp,
        env,
    )
    (wheel,) = (tmp / "dist").glob("crowdmeter-*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp, env)
    python = venv / "bin" / "python"
    site = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp, env
    )
    Path(site.strip(), "test-venv-libraries.pth").write_text(sysconfig.get_path("purelib") + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    run([*pip, "--no-index", "--no-deps", str(wheel)], tmp, env)
    return venv / "bin", env


def test_the_wheel_simulates_ingests_and_reports_outside_the_checkout(installed, tmp_path):
    bin_dir, env = installed
    code = "import cli.main, etl.resources as r; print(cli.main.__file__); print(r.MARTS_DIR)"
    for path in run([str(bin_dir / "python"), "-c", code], tmp_path, env).split():
        assert Path(path).is_relative_to(bin_dir.parent), path
    crowdmeter = str(bin_dir / "crowdmeter")
    exports = tmp_path / "exports"
    run(
        [crowdmeter, "simulate", str(exports), "--seed", "11", "--scale", "0.1", "--json"],
        tmp_path,
        env,
    )
    truth = json.loads((exports / "truth.json").read_text())
    folders = sorted({str(exports / f["path"].split("/")[0]) for f in truth["files"]})
    data = ["--config", str(exports / "config.toml"), "--data-dir", str(tmp_path / "data")]
    ingested = json.loads(run([crowdmeter, *data, "ingest", *folders, "--json"], tmp_path, env))
    assert ingested["status"] == "succeeded"
    assert sum(f["rows_inserted"] for f in ingested["files"]) > 0
    quality = run([crowdmeter, *data, "quality", "--json", "--bootstrap", "0"], tmp_path, env)
    projects = json.loads(quality)["projects"]
    assert {p["platform"] for p in projects} >= {"mturk", "toloka"}
