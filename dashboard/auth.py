"""Login, logout and the server-side guard: who the viewer is comes from the session only, an
id in the signed cookie that must name an open session in users.sqlite.

Unauthenticated callback and layout requests get 401; page requests are redirected to /login.
Every callback calls `current_viewer()` (or `viewer_for(action)`) instead of trusting the browser.
The login and logout forms carry the session's CSRF token; failed logins are throttled.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import quote, urlsplit

import flask
from werkzeug.exceptions import Forbidden, Unauthorized

from dashboard import access
from dashboard.login_throttle import throttled
from dashboard.templating import render
from dashboard.users import User, UserStore
from etl.secret_files import read_or_create_secret
from etl.settings import Settings

PUBLIC_PREFIXES = (
    "/login",
    "/logout",
    "/_dash-component-suites/",
    "/assets/",
    "/_favicon.ico",
    "/favicon.ico",
)
# Dash's JSON endpoints: answering them with a redirect would hand the browser an HTML login
# page where it expects JSON, so they get a plain 401 instead.
API_PREFIXES = ("/_dash-", "/_reload-hash", "/_alive")
MAX_FIELD = 256
CSRF_FIELD = "csrf_token"


def session_secret(settings: Settings) -> bytes:
    """The cookie-signing secret: from settings, else data_dir/secrets/session_secret (0600)."""
    if settings.server.session_secret is not None:
        return settings.server.session_secret.get_secret_value().encode()
    return read_or_create_secret(settings.secrets_dir / "session_secret")[0]


def current_viewer() -> User:
    """The logged-in user of this request, from the signed session; 401 when there is none."""
    viewer = _session_user()
    if viewer is None:
        raise Unauthorized("Log in first.")
    return viewer


def viewer_for(action: str) -> User:
    """The viewer, if they may do `action` (dashboard.access.ACTIONS); 403 otherwise."""
    viewer = current_viewer()
    if not access.allowed(viewer, action):
        raise Forbidden("Your role does not give access to this page.")
    return viewer


def _session_user() -> User | None:
    if "viewer" in flask.g:
        return flask.g.viewer
    # the session id is checked against the open sessions on every request: logout, a
    # password change (the login is replaced) and a removed login end it, wherever it was copied
    session_id = flask.session.get("sid")
    store: UserStore = flask.current_app.config["CROWDMETER_USERS"]
    user = store.session_user(session_id[:MAX_FIELD]) if isinstance(session_id, str) else None
    flask.g.viewer = user
    return user


def install_auth(server: flask.Flask, settings: Settings, store: UserStore) -> None:
    """Signed sessions, /login, /logout and the guard in front of every other route."""
    server.secret_key = session_secret(settings)
    server.config.update(
        CROWDMETER_USERS=store,
        SESSION_COOKIE_NAME="crowdmeter_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.server.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.server.session_hours),
        CROWDMETER_SESSION_HOURS=settings.server.session_hours,
    )
    server.before_request(_guard)
    login = throttled(server, _login, _too_many_attempts, settings.data_dir)
    server.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", _logout, methods=["GET", "POST"])


def _guard() -> flask.Response | None:
    path = flask.request.path
    if path.startswith(PUBLIC_PREFIXES) or _session_user() is not None:
        return None
    if path.startswith(API_PREFIXES):
        return flask.Response(
            '{"error": "Log in first: your session is missing or has expired."}',
            status=401,
            mimetype="application/json",
        )
    target = flask.request.full_path if flask.request.query_string else path
    return flask.redirect(f"/login?next={quote(target)}")


def csrf_token() -> str:
    """This session's token for the login and logout forms, made on first use: a form posted
    from another site carries none (the session cookie is SameSite=Lax, the token unknown)."""
    token = flask.session.get("csrf")
    if not isinstance(token, str):
        token = flask.session["csrf"] = secrets.token_urlsafe(32)
    return token


def _csrf_ok() -> bool:
    sent = flask.request.form.get(CSRF_FIELD, "")[:MAX_FIELD]
    kept = flask.session.get("csrf")
    return isinstance(kept, str) and secrets.compare_digest(sent.encode(), kept.encode())


EXPIRED = "This form has expired or came from another page. Try again."


def _login() -> flask.Response | str:
    next_url = _safe_next(flask.request.values.get("next", "/"))
    if flask.request.method == "GET":
        return _login_page(next_url)
    if not _csrf_ok():
        return flask.Response(_login_page(next_url, error=EXPIRED), status=400)
    name = flask.request.form.get("username", "")[:MAX_FIELD]
    password = flask.request.form.get("password", "")[:MAX_FIELD]
    store: UserStore = flask.current_app.config["CROWDMETER_USERS"]
    user = store.verify(name, password)
    if user is None:
        return flask.Response(
            _login_page(next_url, error="Wrong name or password. Try again."), status=401
        )
    flask.session.clear()  # a fresh session on login, so no pre-login state carries over
    flask.session.permanent = True
    # a fresh token with the login: every later response carries the session as loaded, so a
    # token made later by one of the page's concurrent callbacks could be overwritten
    session_id = store.start_session(
        user.name, flask.current_app.config["CROWDMETER_SESSION_HOURS"]
    )
    flask.session.update(sid=session_id, csrf=secrets.token_urlsafe(32))
    return flask.redirect(next_url)


def _too_many_attempts() -> flask.Response:
    next_url = _safe_next(flask.request.values.get("next", "/"))
    error = (
        "Too many failed logins for this name or from this address. Wait a minute, then try again."
    )
    return flask.Response(
        _login_page(next_url, error=error), status=429, headers={"Retry-After": "60"}
    )


def _logout() -> flask.Response | str:
    # by POST with the session's token only: a link or a form on another site cannot log out
    if flask.request.method == "GET":
        return render("logout.html", csrf_token=csrf_token(), error="")
    if not _csrf_ok():
        page = render("logout.html", csrf_token=csrf_token(), error=EXPIRED)
        return flask.Response(page, status=400)
    session_id = flask.session.get("sid")
    if isinstance(session_id, str):
        flask.current_app.config["CROWDMETER_USERS"].end_session(session_id[:MAX_FIELD])
    flask.session.clear()
    return flask.redirect("/login")


def _safe_next(target: str) -> str:
    """Only a path of this site: "//evil.example" or "https://..." would make login an open
    redirect, and browsers drop tabs and line breaks from a URL ("/%09/evil.example" is
    "//evil.example" to them), which in a Location header would also fail the response."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(c.isspace() or not c.isprintable() for c in target):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target[:2048]


def _login_page(next_url: str, error: str = "") -> str:
    return render("login.html", next=next_url, error=error, csrf_token=csrf_token())
