"""The Quality page's "Download consensus labels (CSV)": for admins and managers (their projects
only), refused to auditors and freelancers whatever the request says, formulas neutralised, and
the same rows as `crowdmeter consensus --project P --field F` for the same snapshot."""

from __future__ import annotations

import json

import duckdb
import pytest

from cli.main import main
from dashboard.app import create_app
from etl.settings import Settings
from tests.dashboard.conftest import DashClient, add_logins
from tests.dashboard.test_authorization import download_rows
from tests.dashboard.warehouse_fixture import publish_fixture

TABLE = "quality-consensus"
P1 = "?focus=mturk%1FP1%1Flabel"
BUTTON = "Download consensus labels (CSV)"


def cli_rows(settings: Settings, capsys, project: str, field: str) -> list[dict]:
    argv = ["--data-dir", str(settings.data_dir), "consensus", "--project", project]
    assert main([*argv, "--field", field, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["rows"]


def as_text(rows: list[dict]) -> list[dict]:
    """CLI rows as the CSV download spells them (an empty label is an empty cell)."""
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def test_admin_download_is_the_commands_rows(client_for, published, capsys):
    for project, focus in [("mturk:P1", P1), ("toloka:T1", "?focus=toloka%1FT1%1Flabel")]:
        page_rows = download_rows(client_for("ada").download(TABLE, "/quality", focus))
        expected = as_text(cli_rows(published, capsys, project, "label"))
        assert len(page_rows) == 4 and page_rows == expected, project


def test_managers_get_their_projects_only(client_for, published, capsys):
    mia = client_for("mia")
    assert download_rows(mia.download(TABLE, "/quality", P1)) == as_text(
        cli_rows(published, capsys, "mturk:P1", "label")
    )
    # a focus on another project's field, forged in the URL, yields none of its rows
    assert download_rows(mia.download(TABLE, "/quality", "?focus=toloka%1FT1%1Flabel")) == []


def test_auditors_and_freelancers_are_refused_whatever_the_request(client_for):
    for name in ("aud", "fred"):
        assert client_for(name).download(TABLE, "/quality", P1).status_code == 403, name
    # the button is not offered where the download would be refused
    assert BUTTON in client_for("ada").page("/quality", P1)
    assert BUTTON in client_for("mia").page("/quality", P1)
    assert BUTTON not in client_for("aud").page("/quality", P1)


def test_the_download_only_comes_from_the_quality_page(client_for):
    assert client_for("ada").download(TABLE, "/", P1).status_code == 404


@pytest.fixture(scope="module")
def formula_labels(tmp_path_factory: pytest.TempPathFactory):
    """The fixture with every answer to item 0 of P1 a spreadsheet formula."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    settings = Settings(data_dir=tmp_path_factory.mktemp("formula") / "data", min_group_size=5)
    con = duckdb.connect(str(publish_fixture(settings)))
    try:
        con.execute(
            "UPDATE annotations SET value = '=HYPERLINK(\"https://evil.example\")' "
            "WHERE assignment_uid LIKE 'mturk:P1:%:0'"
        )
    finally:
        con.close()
    add_logins(settings)
    app = create_app(settings)
    yield DashClient(app.server.test_client(), app.callback_map).login("ada")
    mp.undo()


def test_formula_labels_are_neutralised(formula_labels):
    rows = download_rows(formula_labels.download(TABLE, "/quality", P1))
    labels = {r["unit"]: r["label"] for r in rows}
    assert labels["item0"] == '\'=HYPERLINK("https://evil.example")'
    assert labels["item3"] == "pos"
