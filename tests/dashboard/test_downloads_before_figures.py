"""CSV downloads before the first snapshot, and before the first figures, answer with a notice
that says why, not HTTP 500 (issue 16, item 14)."""

from __future__ import annotations

import duckdb
import pytest

from dashboard.app import create_app
from etl.publish import write_current
from etl.settings import Settings
from etl.warehouse import apply_migrations
from tests.dashboard.conftest import DashClient, add_logins


def _client(settings: Settings) -> DashClient:
    add_logins(settings)
    app = create_app(settings)
    return DashClient(app.server.test_client(), app.callback_map).login("ada")


def _notice(reply) -> str:
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    response = reply.get_json()["response"]
    assert "csv-download" not in response  # no file, and no traceback
    return str(response["download-notice"]["children"])


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    return settings


def test_a_download_before_the_first_snapshot_says_there_is_no_data(settings):
    ada = _client(settings)
    for table, path in [("overview-projects", "/"), ("pipeline-rejects", "/pipeline")]:
        assert "No data yet" in _notice(ada.download(table, path))


def test_a_download_before_the_first_figures_says_they_are_not_built(settings):
    # a snapshot of a first run whose rows are published and whose marts are not built yet
    settings.snapshots_dir.mkdir(parents=True)
    name = "00000001-rows.duckdb"
    con = duckdb.connect(str(settings.snapshots_dir / name))
    try:
        apply_migrations(con)
    finally:
        con.close()
    write_current(settings.snapshots_dir, name)
    ada = _client(settings)
    assert "cannot be downloaded yet" in _notice(ada.download("overview-projects", "/"))
    assert "cannot be downloaded yet" in _notice(ada.download("earnings-workers", "/earnings"))
