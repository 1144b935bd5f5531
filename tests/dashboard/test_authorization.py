"""Authorization on the server via Flask's test client: login, guard, row scope, hostile input."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from dashboard.login_throttle import FILE_NAME, SQLiteStorage, storage_uri
from dashboard.users import UserStore
from tests.dashboard.conftest import PASSWORDS, login_form
from tests.dashboard.warehouse_fixture import worker

FRED = {worker("mturk", "A_RAW_5"), worker("toloka", "t1")}
SHELL = (
    "..nav.children...viewer-name.children...viewer-role.children"
    "...filter-platforms.data...filter-projects.data...filter-dates.value"
    "...filter-platforms.value...filter-projects.value...filter-dates.minDate"
    "...filter-dates.maxDate...filter-dates.defaultDate...logout-csrf.value.."
)


def download_rows(reply) -> list[dict]:
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    content = reply.get_json()["response"]["csv-download"]["data"]["content"]
    return list(csv.DictReader(io.StringIO(content)))


def test_anonymous_callbacks_get_401(client_for):
    anonymous = client_for(None)
    assert anonymous.call("page.children", ["/", ""]).status_code == 401
    assert anonymous.download("overview-projects", "/").status_code == 401
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert anonymous.client.get(path).status_code == 401


def test_anonymous_pages_redirect_to_login_keeping_the_target(client_for):
    reply = client_for(None).client.get("/pipeline?platform=mturk")
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/login?next=/pipeline%3Fplatform%3Dmturk"
    assert client_for(None).client.get("/login").status_code == 200


def test_wrong_password_is_refused_and_logout_ends_the_session(client_for):
    client = client_for(None)
    form = login_form(client.client, username="ada", password="nope-nope")
    reply = client.client.post("/login", data=form)
    assert reply.status_code == 401
    assert "Wrong name or password" in reply.get_data(as_text=True)
    assert client.call("page.children", ["/", ""]).status_code == 401
    client.login("ada")
    assert client.call("page.children", ["/", ""]).status_code == 200
    assert client.logout().status_code == 302
    assert client.call("page.children", ["/", ""]).status_code == 401


def test_login_never_redirects_off_site(client_for):
    client = client_for(None).client
    targets = ["//evil.example/x", "https://evil.example", "/\\evil.example"]
    # browsers drop tabs and line breaks: "/\t/evil.example" is "//evil.example" to them
    targets += ["/\t/evil.example", "/\n/evil.example", "/\r\nSet-Cookie: a=b", "/\x00x"]
    for target in targets:
        form = login_form(client, username="ada", password="admin-password", next=target)
        reply = client.post("/login", data=form)
        assert reply.status_code == 302 and reply.headers["Location"] == "/", repr(target)
    # the same, as the query string a forged link carries
    for query in ("next=/%09/evil.example", "next=/%0d%0aSet-Cookie:%20a=b", "next=/%0a"):
        form = login_form(client, username="ada", password="admin-password")
        reply = client.post("/login?" + query, data=form)
        assert reply.status_code == 302 and reply.headers["Location"] == "/", query
        assert client.get("/login?" + query).status_code == 200
    reply = client.post(
        "/login?next=/pipeline%3Fplatform%3Dmturk",
        data=login_form(client, username="ada", password="admin-password"),
    )
    assert reply.headers["Location"] == "/pipeline?platform=mturk"  # a path of the site stays


def test_a_forged_session_cookie_is_refused(client_for):
    client = client_for(None).client
    client.set_cookie("crowdmeter_session", "eyJ1c2VyIjoiYWRhIn0.forged.signature")
    assert client.get("/_dash-layout").status_code == 401


def test_navigation_follows_the_role(client_for):
    for name, expected in [("ada", ["Overview", "Pipeline"]), ("fred", ["Overview"])]:
        reply = client_for(name).call(SHELL, ["/", ""])
        nav = reply.get_json()["response"]["nav"]["children"]
        titles = [link["props"]["label"] for link in nav]
        assert [t for t in titles if t in ("Overview", "Pipeline")] == expected


def test_manager_sees_only_their_projects(client_for):
    mia = client_for("mia")
    choices = mia.call(SHELL, ["/", ""]).get_json()["response"]["filter-projects"]["data"]
    assert [c["value"] for c in choices] == ["mturk:P1"]
    rows = download_rows(mia.download("overview-projects", "/"))
    assert [(r["platform"], r["project_id"]) for r in rows] == [("mturk", "P1")]
    # asking for another project through the URL yields nothing of it
    rows = download_rows(mia.download("overview-projects", "/", "?project=toloka:T1"))
    assert rows == []
    files = download_rows(mia.download("pipeline-files", "/pipeline"))
    assert {r["path"] for r in files} == {"/exports/mturk_p1.csv"}


def test_freelancer_gets_only_their_own_rows_whatever_the_payload_says(client_for):
    fred = client_for("fred")
    rows = download_rows(fred.download("overview-projects", "/"))
    # fred (A_RAW_5 on mturk, t1 on toloka) worked 12 assignments on each of P1, P2 and T1
    assert {(r["project_id"], r["assignments"], r["workers"]) for r in rows} == {
        ("P1", "12", "1"),
        ("P2", "12", "1"),
        ("T1", "12", "1"),
    }
    page = fred.page("/")
    assert "36" in page and "132" not in page  # his total, never the warehouse's
    # a forged extra input naming another viewer changes nothing: the viewer is the session's
    forged = fred.call("page.children", ["/", "?worker=" + worker("mturk", "A_RAW_0")])
    assert forged.get_data(as_text=True) == page
    assert worker("mturk", "A_RAW_0") not in page


def test_freelancer_cannot_open_or_download_the_pipeline(client_for):
    fred = client_for("fred")
    assert "Not available for your role" in fred.page("/pipeline")
    assert fred.download("pipeline-rejects", "/pipeline").status_code == 403


def test_auditor_sees_no_group_smaller_than_min_group_size(client_for):
    rows = download_rows(client_for("aud").download("overview-projects", "/"))
    # P1 has 6 workers; P2 (2) and T1 (3) fall under min_group_size = 5
    assert [r["project_id"] for r in rows] == ["P1"]
    admin_rows = download_rows(client_for("ada").download("overview-projects", "/"))
    assert sorted(r["project_id"] for r in admin_rows) == ["P1", "P2", "T1"]


def test_download_of_an_unknown_table_is_refused(client_for):
    ada = client_for("ada")
    assert ada.download("'; DROP TABLE assignments; --", "/").status_code == 404
    assert ada.download("pipeline-rejects", "/").status_code == 404  # not on this page


HOSTILE = [
    "?project=mturk:P1'%20OR%201=1--",
    "?platform=%27%3B%20DROP%20TABLE%20assignments%3B--&from=2024-13-45&to=x",
    "?from=" + "9" * 5000 + "&project=" + "A" * 100_000,
    "?" + "&".join(f"platform=p{i}" for i in range(5000)),
    "?project=%00%ff%fe&from=2024-03-01'--",
]


@pytest.mark.parametrize("search", HOSTILE)
def test_hostile_filters_are_harmless(client_for, search):
    ada = client_for("ada")
    for path in ("/", "/pipeline"):
        assert ada.call("page.children", [path, search]).status_code == 200
    shell = ada.call(SHELL, ["/", search])
    assert shell.status_code == 200
    rows = download_rows(ada.download("overview-projects", "/"))
    assert sum(int(r["assignments"]) for r in rows) == 132  # the warehouse is intact


@pytest.mark.parametrize(
    "pathname", ["/../../etc/passwd", "/" + "x" * 50_000, "/pipeline'--", None, "/%00"]
)
def test_hostile_paths_render_a_notice(client_for, pathname):
    reply = client_for("ada").call("page.children", [pathname, ""])
    assert reply.status_code == 200


def test_hostile_filter_controls_are_harmless(client_for):
    ada = client_for("ada")
    values = ["x" * 100_000, "'; DROP TABLE users; --", "mturk:P1' OR '1'='1"]
    reply = ada.call("url.search", [["2024-03-01", "2024-03-31"], values, values], [""], changed=1)
    assert reply.status_code == 200
    search = reply.get_json()["response"]["url"]["search"]
    assert len(search) < 2000
    assert ada.call("page.children", ["/", search]).status_code == 200


def test_oversized_login_fields_are_refused_cleanly(client_for):
    client = client_for(None).client
    form = login_form(client, username="a" * 1_000_000, password="b" * 100_000)
    reply = client.post("/login", data=form)
    assert reply.status_code == 401


def test_page_payload_carries_no_raw_ids(client_for):
    page = client_for("ada").page("/")
    assert "A_RAW_" not in page
    assert json.loads(page)  # well-formed JSON


def test_auditor_never_gets_per_worker_earnings_or_quality(client_for):
    aud = client_for("aud")
    for table, path in [
        ("earnings-workers", "/earnings"),
        ("earnings-delays", "/earnings"),
        ("earnings-fairpay", "/earnings"),
        ("earnings-skiplist", "/earnings"),
        ("quality-annotators", "/quality"),
    ]:
        assert aud.download(table, path).status_code == 403, table
    for path in ("/earnings", "/quality"):
        page = aud.page(path)
        # no pseudonym of any worker reaches an auditor
        assert not re.search(r"w_[0-9a-f]{20}", page), path


def test_earnings_scope_per_role(client_for):
    fred_rows = download_rows(client_for("fred").download("earnings-workers", "/earnings"))
    assert {r["worker_id"] for r in fred_rows} == FRED
    mia_rows = download_rows(client_for("mia").download("earnings-workers", "/earnings"))
    p1 = {worker("mturk", f"A_RAW_{i}") for i in range(6)}
    assert {r["worker_id"] for r in mia_rows} == p1
    assert client_for("mia").download("earnings-fairpay", "/earnings").status_code == 403


def test_quality_is_scoped_to_the_managers_projects(client_for):
    mia = client_for("mia")
    rows = download_rows(mia.download("quality-projects", "/quality"))
    assert [(r["platform"], r["project_id"]) for r in rows] == [("mturk", "P1")]
    # focusing a field of another project through the URL shows nothing of it
    forged = "?focus=toloka%1FT1%1Flabel"
    rows = download_rows(mia.download("quality-hotspots", "/quality", forged))
    assert rows == []
    assert "Not available for your role" in client_for("fred").page("/quality")


def test_quality_figures_on_the_fixture(client_for):
    rows = download_rows(client_for("ada").download("quality-projects", "/quality"))
    by_project = {r["project_id"]: r for r in rows}
    # P1: 6 workers x 4 gold answers, less 4 on returned assignments (workers 2 and 5 twice
    # each); A_RAW_0 is always wrong, on 4 submitted answers
    assert by_project["P1"]["gold_answered"] == "20" and by_project["P1"]["gold_correct"] == "16"
    annotators = download_rows(
        client_for("ada").download("quality-annotators", "/quality", "?focus=mturk%1FP1%1Flabel")
    )
    wrong = [r for r in annotators if r["worker_id"] == worker("mturk", "A_RAW_0")]
    assert wrong[0]["gold_accuracy"] == "0.0"


def test_managers_read_no_rejects_of_files_that_fed_other_projects(client_for, published):
    # /exports/mturk_p1.csv brought rows for P1 and P2; its 3 rejects name no project
    assert len(download_rows(client_for("ada").download("pipeline-rejects", "/pipeline"))) == 3
    mia = client_for("mia")
    assert download_rows(mia.download("pipeline-rejects", "/pipeline")) == []
    assert "Reward" not in mia.page("/pipeline")  # neither the records nor their reasons
    UserStore(published).add(
        "max", "manager", "manager-password-2", projects=[("mturk", "P1"), ("mturk", "P2")]
    )
    both = client_for(None).login("max", "manager-password-2")
    assert len(download_rows(both.download("pipeline-rejects", "/pipeline"))) == 3


def test_a_login_form_from_another_site_is_refused(client_for):
    client = client_for(None).client
    # a cross-site form: no token (the browser sends no SameSite=Lax cookie with it either)
    forged = {"username": "ada", "password": "admin-password"}
    reply = client.post("/login", data=forged)
    assert reply.status_code == 400 and "expired" in reply.get_data(as_text=True)
    reply = client.post("/login", data={**forged, "csrf_token": "guessed"})
    assert reply.status_code == 400
    assert client.get("/_dash-layout").status_code == 401  # nobody was logged in


def test_logout_only_by_post_with_the_sessions_token(client_for):
    ada = client_for("ada")
    assert ada.client.get("/logout").status_code == 200  # a page asking to confirm
    assert ada.client.post("/logout").status_code == 400  # a cross-site form: no token
    assert ada.call("page.children", ["/", ""]).status_code == 200  # still logged in
    shell = ada.call(SHELL, ["/", ""]).get_json()["response"]
    token = shell["logout-csrf"]["value"]  # what the shell's log-out form posts
    assert ada.client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert ada.call("page.children", ["/", ""]).status_code == 401


def test_every_response_carries_the_security_headers(client_for):
    ada = client_for("ada")
    for reply in (
        client_for(None).client.get("/login"),
        ada.client.get("/"),
        ada.call("page.children", ["/", ""]),
    ):
        headers = reply.headers
        assert headers["X-Frame-Options"] == "DENY"  # the login page cannot be framed
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self' 'sha256-" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP by default


def test_secure_cookies_behind_tls(published):
    from dashboard.app import create_app

    server = published.server.model_copy(update={"secure_cookies": True})
    reply = create_app(published.model_copy(update={"server": server})).server.test_client()
    reply = reply.get("/login")
    assert "Secure" in reply.headers["Set-Cookie"]
    assert reply.headers["Strict-Transport-Security"].startswith("max-age=")
    # without the setting the cookie is not marked Secure (the plain-HTTP demo on localhost)
    plain = create_app(published).server.test_client().get("/login")
    assert "Secure" not in plain.headers["Set-Cookie"]


def _copy_of_session(client_for, name: str):
    """A second client holding a copy of `name`'s session cookie, as a thief would."""
    owner = client_for(name)
    thief = client_for(None)
    cookie = owner.client.get_cookie("crowdmeter_session")
    thief.client.set_cookie("crowdmeter_session", cookie.value)
    assert thief.call("page.children", ["/", ""]).status_code == 200
    return owner, thief


def test_logout_ends_the_session_wherever_its_cookie_was_copied(client_for):
    owner, thief = _copy_of_session(client_for, "ada")
    other = client_for("ada")  # another browser of the same login
    assert owner.logout().status_code == 302
    for _ in range(10):
        assert thief.call("page.children", ["/", ""]).status_code == 401
    assert other.call("page.children", ["/", ""]).status_code == 200  # only that session ended


def test_replacing_or_removing_a_login_ends_its_sessions(client_for, published):
    store = UserStore(published)
    store.add("tmp", "admin", "temporary-password")
    first = client_for(None).login("tmp", "temporary-password")
    store.add("tmp", "admin", "another-password", replace=True)  # a new password
    assert first.call("page.children", ["/", ""]).status_code == 401
    second = client_for(None).login("tmp", "another-password")
    store.remove("tmp")
    assert second.call("page.children", ["/", ""]).status_code == 401


def _attempt(client, name: str, password: str, address: str) -> int:
    form = login_form(client, username=name, password=password)
    return client.post("/login", data=form, environ_base={"REMOTE_ADDR": address}).status_code


@pytest.fixture
def no_failed_logins(published):
    """No failed login counted, before and after: every app of the data dir shares the counts
    (a throttled name would refuse the logins of the tests after)."""
    counts = SQLiteStorage(storage_uri(published.data_dir))
    counts.reset()
    yield
    counts.reset()


@pytest.mark.usefixtures("no_failed_logins")
def test_failed_logins_are_throttled_per_name_and_per_address(published):
    from dashboard.app import create_app

    client = create_app(published).server.test_client()
    statuses = [_attempt(client, "ada", "wrong-guess", "10.0.0.1") for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # the name is throttled from any address, even with its right password, with a reason
    assert _attempt(client, "ada", PASSWORDS["ada"], "10.0.0.9") == 429
    reply = client.post("/login", data=login_form(client, username="ada", password="x"))
    assert "Too many failed logins" in reply.get_data(as_text=True)
    assert reply.headers["Retry-After"] == "60"
    # another name from the same address is not
    assert _attempt(client, "mia", PASSWORDS["mia"], "10.0.0.1") == 302
    # one address guessing many names is throttled after 20 failures, other addresses are not
    guesses = [_attempt(client, f"user{i}", "wrong-guess", "10.0.0.2") for i in range(21)]
    assert guesses == [401] * 20 + [429]
    assert _attempt(client, "fred", PASSWORDS["fred"], "10.0.0.2") == 429
    assert _attempt(client, "fred", PASSWORDS["fred"], "10.0.0.3") == 302


@pytest.mark.usefixtures("no_failed_logins")
def test_web_workers_share_the_failed_login_counts(published):
    from dashboard.app import create_app

    # two apps of one data dir, as two gunicorn workers are
    workers = [create_app(published).server.test_client() for _ in range(2)]
    statuses = [_attempt(workers[i % 2], "ada", "wrong-guess", f"10.1.0.{i}") for i in range(5)]
    assert statuses == [401] * 5
    assert [_attempt(w, "ada", PASSWORDS["ada"], "10.1.0.9") for w in workers] == [429, 429]
    # per address too: 20 failures split across the workers, the 21st refused on either
    guesses = [_attempt(workers[i % 2], f"u{i}", "wrong-guess", "10.1.1.1") for i in range(20)]
    assert guesses == [401] * 20
    assert [_attempt(w, "fred", PASSWORDS["fred"], "10.1.1.1") for w in workers] == [429, 429]
    assert (published.data_dir / FILE_NAME).stat().st_mode & 0o777 == 0o600


def test_the_shell_bounds_the_date_picker_by_the_viewers_data(client_for):
    shell = client_for("ada").call(SHELL, ["/", ""]).get_json()["response"]["filter-dates"]
    assert shell["minDate"] and shell["minDate"] <= shell["maxDate"] == shell["defaultDate"]
