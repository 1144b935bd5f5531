"""Toloka pulls against a local server serving Toloka-shaped pages: paging, the status filter
and the token header; slow answers, 500s and 429s are retried (Retry-After honoured) and end in
a complete load; a cut-off body or an expired token ends in a clear error with nothing loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.pull_settings import TolokaPull
from etl.pulls import http
from etl.pulls.run import run_pull
from etl.reader import SnapshotReader
from etl.settings import Settings
from etl.warehouse import open_warehouse
from tests.etl.fake_api import FakeApi, Request, json_body, serving

POOL = "900"
STATUSES = ["ACCEPTED", "SUBMITTED", "REJECTED"]


def assignment(n: int) -> dict:
    """A Toloka assignment (a page of two tasks) as the API returns it."""
    tasks = [
        {"id": f"t{n}-{k}", "input_values": {"text": f"sentence {n}.{k}"}, "known_solutions": []}
        for k in (1, 2)
    ]
    tasks[0]["known_solutions"] = [{"output_values": {"label": "yes"}}] if n == 1 else []
    return {
        "id": f"a{n:02d}",
        "pool_id": POOL,
        "user_id": f"worker{n % 3}",
        "status": STATUSES[n % 3],
        "reward": 0.04,
        "tasks": tasks,
        "solutions": [{"output_values": {"label": "yes" if n % 2 else "no"}} for _ in tasks],
        "created": "2024-05-01T10:00:00.000",
        "submitted": "2024-05-01T10:01:30.000",
        "accepted": "2024-05-02T08:00:00.000" if n % 3 == 0 else None,
    }


ASSIGNMENTS = [assignment(n) for n in range(1, 8)]


# What Toloka accepts (its API reference, "Accessing the API" and "Generating API keys"): an
# API key as `Authorization: ApiKey <key>`, an older OAuth token as `Authorization: OAuth
# <token>`; anything else is refused with 401.
ACCEPTED = {"ApiKey secret-token", "ApiKey from-a-file", "OAuth old-oauth-token"}


def pool_pages(request: Request) -> tuple[int, bytes]:
    """Toloka's paging: sorted by id, `id_gt` the last id seen, `limit` per page; the header
    checked exactly."""
    if request.headers.get("Authorization") not in ACCEPTED:
        return 401, json_body({"code": "AUTHENTICATION_ERROR"})
    assert request.path == "/assignments" and request.query["pool_id"] == POOL
    wanted = set(request.query["status"].split(","))
    after = request.query.get("id_gt", "")
    rest = [a for a in ASSIGNMENTS if a["id"] > after and a["status"] in wanted]
    limit = int(request.query["limit"])
    return 200, json_body({"items": rest[:limit], "has_more": len(rest) > limit})


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between attempts, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(http, "sleep", recorded.append)
    return recorded


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TEST_TOLOKA_TOKEN", "secret-token")
    return "secret-token"


def toloka(api: FakeApi, **extra) -> TolokaPull:
    options = {"page_size": 3, "backoff_seconds": 0.01, "timeout_seconds": 1.0, **extra}
    return TolokaPull(
        name="pool",
        kind="toloka",
        url=api.url,
        pool=POOL,
        token_env="TEST_TOLOKA_TOKEN",
        every="1h",
        **options,
    )


FIGURES_SQL = (
    "SELECT (SELECT count(*) FROM assignments) AS assignments,"
    " (SELECT count(DISTINCT worker_id) FROM assignments) AS workers,"
    " (SELECT count(*) FROM assignments WHERE is_gold) AS gold,"
    " (SELECT count(*) FROM etl_files) AS files,"
    " (SELECT last_result FROM pull_state) AS result,"
    " (SELECT error FROM pull_state) AS error"
)


def _as_dict(result) -> dict:
    return dict(zip([c[0] for c in result.description], result.fetchone(), strict=True))


def figures(settings: Settings) -> dict:
    """What the published snapshot holds."""
    with SnapshotReader(settings).cursor() as cur:
        return _as_dict(cur.execute(FIGURES_SQL))


def warehouse_figures(settings: Settings) -> dict:
    """What the warehouse holds (a pull that never loaded anything publishes nothing)."""
    with open_warehouse(settings) as con:
        return _as_dict(con.execute(FIGURES_SQL))


def test_a_pool_is_pulled_page_by_page_with_its_token(settings, token, waits):
    with serving(FakeApi(pool_pages)) as api:
        outcome = run_pull(settings, toloka(api))
        assert (outcome.result, outcome.files_loaded, outcome.rows_loaded > 0) == (
            "loaded",
            1,
            True,
        )
        assert len(api.requests) == 3  # 7 assignments, 3 a page
        assert {r.headers["Authorization"] for r in api.requests} == {f"ApiKey {token}"}
        assert [r.query.get("id_gt") for r in api.requests] == [None, "a03", "a06"]
        got = figures(settings)
        assert (got["assignments"], got["workers"], got["gold"]) == (14, 3, 1)

        again = run_pull(settings, toloka(api))
        assert again.result == "nothing new"
        assert figures(settings)["files"] == 1
    assert waits == []
    assert not (settings.pulls_dir / "pool").exists()  # the staging folder is removed


def test_the_status_filter_is_sent(settings, token, waits):
    with serving(FakeApi(pool_pages)) as api:
        run_pull(settings, toloka(api, status=["ACCEPTED"]))
        assert api.requests[0].query["status"] == "ACCEPTED"
        assert figures(settings)["assignments"] == 4  # a03 and a06, two tasks each


def test_500s_429s_and_slow_answers_are_retried_to_a_complete_load(settings, token, waits):
    script = ["500", "429", "slow", "500"]
    with serving(FakeApi(pool_pages, script=list(script))) as api:
        outcome = run_pull(settings, toloka(api))
        assert outcome.result == "loaded"
        assert len(api.requests) == 3 + len(script)
    assert len(waits) == len(script)
    assert waits[1] == 1.0  # the 429's Retry-After
    assert figures(settings)["assignments"] == 14


@pytest.mark.parametrize("trick", ["cut", "500"])
def test_a_page_that_never_arrives_whole_loads_nothing(settings, token, waits, trick):
    first_page_only = [""] + [trick] * 10  # the first page arrives, the second never does
    with serving(FakeApi(pool_pages, script=first_page_only)) as api:
        outcome = run_pull(settings, toloka(api, retries=2))
    assert outcome.result == "failed"
    assert "failed after 3 attempts" in outcome.error
    got = warehouse_figures(settings)
    assert (got["assignments"], got["files"], got["result"]) == (0, 0, "failed")
    assert "failed after 3 attempts" in got["error"]
    assert not (settings.pulls_dir / "pool").exists()


def test_an_expired_token_fails_at_once_with_what_to_do(settings, token, waits):
    with serving(FakeApi(pool_pages, script=["401"])) as api:
        outcome = run_pull(settings, toloka(api))
        assert len(api.requests) == 1
    assert outcome.result == "failed" and "refused the token" in outcome.error
    assert warehouse_figures(settings)["assignments"] == 0


def test_a_missing_token_is_named(settings: Settings, monkeypatch, waits):
    monkeypatch.delenv("TEST_TOLOKA_TOKEN", raising=False)
    with serving(FakeApi(pool_pages)) as api:
        outcome = run_pull(settings, toloka(api))
        assert api.requests == []
    assert "no API token in the environment variable TEST_TOLOKA_TOKEN" in outcome.error


def test_a_token_file_is_read(settings: Settings, tmp_path: Path, waits):
    secret = tmp_path / "toloka_token"
    secret.write_text("from-a-file\n")
    with serving(FakeApi(pool_pages)) as api:
        pull = toloka(api).model_copy(update={"token_env": None, "token_file": secret})
        assert run_pull(settings, pull).result == "loaded"
        assert api.requests[0].headers["Authorization"] == "ApiKey from-a-file"


def test_an_older_oauth_token_is_sent_with_its_own_scheme(settings, monkeypatch, waits):
    monkeypatch.setenv("TEST_TOLOKA_TOKEN", "old-oauth-token")
    with serving(FakeApi(pool_pages)) as api:
        assert run_pull(settings, toloka(api, auth_scheme="OAuth")).result == "loaded"
        assert api.requests[0].headers["Authorization"] == "OAuth old-oauth-token"
        refused = run_pull(settings, toloka(api))  # the default scheme is for API keys
    assert refused.result == "failed" and "refused the token" in refused.error
    assert 'an OAuth token (the older kind) needs auth_scheme = "OAuth"' in refused.error
