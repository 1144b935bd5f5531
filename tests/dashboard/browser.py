"""A served app and one headless Debian Chromium driven through dash[testing], for browser tests
and screenshots. Never downloads a browser: it uses /usr/bin/chromium and its chromedriver.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dash.testing.browser import Browser
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from dashboard.app import create_app
from etl.settings import Settings

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--window-size=1440,1000",
]
# A bound for a stuck page, not a speed expectation: every wait returns as soon as the thing
# happened, and a busy machine (CI, two cores, a server starting beside the suite) may need long.
WAIT = 120


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The dashboard on a free local port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, create_app(settings).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def chromium(download_dir: Path) -> Iterator[Browser]:
    """One headless Chromium session (dash.testing's Browser around Debian's chromedriver)."""
    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    with Browser(
        "chrome",
        headless=False,  # --headless is in FLAGS; Browser's own flag would add it twice
        options=[options],
        download_path=str(download_dir),
        percy_run=False,
        wait_timeout=WAIT,
    ) as browser:
        # headless Chromium drops downloads unless told where to put them
        browser.driver.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)}
        )
        yield browser


def log_in(browser: Browser, base_url: str, name: str, password: str) -> None:
    """Log in through the form and wait for the shell to show the viewer's name."""
    browser.driver.get(base_url + "/login")  # logging in replaces any session
    browser.wait_for_element_by_id("username")
    browser.driver.find_element(By.ID, "username").send_keys(name)
    browser.driver.find_element(By.ID, "password").send_keys(password)
    browser.driver.find_element(By.ID, "login-button").click()
    browser.wait_for_text_to_equal("#viewer-name", name)


def open_page(browser: Browser, url: str, title: str) -> None:
    """Open `url` and wait until its page title has rendered and loading has finished."""
    browser.driver.get(url)
    browser.wait_for_contains_text("#page h2", title)
    settle(browser)
    graphs_drawn(browser)


def settle(browser: Browser, quiet_seconds: float = 0.4, timeout: float = WAIT) -> None:
    """Wait until no Dash callback is pending for a short while."""
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        busy = browser.driver.execute_script(
            "return document.querySelector('[data-dash-is-loading=\"true\"]') !== null"
        )
        if busy:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds:
            return
        time.sleep(0.1)


def graphs_drawn(browser: Browser, timeout: float = WAIT) -> None:
    """Wait until every graph on the page has been drawn by plotly (they load lazily)."""
    browser._wait_for(
        lambda driver: driver.execute_script(
            "return Array.from(document.querySelectorAll('.dash-graph'))"
            ".every(g => g.querySelector('.main-svg') !== null)"
        ),
        timeout,
        "graphs were not drawn",
    )


def console_errors(browser: Browser) -> list[dict]:
    """Severe browser console entries since the last call."""
    return [entry for entry in browser.driver.get_log("browser") if entry["level"] == "SEVERE"]
