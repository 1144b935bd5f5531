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

MAX_RAW_CHARS = 2000

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

    return parsed.rejects.with_columns(
        pl.col("raw").map_elements(
            lambda raw: scrub_record(raw, parsed.header, parsed.delimiter, pseudonym),
            return_dtype=pl.String,
        )
    )


def scrub_record(
    raw: str,
    header: list[str] | None,
    delimiter: str | None,
    pseudonym: Callable[[str], str],
) -> str:
    """`raw` with personal values replaced; `pseudonym(raw_id)` names a value's replacement."""
    text = raw
    if raw.lstrip().startswith(("{", "[")):
        text = _scrub_json(raw, pseudonym)
    elif header and delimiter:
        text = _scrub_delimited(raw, header, delimiter, pseudonym)
    return mask_personal_data(text)[:MAX_RAW_CHARS]


def _scrub_delimited(
    raw: str, header: list[str], delimiter: str, pseudonym: Callable[[str], str]
) -> str:
    try:
        fields = next(csv.reader(io.StringIO(raw), delimiter=delimiter))
    except (csv.Error, StopIteration):
        return "<unparseable record withheld: it may hold personal data>"
    cleaned = [
        pseudonym(value) if i < len(header) and _PERSONAL_KEY.search(header[i]) and value else value
        for i, value in enumerate(fields)
    ]
    # Fields past the header have no name to judge by: keep only their count.
    extra = len(fields) - len(header)
    if extra > 0:
        cleaned = cleaned[: len(header)] + [f"<{extra} extra fields withheld>"]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cleaned)
    return out.getvalue()


def _scrub_json(raw: str, pseudonym: Callable[[str], str]) -> str:
    try:
        value = json.loads(raw)
    except ValueError:
        return "<invalid JSON record withheld: it may hold personal data>"
    return json.dumps(_scrub_value(value, pseudonym), ensure_ascii=False)


def _scrub_value(value: Any, pseudonym: Callable[[str], str], personal: bool = False) -> Any:
    if isinstance(value, dict):
        return {
            k: _scrub_value(v, pseudonym, personal or bool(_PERSONAL_KEY.search(str(k))))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub_value(v, pseudonym, personal) for v in value]
    if personal and value is not None and not isinstance(value, bool):
        return pseudonym(str(value))
    return value
