"""Make a rejected record safe to keep: ids pseudonymised, personal fields and addresses masked.

Rejected records are stored so a person can see what was wrong, but they are raw input: they
hold worker ids, e-mails, IPs and cities like any other record. Delimited lines are split with
the file's header so id-like columns can be replaced by name; JSON records are walked by key.
Whatever cannot be parsed keeps only text with known ids, e-mails and IPs replaced.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from typing import Any

import polars as pl

from etl.pseudonym import mask_personal_data, pseudonymise
from etl.sources.base import ParseResult
from etl.sources.records import decode_json

MAX_RAW_CHARS = 2000
_MARGIN = 400

# Column or key names whose values identify a person: replaced, never kept.
_PERSONAL_KEY = re.compile(
    r"(worker|annotator|user|reviewer|created_by|completed_by|updated_by|email|e-mail|"
    r"_ip$|^ip$|ip_address|city|name$|session_id)",
    re.IGNORECASE,
)


def scrubbed_rejects(parsed: ParseResult, key: bytes) -> pl.DataFrame:
    """The file's rejects with personal values in their raw text replaced."""
    if parsed.rejects.is_empty():
        return parsed.rejects

    def pseudonym(raw_id: str) -> str:
        return pseudonymise(parsed.platform, raw_id, key)

    people = people_of(parsed)
    return parsed.rejects.with_columns(
        pl.col("raw").map_elements(
            lambda raw: scrub_record(raw, parsed.header, parsed.delimiter, pseudonym, people),
            return_dtype=pl.String,
        )
    )


def people_of(parsed: ParseResult) -> frozenset[str]:
    """Every raw worker and reviewer id the file's loaded rows name: a rejected record's value
    equal to one is a person's id wherever it stands (a short row shifts columns)."""
    ids: set[str] = set()
    for frame in parsed.frames.values():
        for column in ("worker_id", "reviewer_id"):
            if column in frame.columns:
                ids.update(v for v in frame[column].unique().to_list() if v)
    return frozenset(ids)


def scrub_record(
    raw: str,
    header: list[str] | None,
    delimiter: str | None,
    pseudonym: Callable[[str], str],
    people: frozenset[str] = frozenset(),
) -> str:
    """`raw` with personal values replaced; `pseudonym(raw_id)` names a value's replacement.
    Values are judged by where they stand (a personal column or key) and by what they are (one
    of `people`, the file's raw worker ids; an e-mail or IP address anywhere)."""
    text = raw
    if raw.lstrip().startswith(("{", "[")):
        text = _scrub_json(raw, pseudonym, people)
    elif header and delimiter:
        text = _scrub_delimited(raw, header, delimiter, pseudonym, people)
    # Cut before masking (the patterns then see a bounded text), with a margin so an address
    # cut at the edge is masked whole before the final cut removes what is left of it.
    return mask_personal_data(text[: MAX_RAW_CHARS + _MARGIN])[:MAX_RAW_CHARS]


def _scrub_delimited(
    raw: str,
    header: list[str],
    delimiter: str,
    pseudonym: Callable[[str], str],
    people: frozenset[str],
) -> str:
    try:
        fields = next(csv.reader(io.StringIO(raw), delimiter=delimiter))
    except (csv.Error, StopIteration):
        return "<unparseable record withheld: it may hold personal data>"

    def personal(i: int, value: str) -> bool:
        named = i < len(header) and _PERSONAL_KEY.search(header[i]) is not None
        return bool(value) and (named or value.strip() in people)

    cleaned = [pseudonym(v) if personal(i, v) else v for i, v in enumerate(fields)]
    # Fields past the header have no name to judge by: keep only their count.
    extra = len(fields) - len(header)
    if extra > 0:
        cleaned = cleaned[: len(header)] + [f"<{extra} extra fields withheld>"]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cleaned)
    return out.getvalue()


def _scrub_json(raw: str, pseudonym: Callable[[str], str], people: frozenset[str]) -> str:
    try:
        value = _scrub_value(decode_json(raw), pseudonym, people)
    except (ValueError, RecursionError):
        return "<invalid JSON record withheld: it may hold personal data>"
    return json.dumps(value, ensure_ascii=False)


def _scrub_value(
    value: Any, pseudonym: Callable[[str], str], people: frozenset[str], personal: bool = False
) -> Any:
    if isinstance(value, dict):
        return {
            k: _scrub_value(v, pseudonym, people, personal or bool(_PERSONAL_KEY.search(str(k))))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub_value(v, pseudonym, people, personal) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if personal or str(value) in people:
        return pseudonym(str(value))
    if isinstance(value, str) and len(value) > MAX_RAW_CHARS:
        return value[:MAX_RAW_CHARS] + "..."  # the record is cut at MAX_RAW_CHARS anyway
    return value
