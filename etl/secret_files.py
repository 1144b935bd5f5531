"""Secrets kept in files (`data_dir/secrets/<name>`): created once, mode 0600, never replaced.

A new secret is written to a temporary file and hard-linked into place, so processes starting
together never read a half-written secret and never overwrite each other's: the first link
wins and the others read it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path


def read_or_create_secret(path: Path) -> tuple[bytes, bool]:
    """The secret in `path`, created first (64 random hex digits) if there is none; and whether
    this call created it."""
    created = False
    if not path.exists():
        created = _create(path)
    return path.read_bytes().strip(), created


def _create(path: Path) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, secrets.token_hex(32).encode() + b"\n")
        os.fsync(fd)
        os.close(fd)
        with contextlib.suppress(FileExistsError):  # another process won the race: use theirs
            os.link(tmp, path)
            return True
        return False
    finally:
        os.unlink(tmp)
