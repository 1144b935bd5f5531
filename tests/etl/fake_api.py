"""A local HTTP server on 127.0.0.1 standing in for a platform's API in the pull tests.

Each request is answered by the next scripted misbehaviour, if any, else by the test's
`respond` function. Every request is recorded (path, query, headers) so tests count them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    path: str
    query: dict[str, str]  # each parameter's last value
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""
    params: dict[str, list[str]] = field(default_factory=dict)  # every value of each


@dataclass
class FakeApi:
    """What the server answers: `respond(request) -> (status, body)` after the `script`."""

    respond: Callable[[Request], tuple[int, bytes]]
    script: list[str] = field(default_factory=list)  # "500", "429", "slow", "cut", "eof", "401"
    requests: list[Request] = field(default_factory=list)
    slow_seconds: float = 2.0
    url: str = ""


def json_body(payload: object) -> bytes:
    return json.dumps(payload).encode()


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer("POST", body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self._answer("GET", b"")

        def _answer(self, method: str, body: bytes) -> None:
            parts = urlsplit(self.path)
            params = parse_qs(parts.query)
            query = {k: v[-1] for k, v in params.items()}
            request = Request(parts.path, query, dict(self.headers), method, body, params)
            api.requests.append(request)
            trick = api.script.pop(0) if api.script else None
            if trick == "500":
                return self._send(500, b'{"code": "INTERNAL_ERROR"}')
            if trick == "429":
                return self._send(429, b'{"code": "TOO_MANY_REQUESTS"}', {"Retry-After": "1"})
            if trick == "401":
                return self._send(401, b'{"code": "AUTHENTICATION_ERROR"}')
            if trick == "slow":
                time.sleep(api.slow_seconds)
            status, body = api.respond(request)
            if trick == "cut":  # promise the whole body, send half of it, hang up
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return None
            if trick == "eof":  # no length given: half the body, then the connection closes
                self.send_response(status)
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return None
            return self._send(status, body)

        def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    return Handler


@contextmanager
def serving(api: FakeApi) -> Iterator[FakeApi]:
    """Serve `api` on a free port of 127.0.0.1 for the block; `api.url` is its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
