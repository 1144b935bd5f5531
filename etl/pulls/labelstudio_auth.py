"""Label Studio's two kinds of token, told apart by their shape.

- A legacy token (Label Studio's are 40 hex characters; any token that is no JWT) is sent as
  is: `Authorization: Token <token>`.
- A personal access token (newer Label Studio; tested with 1.23) is a JWT refresh token. It is
  never sent to the API itself: `POST /api/token/refresh/` with `{"refresh": <token>}` returns
  a short-lived access token (five minutes by default), sent as `Authorization: Bearer ...`.
  A new access token is asked for before the one held expires (by its `exp`, less
  `RENEW_BEFORE_SECONDS`), and once more when the API answers 401 (a clock that disagrees).

Neither token is ever logged or put into an error message.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Generator
from typing import Any

import httpx

from etl.pull_settings import LabelStudioPull
from etl.pulls.http import RETRIED_STATUSES, FetchFailed, RetryableStatus

REFRESH_PATH = "/api/token/refresh/"
RENEW_BEFORE_SECONDS = 30.0


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT-shaped token (header.payload.signature, base64url JSON), unverified
    (only to tell the kind and the expiry), or None for any other token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = (json.loads(_unpad(part)) for part in parts[:2])
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or "alg" not in header or not isinstance(claims, dict):
        return None
    return claims


def _unpad(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class LabelStudioAuth(httpx.Auth):
    """Sets the Authorization header of each request for the pull's token, whichever kind."""

    def __init__(self, pull: LabelStudioPull) -> None:
        self.pull = pull
        self.token = pull.token()
        self.personal = jwt_claims(self.token) is not None
        self.access: str | None = None
        self.expires_at = 0.0
        self.refreshes = 0  # access tokens asked for (tests count them)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self.personal:
            request.headers["Authorization"] = f"Token {self.token}"
            yield request
            return
        if self.access is None or time.time() >= self.expires_at - RENEW_BEFORE_SECONDS:
            self._refresh()
        request.headers["Authorization"] = f"Bearer {self.access}"
        response = yield request
        if response.status_code == 401:  # expired early, or the clocks disagree: once more
            self._refresh()
            request.headers["Authorization"] = f"Bearer {self.access}"
            yield request

    def _refresh(self) -> None:
        """A new access token for the personal access token."""
        self.refreshes += 1
        url = self.pull.url.rstrip("/") + REFRESH_PATH
        response = httpx.post(url, json={"refresh": self.token}, timeout=self.pull.timeout_seconds)
        if response.status_code in RETRIED_STATUSES:
            raise RetryableStatus(response)
        if response.status_code in (400, 401, 403):
            raise FetchFailed(
                f"pull {self.pull.name}: {self.pull.url} refused the personal access token "
                f"(HTTP {response.status_code} from {REFRESH_PATH}); it may have been revoked "
                "or have expired. Create a new one in Label Studio (Account & Settings, "
                "Personal Access Token) and put it where the pull's token_env or token_file "
                "points"
            )
        try:
            access = response.json()["access"]
            claims = jwt_claims(access) or {}
        except (ValueError, KeyError, TypeError) as exc:
            raise FetchFailed(
                f"pull {self.pull.name}: {self.pull.url}{REFRESH_PATH} answered HTTP "
                f"{response.status_code} with no access token; check the pull's url"
            ) from exc
        self.access = access
        expiry = claims.get("exp")
        # no expiry given: kept until the API refuses it
        self.expires_at = float(expiry) if isinstance(expiry, int | float) else float("inf")
