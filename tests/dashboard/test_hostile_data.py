"""Data text that a spreadsheet or a chart would run: CSV downloads neutralise formulas
(issue 16, item 12) and charts and reports show markup as text (item 13). The fixture snapshot
is published, then given a hostile platform name, reject reasons and raw records."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from dashboard.app import create_app
from dashboard.reports import earnings_report_html
from etl.settings import Settings
from tests.dashboard.conftest import DashClient, add_logins
from tests.dashboard.test_authorization import download_rows
from tests.dashboard.warehouse_fixture import publish_fixture

LINK = '<a href="https://evil.example/">toloka</a>'
FORMULAS = ['=HYPERLINK("https://evil.example")', "+1+1", "-2+3"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    settings = Settings(data_dir=tmp_path_factory.mktemp("hostile") / "data", min_group_size=1)
    snapshot = publish_fixture(settings)
    con = duckdb.connect(str(snapshot))
    try:
        tables = con.execute(
            "SELECT table_name FROM duckdb_columns() WHERE column_name = 'platform' "
            "AND NOT internal GROUP BY 1"
        ).fetchall()
        for (table,) in tables:
            con.execute(f"UPDATE {table} SET platform = $1 WHERE platform = 'toloka'", [LINK])
        con.execute("UPDATE etl_rejects SET reason = $1 WHERE record_no = 7", [LINK])
        for formula, record in zip(FORMULAS, (7, 9, 12), strict=True):
            con.execute("UPDATE etl_rejects SET raw = $1 WHERE record_no = $2", [formula, record])
    finally:
        con.close()
    add_logins(settings)
    app = create_app(settings)
    yield lambda name: DashClient(app.server.test_client(), app.callback_map).login(name)
    mp.undo()


def test_csv_downloads_neutralise_formulas(hostile):
    reply = hostile("ada").download("pipeline-rejects", "/pipeline")
    rows = download_rows(reply)
    raws = {r["record_no"]: r["raw"] for r in rows}
    assert raws == {"7": "'" + FORMULAS[0], "9": "'" + FORMULAS[1], "12": "'" + FORMULAS[2]}
    content = reply.get_json()["response"]["csv-download"]["data"]["content"]
    # no cell a spreadsheet would take for a formula, quoted or not
    cells = [c for row in csv.reader(io.StringIO(content)) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def _figures(page: str) -> list[dict]:
    """Every Plotly figure in a rendered page area."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("figure"), dict) and "data" in node["figure"]:
                found.append(node["figure"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(page))
    return found


@pytest.mark.parametrize("path", ["/", "/earnings", "/pipeline"])
def test_chart_text_from_data_is_not_markup(hostile, path):
    figures = _figures(hostile("ada").page(path))
    text = json.dumps([trace for fig in figures for trace in fig["data"]])
    assert figures and "<a href" not in text
    assert '&lt;a href=\\"https://evil.example/\\"&gt;toloka&lt;/a&gt;' in text


def test_the_earnings_report_shows_markup_as_text():
    payload = {
        "currency": "USD",
        "session_gap_minutes": 10.0,
        "workers": [{"worker": LINK}],
        "snapshot": LINK,
        "total": None,
        "rows": [
            {
                "platform": LINK,
                "paid_time_wage": 10.0,
                "effective_wage": 8.0,
                "hours": dict.fromkeys(
                    ("worked", "approved", "rejected", "returned", "gap",
                     "tracking_adjustment", "unpaid_logged"), 1.0,
                ),
                "tasks": dict.fromkeys(("approved", "rejected", "returned", "pending"), 1),
                "delays": dict.fromkeys(
                    ("paid", "median_delay_days", "p90_delay_days", "unpaid_earned",
                     "oldest_unpaid_days"), 1,
                ),
                "money": {"pending_payout": 1.0, "pending_review": 0.0},
            }
        ],
        "views": {"task types": [], "weeks": []},
        "notes": [LINK],
        "unattributed_total": {"entries": 0, "hours": 0.0},
    }  # fmt: skip
    html = earnings_report_html(payload)
    assert "Plotly.newPlot" in html and LINK not in html
    assert "&lt;a href" in html
