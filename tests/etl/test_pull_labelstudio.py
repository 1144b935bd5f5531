"""Label Studio pulls against a local server standing in for its task list and export API:
the first pull exports the project, an unchanged project is not exported again, a changed
task is exported alone; a cut-off export or a refused token loads nothing and keeps the
cursor; a personal access token (a JWT refresh token) is exchanged for access tokens, renewed
when they expire, and never sent or logged where it should not be."""

from __future__ import annotations

import base64
import copy
import json
import logging
import operator
import time
from pathlib import Path

import duckdb
import pytest

from etl import warehouse
from etl.pull_settings import LabelStudioPull
from etl.pulls import http
from etl.pulls.run import run_pull
from etl.reader import SnapshotReader
from etl.settings import Settings
from etl.warehouse import open_warehouse
from tests.etl.fake_api import FakeApi, Request, json_body, serving

EXPORT = json.loads((Path(__file__).parent / "fixtures" / "labelstudio_export.json").read_text())
FILTERS = {"greater": operator.gt, "greater_or_equal": operator.ge}


def jwt(claims: dict) -> str:
    """A JWT-shaped token (the signature is not checked by the pull)."""

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


PAT = jwt({"token_type": "refresh", "user_id": 1, "jti": "personal"})


class Project:
    """Label Studio as far as the pull sees it: tasks with `updated_at`, the task list's
    filter and ordering, the export with `ids[]`, and the refresh of access tokens."""

    def __init__(self, access_lifetime: float = 300.0) -> None:
        self.tasks = copy.deepcopy(EXPORT)
        self.clock = 0
        for task in self.tasks:
            self.touch(task)
        self.exports: list[list[int] | None] = []  # each export's ids (None: the project)
        self.access_lifetime = access_lifetime
        self.issued: list[str] = []  # access tokens handed out, newest last
        self.revoked: set[str] = set()

    def touch(self, task: dict) -> None:
        """What saving an annotation does to its task."""
        self.clock += 1
        task["updated_at"] = f"2024-05-01T10:00:{self.clock:02d}.000000Z"

    def respond(self, request: Request) -> tuple[int, bytes]:
        if request.path == "/api/token/refresh/":
            return self.refresh(request)
        authorization = request.headers.get("Authorization", "")
        bearer = authorization.removeprefix("Bearer ")
        if authorization != "Token ls-token" and (
            bearer not in self.issued or bearer in self.revoked
        ):
            return 401, json_body({"detail": "Invalid token"})
        if request.path == "/api/tasks":
            return self.task_list(request)
        assert request.path == "/api/projects/5/export"
        assert request.query["exportType"] == "JSON"
        ids = request.params.get("ids[]")
        self.exports.append(None if ids is None else [int(i) for i in ids])
        chosen = [t for t in self.tasks if ids is None or str(t["id"]) in ids]
        return 200, json.dumps(chosen).encode()

    def task_list(self, request: Request) -> tuple[int, bytes]:
        assert (request.query["project"], request.query["page"]) == ("5", "1")
        query = json.loads(request.query["query"])
        newest_first = query["ordering"][0].startswith("-")
        rows = sorted(self.tasks, key=lambda t: (t["updated_at"], t["id"]), reverse=newest_first)
        for item in query.get("filters", {}).get("items", []):
            assert (item["filter"], item["type"]) == ("filter:tasks:updated_at", "Datetime")
            rows = [t for t in rows if FILTERS[item["operator"]](t["updated_at"], item["value"])]
        page = rows[: int(request.query["page_size"])]
        listed = [{"id": t["id"], "updated_at": t["updated_at"]} for t in page]
        return 200, json_body({"tasks": listed, "total": len(rows)})

    def refresh(self, request: Request) -> tuple[int, bytes]:
        assert request.method == "POST"
        if json.loads(request.body) != {"refresh": PAT}:
            return 401, json_body({"detail": "Token is invalid or expired"})
        claims = {"token_type": "access", "exp": int(time.time() + self.access_lifetime)}
        access = jwt(claims | {"jti": f"access-{len(self.issued)}"})
        self.issued.append(access)
        return 200, json_body({"access": access})


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "sleep", lambda seconds: None)
    monkeypatch.setenv("TEST_LS_TOKEN", "ls-token")


def labelstudio(api: FakeApi) -> LabelStudioPull:
    return LabelStudioPull(
        name="ls",
        kind="labelstudio",
        url=api.url,
        project="5",
        token_env="TEST_LS_TOKEN",
        every="15m",
        retries=1,
        page_size=2,
        backoff_seconds=0.01,
    )


def annotation_count(settings: Settings) -> int:
    with SnapshotReader(settings).cursor() as cur:
        return cur.execute("SELECT count(*) FROM assignments").fetchone()[0]


def api_requests(api: FakeApi) -> list[Request]:
    return [r for r in api.requests if r.path != "/api/token/refresh/"]


def test_only_what_changed_since_the_last_pull_is_exported(settings: Settings):
    project = Project()
    with serving(FakeApi(project.respond)) as api:
        first = run_pull(settings, labelstudio(api))
        assert first.result == "loaded"
        assert project.exports == [None]  # the first pull exports the project
        assert {r.headers["Authorization"] for r in api.requests} == {"Token ls-token"}
        before = annotation_count(settings)
        assert before > 0

        unchanged = run_pull(settings, labelstudio(api))
        assert (unchanged.result, unchanged.files_loaded) == ("nothing new", 0)
        assert project.exports == [None]  # no export asked for

        added = copy.deepcopy(project.tasks[0]["annotations"][0])
        added |= {"id": 999, "completed_by": {"id": 77}, "ground_truth": False}
        project.tasks[0]["annotations"].append(added)
        project.touch(project.tasks[0])
        third = run_pull(settings, labelstudio(api))
        assert (third.result, third.rows_loaded) == ("loaded", 1)
        assert project.exports == [None, [project.tasks[0]["id"]]]  # the changed task alone
        assert annotation_count(settings) == before + 1
        assert run_pull(settings, labelstudio(api)).result == "nothing new"
        assert len(project.exports) == 2


def test_the_changed_tasks_are_listed_page_by_page(settings: Settings):
    project = Project()
    for n in range(5):  # more tasks, each with one annotation of its own
        task = copy.deepcopy(project.tasks[1]) | {"id": 100 + n}
        task["annotations"] = [dict(task["annotations"][0], id=500 + n)]
        project.tasks.append(task)
        project.touch(task)
    with serving(FakeApi(project.respond)) as api:
        assert run_pull(settings, labelstudio(api)).result == "loaded"
        for task in project.tasks[2:6]:
            task["annotations"][0]["lead_time"] = 99.0
            project.touch(task)
        again = run_pull(settings, labelstudio(api))
    assert (again.result, again.rows_loaded) == ("loaded", 4)
    assert project.exports[1] == [100, 101, 102, 103]  # pages of 2, oldest change first


def test_a_failed_pull_keeps_the_cursor(settings: Settings):
    project = Project()
    with serving(FakeApi(project.respond)) as api:
        assert run_pull(settings, labelstudio(api)).result == "loaded"
        project.tasks[1]["annotations"][0]["lead_time"] = 99.0
        project.touch(project.tasks[1])
        api.script = ["", "", "cut", "cut"]  # the list arrives, the export never does
        assert run_pull(settings, labelstudio(api)).result == "failed"
        retried = run_pull(settings, labelstudio(api))
    assert (retried.result, retried.rows_loaded) == ("loaded", 1)
    assert project.exports[-1] == [project.tasks[1]["id"]]


def test_a_warehouse_at_003_upgrades_in_number_order_and_then_pulls(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A warehouse at 003 takes every later migration in number order (004, 005, 006...) and
    keeps its pull state, with no cursor: the next run exports everything."""
    upto_003 = [p for p in warehouse.migrations() if p.name[:3] <= "003"]
    monkeypatch.setattr(warehouse, "migrations", lambda folder=None: upto_003)
    with open_warehouse(settings) as con:
        con.execute(
            "INSERT INTO pull_state (name, kind, schedule, last_started_at, last_finished_at,"
            " last_result) VALUES ('ls', 'labelstudio', 'every 15m', now(), now(), 'loaded')"
        )
    monkeypatch.undo()
    monkeypatch.setattr(http, "sleep", lambda seconds: None)
    monkeypatch.setenv("TEST_LS_TOKEN", "ls-token")
    with duckdb.connect(str(settings.warehouse_path)) as con:
        applied = warehouse.apply_migrations(con)  # what opening the warehouse does
        assert con.execute("SELECT name, cursor FROM pull_state").fetchall() == [("ls", None)]
    later = [p.name for p in warehouse.migrations() if p.name[:3] > "003"]
    assert applied == sorted(later) and "005_pull_cursor.sql" in applied
    project = Project()
    with serving(FakeApi(project.respond)) as api:
        assert run_pull(settings, labelstudio(api)).result == "loaded"
        assert run_pull(settings, labelstudio(api)).result == "nothing new"
    assert project.exports == [None]  # the cursor, NULL after the upgrade, then kept


ERRORS = {
    "cut": "failed after 2 attempts",
    "eof": "is no complete JSON document",
    "401": "refused the token",
}


@pytest.mark.parametrize("trick", sorted(ERRORS))
def test_a_cut_off_export_or_a_refused_token_loads_nothing(settings: Settings, trick: str):
    first_answer_whole = [""] + [trick] * 5  # the task list answers, then the trick
    with serving(FakeApi(Project().respond, script=first_answer_whole)) as api:
        outcome = run_pull(settings, labelstudio(api))
    assert outcome.result == "failed"
    assert ERRORS[trick] in outcome.error
    with open_warehouse(settings) as con:
        assert con.execute("SELECT count(*) FROM assignments").fetchone() == (0,)
    assert not (settings.pulls_dir / "ls").exists()


def personal(api: FakeApi, monkeypatch: pytest.MonkeyPatch, token: str = PAT) -> LabelStudioPull:
    monkeypatch.setenv("TEST_LS_PAT", token)
    return labelstudio(api).model_copy(update={"token_env": "TEST_LS_PAT"})


def test_a_personal_access_token_is_exchanged_for_access_tokens(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    project = Project()
    with serving(FakeApi(project.respond)) as api:
        assert run_pull(settings, personal(api, monkeypatch)).result == "loaded"
    refreshes = [r for r in api.requests if r.path == "/api/token/refresh/"]
    assert len(refreshes) == 1  # one access token serves the whole run
    assert {r.headers["Authorization"] for r in api_requests(api)} == {
        f"Bearer {project.issued[0]}"
    }
    assert all(PAT not in r.headers.get("Authorization", "") for r in api.requests)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert PAT not in logged and project.issued[0] not in logged


def test_an_access_token_is_renewed_when_it_expires(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    project = Project(access_lifetime=-1.0)  # each access token is handed out expired
    with serving(FakeApi(project.respond)) as api:
        assert run_pull(settings, personal(api, monkeypatch)).result == "loaded"
    # renewed before each request, by its `exp`, without a 401 first
    assert len(project.issued) == len(api_requests(api)) == 2  # the list, the export
    assert [r.headers["Authorization"] for r in api_requests(api)] == [
        f"Bearer {access}" for access in project.issued
    ]


def test_an_access_token_refused_early_is_renewed_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    project = Project()
    with serving(FakeApi(project.respond)) as api:
        pull = personal(api, monkeypatch)
        assert run_pull(settings, pull).result == "loaded"
        project.revoked.update(project.issued)  # the server forgets them before their exp
        project.touch(project.tasks[0])
        assert run_pull(settings, pull).result == "loaded"
    assert len(project.issued) == 2


def test_a_refused_personal_access_token_fails_with_what_to_do(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    revoked = jwt({"token_type": "refresh", "jti": "revoked"})
    with serving(FakeApi(Project().respond)) as api:
        outcome = run_pull(settings, personal(api, monkeypatch, revoked))
        assert api_requests(api) == []
    assert outcome.result == "failed"
    assert "refused the personal access token" in outcome.error
    assert revoked not in outcome.error
