"""The Label Studio pull against a real Label Studio server (from PyPI, in its own virtual
environment: `make labelstudio`, or CROWDMETER_LABEL_STUDIO naming its `label-studio`), started
on 127.0.0.1 with a SQLite database in a temp folder. A project with tasks annotated by two
users is created through its API and pulled with a legacy token; the figures match what was
created; after more annotations a second pull exports only the changed task and lands only the
new annotation, and a third exports nothing. Another project is pulled with a personal access
token (a JWT refresh token, exchanged for access tokens). Skipped when Label Studio is not
installed."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from etl.pull_settings import LabelStudioPull
from etl.pulls.http import ApiClient
from etl.pulls.run import run_pull
from etl.reader import SnapshotReader
from etl.settings import Settings

REPO = Path(__file__).resolve().parents[2]
LABEL_STUDIO = Path(
    os.environ.get("CROWDMETER_LABEL_STUDIO", REPO / ".venv-labelstudio" / "bin" / "label-studio")
)
TOKEN = "crowdmeter-test-token-0123456789"
STARTING = 600  # seconds: a bound for a stuck server (migrations take a minute), not a speed
LABELS = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
    '<Choice value="pos"/><Choice value="neg"/></Choices></View>'
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not LABEL_STUDIO.is_file(), reason=f"no Label Studio at {LABEL_STUDIO}"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A running Label Studio with one admin (whose token is TOKEN), as an API client."""
    data = tmp_path_factory.mktemp("label-studio")
    port = _free_port()
    env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "DJANGO_DB": "sqlite",
    }
    command = [str(LABEL_STUDIO), "start", "--no-browser", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--data-dir", str(data), "--enable-legacy-api-token"]
    command += ["--username", "alice@example.org", "--password", "alice-password-1"]
    command += ["--user-token", TOKEN]
    with (data / "server.log").open("w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Token {TOKEN}"}
    )
    try:
        deadline = time.monotonic() + STARTING
        while True:
            assert server.poll() is None, (data / "server.log").read_text()[-3000:]
            try:
                if client.get("/api/projects").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "Label Studio did not start"
            time.sleep(1)
        yield client
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=60)


def _ok(response: httpx.Response) -> dict | list:
    assert response.is_success, response.text
    return response.json()


def _annotate(client: httpx.Client, task: int, user: int, choice: str) -> None:
    result = [
        {"from_name": "sentiment", "to_name": "text", "type": "choices",
         "value": {"choices": [choice]}}
    ]  # fmt: skip
    body = {"result": result, "completed_by": user, "lead_time": 4.5}
    _ok(client.post(f"/api/tasks/{task}/annotations", json=body))


def _figures(settings: Settings) -> dict:
    with SnapshotReader(settings).cursor() as cur:
        found = cur.execute(
            "SELECT count(*) AS assignments, count(DISTINCT worker_id) AS workers,"
            " count(DISTINCT item_id) AS items, count(DISTINCT file_id) AS files"
            " FROM assignments"
        )
        return dict(zip([c[0] for c in found.description], found.fetchone(), strict=True))


def _project(client: httpx.Client, title: str, texts: list[str]) -> tuple[int, list[int]]:
    """A new project with a task per text: its id and the tasks' ids."""
    project = _ok(client.post("/api/projects", json={"title": title, "label_config": LABELS}))
    _ok(client.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t in texts]))
    tasks = _ok(client.get("/api/tasks", params={"project": project["id"]}))["tasks"]
    return project["id"], sorted(t["id"] for t in tasks)


@dataclass
class Pulls:
    """Sources on the test's Label Studio, and the tasks each export asked it for (None: the
    whole project)."""

    client: httpx.Client
    monkeypatch: pytest.MonkeyPatch
    exports: list[list[int] | None] = field(default_factory=list)

    def source(self, name: str, project: int, token: str) -> LabelStudioPull:
        env = f"TEST_LS_TOKEN_{name.upper()}"
        self.monkeypatch.setenv(env, token)
        url = str(self.client.base_url).rstrip("/")
        return LabelStudioPull(
            name=name, kind="labelstudio", url=url, project=str(project), token_env=env, every="15m"
        )


@pytest.fixture
def pulls(label_studio: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> Pulls:
    found = Pulls(label_studio, monkeypatch)
    real = ApiClient.download

    def recorded(self: ApiClient, path: str, params: dict, target: Path) -> Path:
        found.exports.append(params.get("ids[]"))
        return real(self, path, params, target)

    monkeypatch.setattr(ApiClient, "download", recorded)
    return found


def test_a_real_label_studio_project_is_pulled_and_only_changed_tasks_are_exported(
    pulls: Pulls, settings: Settings
):
    client, exports = pulls.client, pulls.exports
    bob = _ok(client.post("/api/users/", json={"email": "bob@example.org", "username": "bob"}))
    alice = _ok(client.get("/api/current-user/whoami"))
    project, task_ids = _project(client, "Reviews", ["good film", "bad film", "fine", "dull"])
    for task in task_ids:
        _annotate(client, task, alice["id"], "pos")
    for task in task_ids[:3]:
        _annotate(client, task, bob["id"], "neg")

    pull = pulls.source("reviews", project, TOKEN)
    first = run_pull(settings, pull)
    assert first.result == "loaded", first.error
    assert _figures(settings) == {"assignments": 7, "workers": 2, "items": 4, "files": 1}
    assert exports == [None]  # the first pull exports the project

    _annotate(client, task_ids[3], bob["id"], "neg")
    second = run_pull(settings, pull)
    assert second.result == "loaded", second.error
    assert exports == [None, [task_ids[3]]]  # the changed task alone
    with SnapshotReader(settings).cursor() as cur:
        by_file = cur.execute(
            "SELECT count(*) FROM assignments GROUP BY file_id ORDER BY file_id"
        ).fetchall()
    assert by_file == [(7,), (1,)]  # the seven unchanged rows keep the first file
    assert _figures(settings) == {"assignments": 8, "workers": 2, "items": 4, "files": 2}
    assert run_pull(settings, pull).result == "nothing new"
    assert len(exports) == 2  # an unchanged project is not exported


def test_a_personal_access_token_pulls_a_real_project(pulls: Pulls, settings: Settings):
    client = pulls.client
    personal = _ok(client.post("/api/token/"))["token"]  # a JWT refresh token
    assert personal.count(".") == 2
    # sent as it is, Label Studio refuses it: it must be exchanged for an access token
    refused = client.get("/api/projects", headers={"Authorization": f"Bearer {personal}"})
    assert refused.status_code == 401
    alice = _ok(client.get("/api/current-user/whoami"))
    project, task_ids = _project(client, "Pairs", ["a cat", "a dog", "a cow"])
    for task in task_ids:
        _annotate(client, task, alice["id"], "pos")

    pull = pulls.source("pairs", project, personal)
    first = run_pull(settings, pull)
    assert first.result == "loaded", first.error
    assert _figures(settings) == {"assignments": 3, "workers": 1, "items": 3, "files": 1}
    _annotate(client, task_ids[0], alice["id"], "neg")
    second = run_pull(settings, pull)
    assert (second.result, second.rows_loaded) == ("loaded", 1), second.error
    assert pulls.exports == [None, [task_ids[0]]]
