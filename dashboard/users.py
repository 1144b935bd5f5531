"""Dashboard logins: argon2-hashed passwords, a role, the rows each login may see, and the
sessions each has open.

Stored in `data_dir/users.sqlite` (stdlib sqlite3, mode 0600). A manager's projects are kept as
(platform, project_id); a freelancer's links to their platform ids are kept as pseudonyms only.
A session is kept by the SHA-256 of its id, the id itself only in the browser's signed cookie:
logging out deletes it, and replacing or removing a login deletes all of its sessions.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from etl.pseudonym import pseudonym_key, pseudonymise
from etl.settings import Settings

ROLES = ("admin", "manager", "freelancer", "auditor")
MIN_PASSWORD_LENGTH = 8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name           TEXT PRIMARY KEY,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    password_set_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS user_projects (
    name        TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    platform    TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    PRIMARY KEY (name, platform, project_id)
);
CREATE TABLE IF NOT EXISTS user_workers (
    name       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    platform   TEXT NOT NULL,
    worker_id  TEXT NOT NULL,  -- pseudonym; the raw platform id is never stored
    PRIMARY KEY (name, platform, worker_id)
);
CREATE TABLE IF NOT EXISTS user_sessions (
    session_hash TEXT PRIMARY KEY,  -- sha256 of the id in the cookie
    name         TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    expires_at   TEXT NOT NULL
);
"""


class UserStoreError(ValueError):
    """A login cannot be added as asked; the message says what to change."""


@dataclass(frozen=True)
class User:
    """One login and its row scope."""

    name: str
    role: str
    projects: tuple[tuple[str, str], ...] = ()
    workers: tuple[str, ...] = ()
    password_set_at: str = ""
    worker_platforms: tuple[str, ...] = field(default=(), compare=False)

    @property
    def project_keys(self) -> list[str]:
        """The manager's projects as 'PLATFORM:PROJECT' strings."""
        return [f"{platform}:{project}" for platform, project in self.projects]


class UserStore:
    """Logins of one data directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path: Path = settings.data_dir / "users.sqlite"
        self._hasher = PasswordHasher()
        # Verifying against a real hash for unknown names keeps login time independent of
        # whether the name exists.
        self._decoy_hash = self._hasher.hash("decoy password for unknown names")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        with closing(sqlite3.connect(self.path, timeout=10)) as con:
            con.execute("PRAGMA foreign_keys = ON")
            con.executescript(_SCHEMA)
            with con:
                yield con

    def add(
        self,
        name: str,
        role: str,
        password: str,
        workers: Iterable[tuple[str, str]] = (),
        projects: Iterable[tuple[str, str]] = (),
        replace: bool = False,
    ) -> User:
        """Create a login (or replace it when `replace`); workers are (platform, raw_id) pairs."""
        workers, projects = list(workers), list(projects)
        _check_login(name, role, password, workers, projects)
        key = pseudonym_key(self.settings) if workers else b""
        pseudonyms = sorted({(p, pseudonymise(p, raw, key)) for p, raw in workers})
        now = datetime.now(UTC).isoformat()
        with self._connect() as con:
            exists = con.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone()
            if exists and not replace:
                raise UserStoreError(
                    f"A login named {name!r} already exists. Choose another name, or pass "
                    "--replace to overwrite its role, password and links."
                )
            con.execute("DELETE FROM users WHERE name = ?", [name])
            con.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                [name, role, self._hasher.hash(password), now, now],
            )
            con.executemany(
                "INSERT INTO user_projects VALUES (?, ?, ?)",
                [(name, p, project) for p, project in sorted(set(projects))],
            )
            con.executemany(
                "INSERT INTO user_workers VALUES (?, ?, ?)", [(name, p, w) for p, w in pseudonyms]
            )
        user = self.get(name)
        assert user is not None
        return user

    def get(self, name: str) -> User | None:
        """The login called `name`, or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT name, role, password_set_at FROM users WHERE name = ?", [name]
            ).fetchone()
            if row is None:
                return None
            projects = con.execute(
                "SELECT platform, project_id FROM user_projects WHERE name = ? ORDER BY 1, 2",
                [name],
            ).fetchall()
            workers = con.execute(
                "SELECT platform, worker_id FROM user_workers WHERE name = ? ORDER BY 1, 2",
                [name],
            ).fetchall()
        return User(
            name=row[0],
            role=row[1],
            password_set_at=row[2],
            projects=tuple((p, project) for p, project in projects),
            workers=tuple(w for _, w in workers),
            worker_platforms=tuple(sorted({p for p, _ in workers})),
        )

    def verify(self, name: str, password: str) -> User | None:
        """The login if `password` is right for `name`, else None."""
        with self._connect() as con:
            row = con.execute("SELECT password_hash FROM users WHERE name = ?", [name]).fetchone()
        stored = row[0] if row else self._decoy_hash
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return self.get(name) if row else None

    def list(self) -> list[User]:
        """Every login, by name."""
        with self._connect() as con:
            names = [r[0] for r in con.execute("SELECT name FROM users ORDER BY name").fetchall()]
        return [user for user in map(self.get, names) if user is not None]

    def start_session(self, name: str, hours: int) -> str:
        """A new session id for the login `name`, valid for `hours` (expired ones are dropped)."""
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._connect() as con:
            con.execute("DELETE FROM user_sessions WHERE expires_at <= ?", [now.isoformat()])
            con.execute(
                "INSERT INTO user_sessions VALUES (?, ?, ?)",
                [_digest(session_id), name, (now + timedelta(hours=hours)).isoformat()],
            )
        return session_id

    def session_user(self, session_id: str) -> User | None:
        """The login whose open, unexpired session `session_id` is, or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT name FROM user_sessions WHERE session_hash = ? AND expires_at > ?",
                [_digest(session_id), datetime.now(UTC).isoformat()],
            ).fetchone()
        return self.get(row[0]) if row else None

    def end_session(self, session_id: str) -> None:
        """Close one session (logout); the cookie holding its id opens nothing afterwards."""
        with self._connect() as con:
            con.execute("DELETE FROM user_sessions WHERE session_hash = ?", [_digest(session_id)])

    def remove(self, name: str) -> bool:
        """Delete a login; True when it existed."""
        with self._connect() as con:
            return con.execute("DELETE FROM users WHERE name = ?", [name]).rowcount > 0


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _check_login(
    name: str,
    role: str,
    password: str,
    workers: list[tuple[str, str]],
    projects: list[tuple[str, str]],
) -> None:
    if not _NAME.match(name or ""):
        raise UserStoreError(
            f"Login name {name!r} is not allowed: use 1 to 64 letters, digits, '.', '_', '@' "
            "or '-', starting with a letter or digit."
        )
    if role not in ROLES:
        raise UserStoreError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserStoreError(
            f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters."
        )
    if role == "freelancer" and not workers:
        raise UserStoreError(
            "A freelancer login needs at least one platform id: pass --worker PLATFORM:ID "
            "(for example --worker mturk:A1B2C3) for each platform they work on."
        )
    if role == "manager" and not projects:
        raise UserStoreError(
            "A manager login needs at least one project: pass --project PLATFORM:PROJECT "
            "for each project they manage."
        )
    if workers and role != "freelancer":
        raise UserStoreError("Only freelancer logins link to worker ids; drop --worker.")
    if projects and role != "manager":
        raise UserStoreError("Only manager logins are given projects; drop --project.")
    for platform, value in [*workers, *projects]:
        if not platform or not value:
            raise UserStoreError(
                f"{platform!r}:{value!r} is incomplete: write PLATFORM:ID, both parts non-empty."
            )
