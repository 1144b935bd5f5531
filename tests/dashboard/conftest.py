"""Dashboard fixtures: a published fixture snapshot, one login per role, and a callback client."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from dashboard.app import create_app
from dashboard.users import UserStore
from etl.settings import Settings
from tests.dashboard.warehouse_fixture import publish_fixture

PASSWORDS = {
    "ada": "admin-password",
    "mia": "manager-password",
    "fred": "freelancer-password",
    "aud": "auditor-password",
}


def add_logins(settings: Settings) -> None:
    """One login per role over the fixture: the manager has mturk:P1, the freelancer two ids."""
    store = UserStore(settings)
    store.add("ada", "admin", PASSWORDS["ada"])
    store.add("mia", "manager", PASSWORDS["mia"], projects=[("mturk", "P1")])
    store.add(
        "fred", "freelancer", PASSWORDS["fred"], workers=[("mturk", "A_RAW_5"), ("toloka", "t1")]
    )
    store.add("aud", "auditor", PASSWORDS["aud"])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a data dir holding the fixture snapshot and the four logins."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    settings = Settings(data_dir=tmp_path_factory.mktemp("dash") / "data", min_group_size=5)
    publish_fixture(settings)
    add_logins(settings)
    yield settings
    mp.undo()


DOWNLOAD = "..csv-download.data...download-notice.children.."
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the login (or logout) form `client` is shown."""
    return _TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def login_form(client: FlaskClient, **fields: str) -> dict[str, str]:
    """The login form's fields as a browser posts them: `fields` plus the form's token."""
    return {"csrf_token": form_token(client), **fields}


class DashClient:
    """A Flask test client that logs in and calls Dash callbacks the way the browser does."""

    def __init__(self, client: FlaskClient, callback_map: dict) -> None:
        self.client = client
        self.callback_map = callback_map

    def login(self, name: str, password: str | None = None) -> DashClient:
        form = login_form(self.client, username=name, password=password or PASSWORDS[name])
        reply = self.client.post("/login", data=form)
        assert reply.status_code == 302, reply.get_data(as_text=True)
        return self

    def logout(self):
        """Log out as the shell's button does: a POST with the session's token."""
        token = form_token(self.client, "/logout")
        return self.client.post("/logout", data={"csrf_token": token})

    def call(self, output: str, inputs: list[Any], state: list[Any] = (), changed: int = 0):
        """POST one callback with `inputs` (and `state`) values in the callback's order."""
        spec = self.callback_map[output]
        payload = {
            "output": output,
            "outputs": _outputs(output),
            "inputs": [_bind(d, v) for d, v in zip(spec["inputs"], inputs, strict=True)],
            "state": [_bind(d, v) for d, v in zip(spec["state"], state, strict=True)],
            "changedPropIds": [_prop_id(spec["inputs"][changed], inputs[changed])],
        }
        return self.client.post("/_dash-update-component", json=payload)

    def page(self, pathname: str, search: str = "") -> str:
        """The rendered page area as JSON text."""
        reply = self.call("page.children", [pathname, search])
        assert reply.status_code == 200, reply.status_code
        return reply.get_data(as_text=True)

    def download(self, table: str, pathname: str, search: str = ""):
        button = [
            {"id": {"table": table, "type": "csv-button"}, "property": "n_clicks", "value": 1}
        ]
        return self.call(DOWNLOAD, [button], [pathname, search])


def _outputs(output: str) -> Any:
    if not output.startswith(".."):
        component, prop = output.rsplit(".", 1)
        return {"id": component, "property": prop}
    parts = [p for p in output.strip(".").split("...")]
    return [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]


def _bind(dependency: dict, value: Any) -> Any:
    if isinstance(value, list) and value and isinstance(value[0], dict) and "id" in value[0]:
        return value  # a pattern-matching input, already in wire form
    return {"id": dependency["id"], "property": dependency["property"], "value": value}


def _prop_id(dependency: dict, value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict) and "id" in value[0]:
        return json.dumps(value[0]["id"], separators=(",", ":"), sort_keys=True) + ".n_clicks"
    return f"{dependency['id']}.{dependency['property']}"


@pytest.fixture(scope="module")
def dash_app(published: Settings):
    return create_app(published)


@pytest.fixture
def client_for(dash_app) -> Callable[[str | None], DashClient]:
    """`client_for("fred")`: a client logged in as fred; `client_for(None)`: anonymous."""

    def make(name: str | None) -> DashClient:
        client = DashClient(dash_app.server.test_client(), dash_app.callback_map)
        return client.login(name) if name else client

    return make
