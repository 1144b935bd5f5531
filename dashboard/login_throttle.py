"""Login throttling (flask-limiter): failed logins are counted per user name and per address,
and past either limit the login answers 429 with a plain message before any password is
hashed, so a guessing flood costs the server little and slows no one else's pages.

Counts live in each web worker's memory (flask-limiter's `memory://` storage): with N workers an
attacker gets up to N times the limits, still a few guesses a minute.
"""

from __future__ import annotations

from collections.abc import Callable

import flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

FAILURES_PER_NAME = "5 per minute"
FAILURES_PER_ADDRESS = "20 per minute"
MAX_NAME = 256


def _attempted_name() -> str:
    return "name:" + flask.request.form.get("username", "")[:MAX_NAME].casefold()


def _failed(response: flask.Response) -> bool:
    return response.status_code == 401


def throttled(
    server: flask.Flask,
    view: Callable[[], flask.Response | str],
    refusal: Callable[[], flask.Response],
) -> Callable[[], flask.Response | str]:
    """`view` (the login) behind both limits on its POSTs; `refusal` answers a breach."""
    limiter = Limiter(get_remote_address, app=server, storage_uri="memory://")

    def breached(_limit: object) -> flask.Response:
        return refusal()

    for limit, key in ((FAILURES_PER_NAME, _attempted_name), (FAILURES_PER_ADDRESS, None)):
        view = limiter.limit(
            limit, key_func=key, methods=["POST"], deduct_when=_failed, on_breach=breached
        )(view)
    return view
