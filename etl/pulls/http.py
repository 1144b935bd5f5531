"""HTTP for the API kinds: one httpx client per run, retries with backoff, downloads that land
whole or not at all.

A request is retried on a transport error (refused connection, timeout, a body cut off before
its Content-Length), a JSON body that does not parse, a 5xx and a 429, up to the pull's
`retries`, waiting `backoff_seconds` doubled each time with jitter, or the 429's Retry-After
(seconds, at most `MAX_RETRY_AFTER`).
A 401 or 403 is never retried: the token is wrong or expired, and the error says so. A download
is streamed to `<name>.part` and renamed once every byte has arrived.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity import Retrying as _Retrying

from etl.pull_settings import HttpPull

MAX_RETRY_AFTER = 600.0
RETRIED_STATUSES = {429, 500, 502, 503, 504}


def sleep(seconds: float) -> None:
    """The wait between attempts (a module function, so tests can record the waits)."""
    time.sleep(seconds)


class FetchFailed(Exception):
    """A pull's API request failed for good; the message says what to do."""


class RetryableStatus(Exception):
    """A response worth asking again (5xx, 429), with the server's Retry-After if it gave one."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code} from {response.request.url}")
        self.status = response.status_code
        self.retry_after = _retry_after(response)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None  # absent, or an HTTP date: the backoff applies


class IncompleteBody(Exception):
    """A body that is no complete JSON document (cut off by a server that sent no length)."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError | RetryableStatus | IncompleteBody)


class _Wait:
    """Retry-After when the server gave one, else exponential backoff with jitter."""

    def __init__(self, first: float) -> None:
        self.backoff = wait_exponential_jitter(multiplier=first, max=60.0, jitter=first)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            return exc.retry_after
        return self.backoff(state)


def records(body: Any, key: str) -> list[dict[str, Any]] | None:
    """`body[key]` when it is a list of objects that each have an "id", else None."""
    found = body.get(key) if isinstance(body, dict) else None
    if isinstance(found, list) and all(isinstance(r, dict) and "id" in r for r in found):
        return found
    return None


class ApiClient:
    """Requests to one pull's API with its token, timeouts and retries."""

    def __init__(
        self, pull: HttpPull, authorization: str | httpx.Auth, refused_hint: str = ""
    ) -> None:
        """`authorization`: the Authorization header's value, or an httpx.Auth that sets it
        (and renews it) on each request; `refused_hint`: added to the error of a 401 or 403."""
        self.pull = pull
        self.refused_hint = refused_hint
        headers, auth = {"Accept": "application/json"}, None
        if isinstance(authorization, str):
            headers["Authorization"] = authorization
        else:
            auth = authorization
        self.client = httpx.Client(
            base_url=pull.url,
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(pull.timeout_seconds),
        )
        self.requests = 0  # every attempt, retries included

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def _retrying(self) -> _Retrying:
        return _Retrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self.pull.retries + 1),
            wait=_Wait(self.pull.backoff_seconds),
            sleep=lambda seconds: sleep(seconds),
            reraise=True,
        )

    def get_json(self, path: str, params: dict[str, Any]) -> Any:
        """The JSON body of GET `path`, retried as the module says."""

        def attempt() -> Any:
            self.requests += 1
            response = self.client.get(path, params=params)
            self._check(response)
            try:
                return response.json()
            except ValueError as exc:
                raise IncompleteBody(f"{response.request.url}: {exc}") from exc

        return self._call(attempt, path)

    def download(self, path: str, params: dict[str, Any], target: Path) -> Path:
        """Stream GET `path` into `target`: written as `target.part`, renamed when complete."""
        part = target.with_name(target.name + ".part")

        def attempt() -> None:
            self.requests += 1
            with self.client.stream("GET", path, params=params) as response:
                self._check(response)
                with part.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 16):
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())

        try:
            self._call(attempt, path)
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)
        return target

    def _call(self, attempt: Any, path: str) -> Any:
        try:
            return self._retrying()(attempt)
        except (httpx.TransportError, RetryableStatus, IncompleteBody) as exc:
            raise FetchFailed(
                f"pull {self.pull.name}: {self.pull.url}{path} failed after "
                f"{self.pull.retries + 1} attempts ({type(exc).__name__}: {exc}); the next run "
                "tries again"
            ) from exc

    def _check(self, response: httpx.Response) -> None:
        if response.status_code in RETRIED_STATUSES:
            raise RetryableStatus(response)
        if response.status_code in (401, 403):
            raise FetchFailed(
                f"pull {self.pull.name}: {self.pull.url} refused the token (HTTP "
                f"{response.status_code}); it may have expired. Put a valid one where the "
                f"pull's token_env or token_file points{self.refused_hint}"
            )
        if response.is_error:
            raise FetchFailed(
                f"pull {self.pull.name}: HTTP {response.status_code} from "
                f"{response.request.url}; check the pull's url and ids"
            )
