"""Login throttling (flask-limiter): failed logins are counted per user name and per address,
and past either limit the login answers 429 with a plain message before any password is
hashed, so a guessing flood costs the server little and slows no one else's pages.

The counts are shared by every web worker of the machine: they live in
`data_dir/login_throttle.sqlite` (mode 0600, WAL, a busy timeout), a `limits` storage of its
own (`SQLiteStorage`, the `crowdmeter+sqlite://PATH` scheme), so N gunicorn workers give an
attacker the limits once, not N times, and no server (Redis, memcached) is needed. Each count
opens its own short connection: nothing is shared across a fork.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage

FAILURES_PER_NAME = "5 per minute"
FAILURES_PER_ADDRESS = "20 per minute"
MAX_NAME = 256
FILE_NAME = "login_throttle.sqlite"
SCHEME = "crowdmeter+sqlite"
BUSY_SECONDS = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS counts_expiry ON counts (expires_at);
"""


def _now() -> float:
    return time.time()


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite file, shared by the processes that open it."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        super().__init__(uri, wrap_exceptions, **options)
        if not uri or not uri.startswith(f"{SCHEME}://") or uri == f"{SCHEME}://":
            raise ValueError(f"{SCHEME} storage needs a file: {SCHEME}:///path/to/file.sqlite")
        self.path = Path(uri.removeprefix(f"{SCHEME}://"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        with self._connect() as con:
            con.execute("PRAGMA journal_mode = WAL")  # kept by the file: readers never wait
            con.executescript(_SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)) as con:
            yield con

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A connection in a write transaction taken at once (no lost update between workers)."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to `key`'s count, starting a window of `expiry` seconds when it has
        none; return the count."""
        now = _now()
        with self._writing() as con:
            con.execute("DELETE FROM counts WHERE expires_at <= ?", [now])
            (value,) = con.execute(
                "INSERT INTO counts (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value "
                "RETURNING value",
                [key, amount, now + expiry],
            ).fetchone()
        return int(value)

    def get(self, key: str) -> int:
        with self._connect() as con:
            row = con.execute(
                "SELECT value FROM counts WHERE key = ? AND expires_at > ?", [key, _now()]
            ).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = _now()
        with self._connect() as con:
            row = con.execute(
                "SELECT expires_at FROM counts WHERE key = ? AND expires_at > ?", [key, now]
            ).fetchone()
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            with self._connect() as con:
                con.execute("SELECT 1 FROM counts LIMIT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with self._writing() as con:
            return con.execute("DELETE FROM counts").rowcount

    def clear(self, key: str) -> None:
        with self._writing() as con:
            con.execute("DELETE FROM counts WHERE key = ?", [key])


def storage_uri(data_dir: Path) -> str:
    """Where the counts of the web workers of `data_dir` are kept."""
    return f"{SCHEME}://{(data_dir / FILE_NAME).resolve()}"


def _attempted_name() -> str:
    return "name:" + flask.request.form.get("username", "")[:MAX_NAME].casefold()


def _failed(response: flask.Response) -> bool:
    return response.status_code == 401


def throttled(
    server: flask.Flask,
    view: Callable[[], flask.Response | str],
    refusal: Callable[[], flask.Response],
    data_dir: Path,
) -> Callable[[], flask.Response | str]:
    """`view` (the login) behind both limits on its POSTs, counted in `data_dir`'s throttle
    file; `refusal` answers a breach."""
    limiter = Limiter(get_remote_address, app=server, storage_uri=storage_uri(data_dir))

    def breached(_limit: object) -> flask.Response:
        return refusal()

    for limit, key in ((FAILURES_PER_NAME, _attempted_name), (FAILURES_PER_ADDRESS, None)):
        view = limiter.limit(
            limit, key_func=key, methods=["POST"], deduct_when=_failed, on_breach=breached
        )(view)
    return view
