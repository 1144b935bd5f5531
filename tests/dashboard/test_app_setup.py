"""The app is fully set up before it serves: requests that arrive together on a fresh server
(the first page's script bundles, under gunicorn's threads) all find their library."""

from __future__ import annotations

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from werkzeug.serving import make_server

from dashboard.app import create_app

REQUESTS = 40


def _bundle_paths(app) -> list[str]:
    return [
        f"/_dash-component-suites/{library}/{path}"
        for library, paths in app.registered_paths.items()
        for path in sorted(paths)
        if path.endswith(".js")  # source maps are registered but not installed
    ]


def test_every_library_is_registered_when_the_app_is_created(published):
    app = create_app(published)
    assert {"dash", "dash_mantine_components"} <= set(app.registered_paths)


def test_a_fresh_server_answers_simultaneous_bundle_requests(published):
    paths = _bundle_paths(create_app(published))
    fresh = create_app(published)  # nothing requested yet
    server = make_server("127.0.0.1", 0, fresh.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    start = threading.Barrier(REQUESTS)

    def fetch(path: str) -> int:
        start.wait()
        with urllib.request.urlopen(base + path, timeout=120) as response:
            return response.status

    try:
        wanted = [paths[i % len(paths)] for i in range(REQUESTS)]
        with ThreadPoolExecutor(REQUESTS) as pool:
            statuses = list(pool.map(fetch, wanted))
    finally:
        server.shutdown()
        thread.join(5)
    assert statuses == [200] * REQUESTS
