"""`crowdmeter up` on a fresh data folder serves the dashboard and pulls a drop folder: a file
copied into the folder shows on the Pipeline page, with the source's result, once the next
scheduled run has loaded it (the page is reloaded until then, up to a bound)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_scheduler import REPO, _free_port, _serves, _start, _stop, _wait_for
from tests.dashboard.browser import chromium, console_errors, log_in, open_page, settle

MTURK = REPO / "tests" / "etl" / "fixtures" / "mturk_batch.csv"
SCHEDULE_SECONDS = 3
STUCK = 120  # seconds: a bound for a stuck run, not a speed expectation

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_dropped_file_shows_on_the_pipeline_page(tmp_path: Path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    (tmp_path / "drop").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f"[server]\nport = {port}\nworkers = 1\n"
        f'[[pulls]]\nname = "drop"\nkind = "folder"\npath = "{tmp_path / "drop"}"\n'
        f'every = "{SCHEDULE_SECONDS}s"\nsettle_seconds = 0\n'
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "CROWDMETER_NEW_PASSWORD": "pw-for-ada-1"}
    subprocess.run(
        [sys.executable, "-m", "cli.main", "--config", str(config), "users", "add", "ada"]
        + ["--role", "admin"],
        env=env,
        cwd=REPO,
        check=True,
    )
    log = tmp_path / "up.log"
    up = _start(config, "up", log)
    try:
        _wait_for("dashboard", up, log, lambda: _serves(url + "/login"))
        with chromium(tmp_path / "downloads") as browser:
            log_in(browser, url, "ada", "pw-for-ada-1")
            shutil.copy(MTURK, tmp_path / "drop" / "batch.csv")
            deadline = time.monotonic() + STUCK
            while "batch.csv" not in _pipeline_text(browser, url):
                assert time.monotonic() < deadline, browser.find_element("#page").text[:2000]
            open_page(browser, url + "/pipeline", "Pipeline")
            shown = browser.find_element("#page").text
            assert "Pull sources" in shown and f"every {SCHEDULE_SECONDS}s" in shown
            assert console_errors(browser) == []
    finally:
        _stop(up, log)


def _pipeline_text(browser, url: str) -> str:
    """The Pipeline page's text as it renders now (a notice before the first figures)."""
    browser.driver.get(url + "/pipeline")
    browser.wait_for_element_by_id("page")
    settle(browser)
    return browser.find_element("#page").text
