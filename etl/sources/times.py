"""Reading the times exports write: zone words, MTurk's `date` style, ISO 8601, Unix seconds.

`parse_instant` reads one value (record-by-record formats); `time_layout` and `instant_expr`
do the same for a whole column as a Polars expression (vectorized CSV formats), and the rare
values the column's layout misses are re-read one by one with `parse_instant`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from etl.sources.base import UTC_TS, UnreadableFile

# Zone abbreviations MTurk and similar US exports print. Ambiguous ones (IST, CST in China)
# are left out on purpose: a time in an unknown zone is rejected rather than guessed.
ZONE_OFFSET_MINUTES: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "PST": -480,
    "PDT": -420,
    "MST": -420,
    "MDT": -360,
    "CST": -360,
    "CDT": -300,
    "EST": -300,
    "EDT": -240,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
    "BST": 60,
    "CET": 60,
    "CEST": 120,
    "EET": 120,
    "EEST": 180,
    "JST": 540,
    "AEST": 600,
    "AEDT": 660,
}

EXPECTED_TIME = (
    "like 'Wed Apr 04 10:26:23 PDT 2018', '2016-09-24 10:47:53 UTC', '2018-04-04 10:26:23' "
    "or ISO 8601"
)
_NAIVE_FORMATS = (
    "%a %b %d %H:%M:%S %Y",  # MTurk without its zone
    "%m/%d/%Y %H:%M:%S",  # CrowdFlower / Appen
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
# A zone word, or GMT/UTC with an offset as Java's Date.toString prints it ('GMT+05:30').
_ZONE = r"([A-Z]{1,5}|(?:GMT|UTC)[+-]\d{1,2}(?::?\d{2})?)"
# `Wed Apr 04 10:26:23 PDT 2018` (Unix `date`, MTurk's web downloads).
_MTURK_TIME = re.compile(
    rf"^(\w{{3}} \w{{3}} \d{{1,2}} \d{{2}}:\d{{2}}:\d{{2}}) {_ZONE} (\d{{4}})$"
)
# `2016-09-24 10:47:53 UTC` (MTurk's older batch downloads and its command-line tools).
_ISO_ZONE_WORD = re.compile(
    rf"^(\d{{4}}-\d{{2}}-\d{{2}}[T ]\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d{{1,9}})?)?) {_ZONE}$"
)
_ISO_AWARE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
_ISO_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")
_ZONE_OFFSET = re.compile(r"^(?:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?$")


def zone(name: str) -> ZoneInfo:
    """The IANA zone configured for a source, or UnreadableFile naming the setting to fix."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnreadableFile(
            f"the configured time zone {name!r} is not an IANA zone name; set "
            "[sources.<platform>] timezone in config.toml to one like 'Europe/Berlin'"
        ) from exc


def parse_instant(value: Any, tz: ZoneInfo) -> datetime | None:
    """A UTC datetime from ISO text, an MTurk-style string or Unix seconds; naive text is in `tz`.

    Raises ValueError with a reason naming the value when it cannot be read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"cannot read time {value!r}: expected {EXPECTED_TIME}")
    if isinstance(value, int | float):
        return _unix_instant(value)
    text = str(value).strip()
    try:
        moment = _parse_text_instant(text, tz)
    except OverflowError:  # a valid layout, but a year no calendar here can hold
        moment = None
    if moment is None:
        raise ValueError(f"cannot read time {text[:80]!r}: expected {EXPECTED_TIME}")
    return moment


def _unix_instant(value: float) -> datetime:
    seconds = value / 1000 if value > 1e11 else value  # milliseconds since the epoch
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"time {value!r} (Unix seconds) is out of any plausible range") from exc


def _parse_text_instant(text: str, tz: ZoneInfo) -> datetime | None:
    if match := _MTURK_TIME.match(text):
        naive = datetime.strptime(f"{match.group(1)} {match.group(3)}", "%a %b %d %H:%M:%S %Y")
        return _shift(naive, _offset_minutes(text, match.group(2)))
    if match := _ISO_ZONE_WORD.match(text):
        naive = datetime.fromisoformat(match.group(1))
        return _shift(naive, _offset_minutes(text, match.group(2)))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
        for fmt in _NAIVE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _shift(naive: datetime, offset_minutes: int) -> datetime:
    return (naive - timedelta(minutes=offset_minutes)).replace(tzinfo=UTC)


def _offset_minutes(text: str, name: str) -> int:
    """The UTC offset a zone word or `GMT+05:30` stands for; ValueError for unknown words."""
    if match := _ZONE_OFFSET.match(name):
        sign = -1 if match.group(1) == "-" else 1
        return sign * (int(match.group(2)) * 60 + int(match.group(3) or 0))
    offset = ZONE_OFFSET_MINUTES.get(name)
    if offset is None:
        raise ValueError(
            f"time {text!r} is in zone {name!r}, which Crowdmeter does not "
            f"know; known zones: {', '.join(ZONE_OFFSET_MINUTES)}"
        )
    return offset


# --- Polars expressions (vectorized CSV formats) ------------------------------------------
#
# Times are parsed with one fast layout per column, chosen from a sample of its values; the
# values the fast path leaves null are re-read one by one with `parse_instant` (see
# `canonical.repair_values`), which either reads them or gives the reject reason.


def time_layout(sample: list[str]) -> str:
    """The layout most of `sample` is written in: 'mturk', 'iso_zone_word', 'iso_aware',
    'iso_naive' or a naive strptime format."""
    votes: dict[str, int] = {}
    for value in sample:
        layout = _layout_of(value.strip())
        if layout:
            votes[layout] = votes.get(layout, 0) + 1
    return max(votes, key=votes.__getitem__) if votes else "mturk"


def _layout_of(text: str) -> str | None:
    if _MTURK_TIME.match(text):
        return "mturk"
    if _ISO_ZONE_WORD.match(text):
        return "iso_zone_word"
    if _ISO_AWARE.match(text):
        return "iso_aware"
    if _ISO_NAIVE.match(text):
        return "iso_naive"
    for fmt in _NAIVE_FORMATS:
        try:
            datetime.strptime(text, fmt)
            return fmt
        except ValueError:
            continue
    return None


def instant_expr(column: str, tz: str, layout: str) -> pl.Expr:
    """UTC instants from a string column written in `layout`; other values become null."""
    text = pl.col(column).str.strip_chars()
    words = [f" {z}" for z in ZONE_OFFSET_MINUTES]
    offsets = [_offset_text(m) for m in ZONE_OFFSET_MINUTES.values()]
    if layout == "mturk":
        zoned = text.str.replace_many([f"{w} " for w in words], [f" {o} " for o in offsets])
        return zoned.str.strptime(UTC_TS, "%a %b %d %H:%M:%S %z %Y", strict=False)
    if layout in ("iso_aware", "iso_zone_word"):
        if layout == "iso_zone_word":
            text = text.str.replace_many(words, offsets)
        return text.str.replace(" ", "T", literal=True).str.strptime(
            UTC_TS, "%Y-%m-%dT%H:%M:%S%.f%#z", strict=False
        )
    fmt = "%Y-%m-%dT%H:%M:%S%.f" if layout == "iso_naive" else layout
    naive = text.str.strptime(pl.Datetime("us"), fmt, strict=False)
    local = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone("UTC")


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
