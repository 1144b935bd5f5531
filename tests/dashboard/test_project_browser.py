"""The Project page in headless Chromium on the demo-like warehouse: a manager's project list
holds their projects only, and the burn-up with its forecast fan, the workforce chart and the
tables render without console errors."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.dashboard.browser import (
    WAIT,
    chromium,
    console_errors,
    graphs_drawn,
    log_in,
    open_page,
    served,
    settle,
)
from tests.dashboard.test_project_page import (  # noqa: F401
    LOGINS,
    MANAGED,
    demo_settings,
    forecast_row,
)

pytestmark = pytest.mark.browser

TRACES = "return document.getElementById('project-burnup').querySelector('.js-plotly-plot').data"
TRACE_NAMES = TRACES + ".map(t => t.name)"


@pytest.fixture(scope="module")
def site(demo_settings):  # noqa: F811
    with served(demo_settings) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("downloads")) as browser:
        yield browser


def test_a_manager_picks_among_their_projects_and_the_figures_render(
    browser,
    site,
    demo_settings,  # noqa: F811 (the fixture, imported from test_project_page)
    capsys,
) -> None:
    chosen = forecast_row(demo_settings, MANAGED[1], capsys)
    assert chosen["scope"] != forecast_row(demo_settings, MANAGED[0], capsys)["scope"]
    log_in(browser, site, "mia", LOGINS["mia"])
    console_errors(browser)
    open_page(browser, site + "/project", "Project")
    browser.driver.find_element(By.ID, "project-select").click()
    options = browser.wait_for_element(".mantine-Select-option")
    assert options is not None
    listed = [o.text.split(" · ")[0] for o in browser.find_elements(".mantine-Select-option")]
    assert listed == MANAGED
    browser.find_elements(".mantine-Select-option")[1].click()
    browser._wait_for(lambda driver: "focus=labelstudio" in driver.current_url, WAIT, "no focus")
    browser.wait_for_contains_text("#page", f"of {chosen['scope']:,}")  # labelstudio's, not appen's
    settle(browser)
    graphs_drawn(browser)
    names = browser.driver.execute_script(TRACE_NAMES)
    assert {"done", "scope", "milestones"} <= set(names)
    assert any(str(n).startswith("forecast P50") for n in names)  # the fan
    text = browser.find_element("#page").text
    for heading in ("Milestones", "Budget", "Quality gate", "Workforce", "Annotators", "Alerts"):
        assert heading in text
    assert len(browser.find_elements(".metric-help")) >= 10  # each figure's "?"
    assert console_errors(browser) == []
