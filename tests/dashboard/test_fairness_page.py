"""The Fairness page: open to auditors and admins only (forged callbacks and downloads
included), flagged findings first, suppressed groups shown as suppressed, and reviewers'
pseudonyms never shown to an auditor."""

from __future__ import annotations

import re

import duckdb
import polars as pl
import pytest

from dashboard.pages.fairness import PAGE
from etl.settings import Settings
from metrics.fairness.findings import AuditSettings, findings_frame
from metrics.fairness.pay_equity import pay_equity
from metrics.fairness.review import review_fairness
from tests.dashboard.browser import chromium, console_errors, log_in, open_page, served
from tests.dashboard.conftest import PASSWORDS, add_logins
from tests.dashboard.test_authorization import download_rows
from tests.dashboard.warehouse_fixture import publish_fixture
from tests.metrics import fairness_data

PSEUDONYM = re.compile(r"w_[0-9a-f]{20}")
REVIEWERS = {f"r{i}": f"w_{i:020x}" for i in range(3)}


def planted_findings() -> pl.DataFrame:
    """Findings with a planted pay gap and biased reviewer (group f), and a group of three
    (y) suppressed with the next smallest."""
    people = fairness_data.people(200, seed=3)
    people = people.with_columns(  # a group of three
        gender=pl.when(pl.int_range(pl.len()) < 3).then(pl.lit("y")).otherwise("gender")
    )
    settings = AuditSettings(100, 1000)
    reviews = fairness_data.reviews(people, seed=3, bias=0.4).with_columns(
        pl.col("reviewer_id").replace_strict(REVIEWERS)
    )
    found = pay_equity(fairness_data.pay_cells(people, 3, gap=0.3), people, "gender", "m",
                       settings=settings)  # fmt: skip
    found += review_fairness(reviews, people, "gender", "m", settings=settings)
    return findings_frame(found)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The dashboard fixture's snapshot with fairness findings written into its mart."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    settings = Settings(data_dir=tmp_path_factory.mktemp("fair") / "data", min_group_size=5)
    snapshot = publish_fixture(settings)
    rows = planted_findings()
    with duckdb.connect(str(snapshot)) as con:
        con.register("rows", rows)
        con.execute("CREATE OR REPLACE TABLE mart_fairness_findings AS SELECT * FROM rows")
    add_logins(settings)
    yield settings
    mp.undo()


def test_auditor_sees_flags_first_and_small_groups_suppressed(client_for):
    aud = client_for("aud")
    page = aud.page("/fairness")
    assert "Flagged findings" in page and "Pay equity" in page
    flagged = download_rows(aud.download("fairness-flagged", "/fairness"))
    assert {r["flag"] for r in flagged} >= {"pay_gap_5pct", "reviewer_bias"}
    pay = download_rows(aud.download("fairness-pay_equity", "/fairness"))
    flags = [r["flag"] for r in pay]
    assert flags.index("suppressed") > max(i for i, f in enumerate(flags) if f == "pay_gap_5pct")
    hidden = [r for r in pay if r["group"] == "y"]
    assert hidden and all(r["flag"] == "suppressed" and r["estimate"] == "" for r in hidden)


def test_auditor_never_gets_a_reviewers_pseudonym(client_for):
    aud = client_for("aud")
    assert not PSEUDONYM.search(aud.page("/fairness"))
    rows = download_rows(aud.download("fairness-review_fairness", "/fairness"))
    text = " ".join(f"{r['measure']} {r['reason']}" for r in rows)
    assert not PSEUDONYM.search(text) and "reviewer=reviewer 3" in text
    admin = download_rows(client_for("ada").download("fairness-review_fairness", "/fairness"))
    assert REVIEWERS["r2"] in " ".join(r["measure"] for r in admin)


@pytest.mark.parametrize("name", ["mia", "fred"])
def test_managers_and_freelancers_are_refused(client_for, name):
    client = client_for(name)
    page = client.page("/fairness")
    assert "Not available for your role" in page and "Flagged findings" not in page
    for table in PAGE.tables:
        assert client.download(table, "/fairness").status_code == 403, table


def test_the_page_renders_every_chart_for_an_admin(client_for):
    page = client_for("ada").page("/fairness")
    for audit in ("pay_equity", "review_fairness", "label_bias", "workload"):
        assert f"fairness-{audit}-chart" in page


@pytest.mark.browser
@pytest.mark.parametrize("name", ["aud", "ada"])
def test_the_page_draws_its_charts_in_a_browser(published, tmp_path, name):
    with served(published) as site, chromium(tmp_path) as browser:
        log_in(browser, site, name, PASSWORDS[name])
        console_errors(browser)
        open_page(browser, site + "/fairness", "Fairness")  # waits for every graph drawn
        assert len(browser.find_elements(".dash-graph .main-svg")) >= 4
        text = browser.find_element("#page").text
        assert "Flagged findings" in text and "suppressed" in text
        assert console_errors(browser) == []
