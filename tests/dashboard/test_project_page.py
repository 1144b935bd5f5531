"""The Project page on the demo-like warehouse through forged callbacks: a manager sees their
planned projects only (a URL naming another project shows none of it, its downloads refuse), a
freelancer is refused, and the page shows the very numbers `crowdmeter forecast` prints."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from cli.main import main
from dashboard.app import create_app
from dashboard.users import UserStore
from etl.settings import Settings, load_settings
from tests.dashboard.conftest import DashClient
from tests.dashboard.test_authorization import download_rows
from tests.etl.demo_warehouse import build_demo_warehouse

MANAGED = ["appen:1866420", "labelstudio:58506"]  # truth.json: demo_manager_projects
OTHER = "mturk:4930000"
LOGINS = {"ada": "admin-password", "mia": "manager-password", "fred": "freelancer-password"}


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("project-page")
    build_demo_warehouse(folder)
    settings = load_settings(folder / "exports" / "config.toml", data_dir=folder / "data")
    store = UserStore(settings)
    store.add("ada", "admin", LOGINS["ada"])
    store.add("mia", "manager", LOGINS["mia"],
              projects=[tuple(key.split(":")) for key in MANAGED])  # fmt: skip
    store.add("fred", "freelancer", LOGINS["fred"], workers=[("mturk", "A1")])
    return settings


@pytest.fixture(scope="module")
def app(demo_settings: Settings):
    return create_app(demo_settings)


def client(app, name: str) -> DashClient:
    return DashClient(app.server.test_client(), app.callback_map).login(name, LOGINS[name])


def test_a_manager_sees_only_their_projects(app) -> None:
    page = client(app, "mia").page("/project")
    for key in MANAGED:
        assert key in page
    assert OTHER not in page and "mturk:" not in page
    # the first project is the default; the focus in the URL picks another of theirs
    assert "Burn-up and forecast" in page and "project-burnup" in page
    assert "labelstudio:58506" in client(app, "mia").page("/project", "?focus=labelstudio%3A58506")


def test_a_forged_focus_on_another_project_shows_none_of_it(app) -> None:
    mia = client(app, "mia")
    page = mia.page("/project", f"?focus={OTHER}")
    assert OTHER not in page  # the focus falls back to the manager's first project
    assert "appen:1866420" in page
    forged = mia.page("/project", f"?project={OTHER}")  # a filter on a project not theirs
    assert "No planned project here" in forged and OTHER not in forged

    # downloads of a forged focus: the manager's own first project, never the forged one
    def targets(who: str, focus: str) -> list[str]:
        reply = client(app, who).download("project-milestones", "/project", f"?focus={focus}")
        return [r["target"] for r in download_rows(reply)]

    assert targets("mia", OTHER) == targets("mia", MANAGED[0]) != targets("ada", OTHER)
    annotators = download_rows(mia.download("project-annotators", "/project", f"?focus={OTHER}"))
    mine = download_rows(mia.download("project-annotators", "/project", ""))
    assert annotators == mine


def test_a_freelancer_is_refused(app) -> None:
    fred = client(app, "fred")
    assert "Not available for your role" in fred.page("/project")
    assert fred.download("project-milestones", "/project").status_code == 403


def forecast_row(settings: Settings, project: str, capsys, *extra: str, alone: bool = True) -> dict:
    """`crowdmeter forecast PROJECT --json` on the demo-like warehouse: the project's row
    (`alone=False`: of `crowdmeter forecast --json`, every project forecast together)."""
    config = settings.data_dir.parent / "exports" / "config.toml"
    chosen = [project] if alone else []
    code = main(["--config", str(config), "--data-dir", str(settings.data_dir),
                 "forecast", *chosen, "--json", *extra])  # fmt: skip
    assert code == 0
    (row,) = [r for r in json.loads(capsys.readouterr().out) if r["project"] == project]
    return row


def test_the_page_shows_the_numbers_the_forecast_command_prints(app, demo_settings, capsys):
    # every project forecast together on the command line, this one alone on the page
    row = forecast_row(demo_settings, OTHER, capsys, "--as-of", "2025-06-01", alone=False)
    page = client(app, "ada").page("/project", f"?to=2025-05-31&focus={OTHER}")
    for day in (row["p50"], row["p85"], row["p95"]):
        assert day in page
    assert f"{row['done']:,} of {row['scope']:,}" in page
    rows = download_rows(client(app, "ada").download(
        "project-milestones", "/project", f"?to=2025-05-31&focus={OTHER}"))  # fmt: skip
    assert [float(r["probability"]) for r in rows] == [m["probability"] for m in row["milestones"]]
    assert [r["due"] for r in rows] == [m["due"] for m in row["milestones"]]


def test_the_planted_scope_change_steps_the_burn_up_and_sets_the_forecast_scope(
    app, demo_settings, capsys
):
    exports = demo_settings.data_dir.parent / "exports"
    change = json.loads((exports / "truth.json").read_text())["planted"]["scope_change"]
    key = f"{change['platform']}:{change['project_id']}"
    mia = client(app, "mia")  # the demo manager: the project is theirs
    assert key in MANAGED
    changed_on = date.fromisoformat(change["changed_on"])
    # forecasts made the day before the change, on its day (in force from its start), after it
    for shift, scope in ((-1, change["from_items"]), (0, change["to_items"]),
                         (30, change["to_items"])):  # fmt: skip
        as_of = changed_on + timedelta(days=shift)
        assert main(["--config", str(exports / "config.toml"), "--data-dir",
                     str(demo_settings.data_dir), "forecast", key, "--json",
                     "--as-of", as_of.isoformat()]) == 0  # fmt: skip
        (row,) = json.loads(capsys.readouterr().out)
        assert row["scope"] == scope
        assert [c["scope"] for c in row["scope_changes"]] == (
            [] if shift < 0 else [change["to_items"]]
        )
        # the page's forecast is made the day after the date range's end
        page = mia.page("/project", f"?to={as_of - timedelta(days=1)}&focus={key}")
        assert f"{row['done']:,} of {scope:,}" in page
        assert (change["reason"] in page) == (shift >= 0)
