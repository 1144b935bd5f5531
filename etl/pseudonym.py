"""Worker pseudonyms: a keyed hash of `platform:raw_id`, so raw ids never reach the warehouse.

The key comes from settings (CROWDMETER_PSEUDONYM_KEY or a secret file); when there is none,
the first run creates `data_dir/secrets/pseudonym_key` with mode 0600 and says so on stderr.
Losing the key means new pseudonyms for everybody: back it up with the warehouse.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path

from etl.settings import Settings

PREFIX = "w_"
DIGEST_CHARS = 20  # 80 bits: collisions are negligible below billions of workers

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"\b(?:[0-9A-Fa-f]{1,4}:){4,7}[0-9A-Fa-f]{1,4}\b")


# A big file arrives in parts that name the same workers again: each is hashed once per process.
@functools.lru_cache(maxsize=1 << 16)
def pseudonymise(platform: str, raw_id: str, key: bytes) -> str:
    """The pseudonym of one raw worker id on one platform."""
    digest = hmac.new(key, f"{platform}:{raw_id}".encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:DIGEST_CHARS]


def pseudonym_map(platform: str, raw_ids: Iterable[str | None], key: bytes) -> dict[str, str]:
    """Pseudonyms of the distinct non-null ids (hash each id once, not once per row)."""
    return {raw: pseudonymise(platform, raw, key) for raw in set(raw_ids) if raw is not None}


def mask_personal_data(text: str) -> str:
    """Text with e-mail and IP addresses replaced, for reject records kept for inspection."""
    text = _EMAIL.sub("<email>", text)
    text = _IPV6.sub("<ip>", text)
    return _IPV4.sub("<ip>", text)


def pseudonym_key(settings: Settings) -> bytes:
    """The HMAC key: from settings, else from data_dir/secrets, else a new one created there."""
    if settings.pseudonym_key is not None:
        return settings.pseudonym_key.get_secret_value().encode()
    path = settings.secrets_dir / "pseudonym_key"
    if path.exists():
        return path.read_bytes().strip()
    return _create_key(path)


def _create_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    print(
        f"Created a new pseudonymisation key in {path} (mode 0600). Back it up with the "
        "warehouse: without it, the same workers get new pseudonyms.",
        file=sys.stderr,
    )
    return key
