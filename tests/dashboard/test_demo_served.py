"""A fresh demo run the way `make demo` runs it (the console script, simulate + ingest + serve
under gunicorn), then each role logs in in headless Chromium and waits for its first page's
figures. A server that answers /login is not a working dashboard: web workers forked from the
process that ingested once hung on their first query.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.dashboard.browser import chromium, console_errors, log_in, open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROLES = ("admin", "manager", "freelancer", "auditor")
BUILD_TIMEOUT = 900  # seconds: a bound for a stuck demo, not a speed expectation


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(demo: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + BUILD_TIMEOUT
    while time.monotonic() < deadline:
        assert demo.poll() is None, f"the demo exited with {demo.returncode}"
        try:
            with urllib.request.urlopen(url + "/login", timeout=10) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail("the demo did not start serving")


def test_a_fresh_demo_renders_figures_for_every_role(tmp_path: Path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "demo"
    env = {**os.environ, "CROWDMETER_PSEUDONYM_KEY": "demo-served-test"}
    crowdmeter = Path(sys.executable).with_name("crowdmeter")
    command = [str(crowdmeter), "--data-dir", str(data), "demo", "--scale", "0.1"]
    command += ["--port", str(port)]
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(demo, url)
        logins = json.loads((data / "demo-logins.json").read_text())
        with chromium(tmp_path / "downloads") as browser:
            try:
                for role in ROLES:
                    _check_first_page(browser, url, role, logins[role])
            except Exception as exc:
                page = _keep_evidence(browser, tmp_path)
                log_tail = _tail(tmp_path / "demo.log")
                raise AssertionError(
                    f"{exc}\n--- page ---\n{page}\n--- demo log (tail) ---\n{log_tail}"
                ) from exc
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            code = demo.wait(timeout=120)
        except subprocess.TimeoutExpired:
            demo.kill()
            raise AssertionError("the demo did not stop on SIGTERM") from None
        log.close()
    assert code == 0, _tail(tmp_path / "demo.log")


def _check_first_page(browser, url: str, role: str, login: dict) -> None:
    log_in(browser, url, login["login"], login["password"])
    console_errors(browser)
    open_page(browser, url + "/", "Overview")
    cards = browser.find_elements(".kpi-card")
    assert cards, role
    figures = [card.text.splitlines()[1] for card in cards]
    assert any(any(c.isdigit() for c in figure) for figure in figures), (role, figures)
    assert "Loading" not in browser.find_element("#page").text, role
    assert console_errors(browser) == [], role


def _keep_evidence(browser, folder: Path) -> str:
    """A screenshot and the page's HTML beside the demo's log; returns the page's URL, text and
    console, for a failure in CI to be read from its output alone."""
    browser.driver.save_screenshot(str(folder / "failure.png"))
    (folder / "failure.html").write_text(browser.driver.page_source)
    text = browser.driver.execute_script("return document.body ? document.body.innerText : ''")
    console = browser.driver.get_log("browser")
    return f"{browser.driver.current_url}\n{text[:1500]}\nconsole: {console[-10:]}"


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:]
