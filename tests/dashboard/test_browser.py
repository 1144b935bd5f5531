"""Browser tests on headless Chromium: login and logout, every page for every role allowed to see
it without console errors, a filter change that updates the charts, a CSV download, the notice
shown while a run's figures lag its rows.
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from selenium.webdriver.common.by import By

from dashboard.access import ACTIONS
from dashboard.pages import PAGES
from etl.publish import write_current
from tests.dashboard.browser import chromium, console_errors, log_in, open_page, served, settle
from tests.dashboard.conftest import PASSWORDS

pytestmark = pytest.mark.browser

ROLE_LOGINS = {"admin": "ada", "manager": "mia", "freelancer": "fred", "auditor": "aud"}


@pytest.fixture(scope="module")
def site(published):
    with served(published) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    with chromium(downloads) as browser:
        yield browser


def test_login_then_logout(browser, site):
    browser.driver.get(site + "/pipeline")
    assert "/login" in browser.driver.current_url  # anonymous: sent to the login form
    log_in(browser, site, "ada", PASSWORDS["ada"])
    browser.driver.find_element(By.ID, "logout-link").click()
    browser.wait_for_element_by_id("login-button")
    browser.driver.get(site + "/")
    assert "/login" in browser.driver.current_url


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
def test_every_allowed_page_renders_without_console_errors(browser, site, role):
    name = ROLE_LOGINS[role]
    log_in(browser, site, name, PASSWORDS[name])
    console_errors(browser)  # start from a clean log
    for page in PAGES:
        if role in ACTIONS[page.action].roles:
            open_page(browser, site + page.path, page.title)
            assert browser.find_elements(".mantine-Card-root"), page.title
            assert "No data yet" not in browser.find_element("#page").text
        else:
            browser.driver.get(site + page.path)
            browser.wait_for_contains_text("#page", "Not available for your role")
        assert console_errors(browser) == [], (role, page.path)
    nav = browser.find_element("#nav").text
    assert [p.title for p in PAGES if p.title in nav] == [
        p.title for p in PAGES if role in ACTIONS[p.action].roles
    ]


def test_a_filter_change_updates_url_and_charts(browser, site):
    log_in(browser, site, "ada", PASSWORDS["ada"])
    open_page(browser, site + "/", "Overview")
    first_card = ".kpi-card:first-child"
    assert browser.find_element(first_card).text.splitlines()[1] == "132"
    legend_before = _legend(browser)
    browser.find_element("#filter-platforms").click()
    options = browser.wait_for_element(".mantine-MultiSelect-option")
    assert options
    toloka = [o for o in browser.find_elements(".mantine-MultiSelect-option") if o.text == "toloka"]
    toloka[0].click()
    browser.wait_for_contains_text(first_card, "36")
    settle(browser)
    assert "platform=toloka" in browser.driver.current_url
    assert set(legend_before) == {"toloka", "mturk"}
    assert _legend(browser) == ["toloka"]
    # the shared URL reproduces the view
    open_page(browser, browser.driver.current_url, "Overview")
    assert browser.find_element(first_card).text.splitlines()[1] == "36"
    assert console_errors(browser) == []


def test_csv_download_holds_the_table(browser, site):
    log_in(browser, site, "mia", PASSWORDS["mia"])
    open_page(browser, site + "/", "Overview")
    folder = Path(browser.download_path)
    before = set(folder.glob("*.csv"))
    browser.find_element('[id*="overview-projects"][id*="csv-button"]').click()
    deadline = time.monotonic() + 120  # a bound for a stuck page, not a speed expectation
    while time.monotonic() < deadline and not set(folder.glob("*.csv")) - before:
        time.sleep(0.2)
    (downloaded,) = set(folder.glob("*.csv")) - before
    rows = list(csv.DictReader(downloaded.open()))
    assert [(r["platform"], r["project_id"], r["assignments"]) for r in rows] == [
        ("mturk", "P1", "72")
    ]


def test_a_freelancer_chooses_the_skip_list_threshold(browser, site):
    log_in(browser, site, "fred", PASSWORDS["fred"])
    open_page(browser, site + "/earnings", "Earnings")
    rows = '[id*="earnings-skiplist"] .ag-center-cols-container .ag-row'
    before = len(browser.find_elements(rows))
    browser.find_element("#earnings-skip-below").send_keys("1000")  # above every wage
    deadline = time.monotonic() + 120  # a bound for a stuck page, not a speed expectation
    while time.monotonic() < deadline and "focus=1000" not in browser.driver.current_url:
        time.sleep(0.2)
    assert "focus=1000" in browser.driver.current_url
    settle(browser)
    thresholds = browser.find_elements('[id*="earnings-skiplist"] [col-id="threshold"].ag-cell')
    assert thresholds and {t.text for t in thresholds} == {"1,000.00"}
    assert len(browser.find_elements(rows)) >= before
    assert console_errors(browser) == []


def _legend(browser) -> list[str]:
    return [e.text for e in browser.find_elements("#overview-weekly .legendtext")]


def test_pages_say_when_the_figures_lag_the_rows(browser, site, published):
    """A run's rows are published before its figures: every page still renders, under a notice."""
    folder = published.snapshots_dir
    fixture = (folder / "CURRENT").read_text().strip()
    lagging = folder / "00000002-rows-before-figures.duckdb"
    shutil.copy(folder / fixture, lagging)
    con = duckdb.connect(str(lagging))
    con.execute("INSERT INTO etl_runs BY NAME SELECT * REPLACE (2 AS run_id) FROM etl_runs")
    con.close()
    write_current(folder, lagging.name)
    try:
        log_in(browser, site, "ada", PASSWORDS["ada"])
        console_errors(browser)
        for page in PAGES:
            open_page(browser, site + page.path, page.title)
            text = browser.find_element("#page").text
            assert "Figures are being updated" in text and "Run 2 is loaded" in text, page.path
            assert browser.find_elements(".mantine-Card-root"), page.title
            assert console_errors(browser) == [], page.path
    finally:
        write_current(folder, fixture)
