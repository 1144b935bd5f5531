"""Worker pseudonyms: a keyed hash of `platform:raw_id`, so raw ids never reach the warehouse.

`pseudonymise_frames` replaces the raw ids of a parsed file's frames, hashing each distinct id
once.

The key comes from settings (CROWDMETER_PSEUDONYM_KEY or a secret file); when there is none,
the first run creates `data_dir/secrets/pseudonym_key` with mode 0600 and says so on stderr.
Losing the key means new pseudonyms for everybody: back it up with the warehouse.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import sys

import polars as pl

from etl.secret_files import read_or_create_secret
from etl.settings import Settings
from etl.sources.base import ParseResult

PREFIX = "w_"
DIGEST_CHARS = 20  # 80 bits: collisions are negligible below billions of workers

# The columns of each canonical table that hold raw worker (or reviewer) ids.
ID_COLUMNS = {
    "assignments": ("worker_id", "reviewer_id"),
    "workers": ("worker_id",),
    "time_entries": ("worker_id",),
    "earnings": ("worker_id",),
}

# Linear-time: a match may only start where a run of its characters starts, and every
# repetition is bounded (an address's local part has at most 64 characters, a domain 255), so
# a 120,000-character value without an "@" costs one pass, not one pass per position.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}"
)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){4,7}[0-9A-Fa-f]{1,4}(?![0-9A-Fa-f:])")


# A big file arrives in parts that name the same workers again: each is hashed once per process.
@functools.lru_cache(maxsize=1 << 16)
def pseudonymise(platform: str, raw_id: str, key: bytes) -> str:
    """The pseudonym of one raw worker id on one platform."""
    digest = hmac.new(key, f"{platform}:{raw_id}".encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:DIGEST_CHARS]


def pseudonymise_frames(parsed: ParseResult, key: bytes) -> dict[str, pl.DataFrame]:
    """Frames with raw worker and reviewer ids replaced by keyed hashes, each distinct id once."""
    out = {}
    for name, frame in parsed.frames.items():
        for column in ID_COLUMNS.get(name, ()):
            frame = _hash_column(frame, column, parsed.platform, key)
        out[name] = frame
    return out


def _hash_column(frame: pl.DataFrame, column: str, file_platform: str, key: bytes) -> pl.DataFrame:
    """Replace `column` by the hash of `platform:raw_id`, using each row's platform."""
    if frame.is_empty() or frame[column].null_count() == frame.height:
        return frame
    platform = (
        pl.col("platform").fill_null(file_platform)
        if "platform" in frame.columns
        else (pl.lit(file_platform))
    )
    pairs = (
        frame.select(platform.alias("_p"), pl.col(column).alias("_raw")).drop_nulls("_raw").unique()
    )
    lookup = pairs.with_columns(
        pl.Series(
            "_hash",
            [pseudonymise(p, raw, key) for p, raw in pairs.iter_rows()],
            dtype=pl.String,
        )
    )
    return (
        frame.with_columns(platform.alias("_p"))
        .join(
            lookup,
            left_on=["_p", column],
            right_on=["_p", "_raw"],
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("_hash").alias(column))
        .drop("_p", "_hash")
    )


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
    key, created = read_or_create_secret(path)
    if created:
        print(
            f"Created a new pseudonymisation key in {path} (mode 0600). Back it up with the "
            "warehouse: without it, the same workers get new pseudonyms.",
            file=sys.stderr,
        )
    return key
