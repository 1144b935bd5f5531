"""Record-by-record importing for JSON exports: reading documents and lines, collecting rows.

JSON exports nest answers in ways no columnar reader flattens, so these importers walk each
record in Python and hand rows to a `RowCollector`, which numbers answer ordinals, keeps one
row per worker and item, and turns a record's failure into a reject instead of a crash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from etl.sources.base import SCHEMAS, ParseResult, UnreadableFile, rejects_frame

RAW_LIMIT = 4000  # characters of a rejected record kept for inspection
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


class RecordError(ValueError):
    """One record cannot be imported; the message is the reject reason."""


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def decode_json(text: str | bytes, constants: bool = True) -> Any:
    """`json.loads` whose every failure is a `json.JSONDecodeError` with a reason a user can
    read: nesting deeper than Python's reader allows (about 1,000 levels: never a real export)
    and integers over 4,300 digits raise RecursionError and ValueError there, not a decode
    error. `constants=False` refuses NaN and Infinity, which Python reads and JSON has not
    (for text another reader must parse). An escaped lone surrogate (`"\\ud800"`, text no
    UTF-8 can hold) reads as U+FFFD. Every importer and sniffer decodes through here."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise json.JSONDecodeError("not UTF-8 text", "", 0) from None
    if "\\u" in text:
        text = _LONE_SURROGATE.sub(r"\\ufffd", text)
    try:
        return json.loads(text) if constants else json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        reason = "values nested too deeply (over about 1,000 levels)"
    except ValueError:
        reason = "a number too long to read (over 4,300 digits)"
    raise json.JSONDecodeError(reason, text, 0) from None


def load_json_document(path: Path, fmt: str) -> Any:
    """A whole JSON document; UnreadableFile when it is cut short or not JSON at all."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path.name} is not UTF-8 text; export it again as UTF-8") from exc
    try:
        return decode_json(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(
            f"{path.name} is not complete JSON ({exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}); the file may be cut short or not a {fmt} export: export it again"
        ) from exc


def json_lines(path: Path) -> Iterator[tuple[int, str, Any]]:
    """(line number, raw line, decoded value or the JSONDecodeError) of each non-blank line."""
    with path.open(encoding="utf-8-sig", errors="strict") as fh:
        try:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, line.rstrip("\r\n"), decode_json(line)
                except json.JSONDecodeError as exc:
                    yield number, line.rstrip("\r\n"), exc
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"{path.name} is not UTF-8 text; export it again as UTF-8"
            ) from exc


def collect_json_lines(path: Path, collector: RowCollector, handle: Callable[[Any], None]) -> int:
    """Feed each line's decoded record to `handle` inside `collector.record`; lines that are
    not JSON become rejects. Returns the number of records read."""
    rows_read = 0
    for line_no, line, record in json_lines(path):
        rows_read += 1
        if isinstance(record, Exception):
            collector.reject(line_no, invalid_line_reason(record), line)
            continue
        with collector.record(line_no, line):
            if not isinstance(record, dict):
                raise RecordError("the line is JSON but not an object; expected one per line")
            handle(record)
    return rows_read


def invalid_line_reason(exc: json.JSONDecodeError) -> str:
    return (
        f"the line is not valid JSON ({exc.msg} at character {exc.pos}); the record may be "
        "cut short: fix or remove the line"
    )


def raw_text(record: Any) -> str:
    text = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)
    return text[:RAW_LIMIT]


@dataclass
class RowCollector:
    """Canonical rows of one file, gathered record by record.

    Rows are added inside `with collector.record(record_no, raw):`; when the block raises
    a `ValueError` (RecordError included), everything the record added is taken back and the
    record becomes a reject with the error's message as reason.
    """

    platform: str
    fmt: str
    assignments: list[dict[str, Any]] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    _ordinals: dict[str, dict[str, int]] = field(default_factory=dict)  # uid -> field -> next
    _pending: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _first_seen: dict[str, int] = field(default_factory=dict)  # uid -> record that added it
    _record_no: int = 0

    @contextmanager
    def record(self, record_no: int, raw: Any) -> Iterator[None]:
        marks = (len(self.assignments), len(self.annotations))
        self._pending = []
        self._record_no = record_no
        try:
            yield
            self._check_text(marks)
        except (
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            IndexError,
            ArithmeticError,
        ) as exc:
            for row in self.assignments[marks[0] :]:
                self._ordinals.pop(row["assignment_uid"], None)
                if self._first_seen.get(row["assignment_uid"]) == record_no:
                    del self._first_seen[row["assignment_uid"]]
            del self.assignments[marks[0] :]
            del self.annotations[marks[1] :]
            self.reject(record_no, _reason(exc, self.fmt), raw)
        else:
            for kind, args in self._pending:
                (self._add_worker if kind == "worker" else self._add_item)(*args)
        finally:
            self._pending = []

    def _check_text(self, marks: tuple[int, int]) -> None:
        """Every text column of the record's rows holds text: a list or an object where an id
        or a value belongs (a damaged export) rejects the record instead of failing the file."""
        added = [
            ("assignments", self.assignments[marks[0] :]),
            ("annotations", self.annotations[marks[1] :]),
            *(
                (kind + "s", [dict(zip(_PENDING[kind], args, strict=False))])
                for kind, args in self._pending
            ),
        ]
        for table, rows in added:
            schema = SCHEMAS[table]
            for row in rows:
                for key, value in row.items():
                    if (
                        value is not None
                        and schema.get(key) == pl.String
                        and not isinstance(value, str)
                    ):
                        raise RecordError(
                            f"{key} is {type(value).__name__} {str(value)[:40]!r} where text "
                            "belongs; the record may be damaged"
                        )

    def reject(self, record_no: int, reason: str, record: Any) -> None:
        self.rejects.append({"record_no": record_no, "reason": reason, "raw": raw_text(record)})

    def assignment(self, row: dict[str, Any]) -> None:
        row.setdefault("platform", self.platform)
        if row.get("worker_id") in (None, ""):
            raise RecordError("the record names no worker (annotator); it cannot be attributed")
        row["worker_id"] = str(row["worker_id"])
        uid = row["assignment_uid"]
        if uid in self._first_seen:
            raise RecordError(
                f"assignment {uid} appears again (first in record {self._first_seen[uid]}): "
                "the same worker answered the same task twice; only the first is kept"
            )
        self._first_seen[uid] = self._record_no
        self.assignments.append(row)
        self.worker(row["worker_id"])
        self.item(row["project_id"], row["item_id"])

    def answer(
        self,
        uid: str,
        field_name: str,
        value: Any,
        value_num: float | None = None,
        region: dict[str, Any] | None = None,
        gold_value: str | None = None,
    ) -> None:
        """One answer row; repeated answers of one field get ordinals 0, 1, ..."""
        fields = self._ordinals.setdefault(uid, {})
        ordinal = fields.get(field_name, 0)
        fields[field_name] = ordinal + 1
        self.annotations.append(
            {
                "assignment_uid": uid,
                "field": field_name,
                "value": None if value is None else str(value),
                "value_num": value_num,
                "region": None if region is None else json.dumps(region, sort_keys=True),
                "gold_value": gold_value,
                "ordinal": ordinal,
            }
        )

    def worker(
        self, worker_id: str, country: str | None = None, attributes: str | None = None
    ) -> None:
        self._pending.append(("worker", (worker_id, country, attributes)))

    def item(
        self,
        project_id: str,
        item_id: str,
        gold_value: str | None = None,
        attributes: str | None = None,
    ) -> None:
        self._pending.append(("item", (project_id, item_id, gold_value, attributes)))

    def result(self, rows_read: int, notes: list[str] | None = None) -> ParseResult:
        frames = {
            "assignments": self.assignments,
            "annotations": self.annotations,
            "workers": list(self.workers.values()),
            "items": list(self.items.values()),
        }
        return ParseResult(
            format=self.fmt,
            platform=self.platform,
            rows_read=rows_read,
            frames={name: frame_of(name, rows) for name, rows in frames.items()},
            rejects=rejects_frame(self.rejects),
            notes=notes or [],
        )

    def _add_worker(self, worker_id: str, country: str | None, attributes: str | None) -> None:
        known = self.workers.setdefault(
            worker_id, {"worker_id": worker_id, "platform": self.platform}
        )
        if country:
            known["country"] = country
        if attributes:
            known["attributes"] = attributes

    def _add_item(
        self, project_id: str, item_id: str, gold_value: str | None, attributes: str | None
    ) -> None:
        known = self.items.setdefault(
            (project_id, item_id),
            {"platform": self.platform, "project_id": project_id, "item_id": item_id},
        )
        if gold_value is not None:
            known["gold_value"] = gold_value
        if attributes:
            known["attributes"] = attributes


# The canonical columns `worker()` and `item()` take, in their order, for `_check_text`.
_PENDING = {
    "worker": ("worker_id", "country", "attributes"),
    "item": ("project_id", "item_id", "gold_value", "attributes"),
}


def frame_of(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A frame of canonical rows with the table's schema (also when there are no rows)."""
    schema = SCHEMAS[table]
    if not rows:
        return pl.DataFrame(schema=schema)
    keys = dict.fromkeys(key for row in rows for key in row)
    return pl.DataFrame(rows, schema={key: schema[key] for key in keys})


def _reason(exc: Exception, fmt: str) -> str:
    if isinstance(exc, ValueError):
        return str(exc)
    if isinstance(exc, ArithmeticError):  # a duration or number beyond any real one
        return f"a number in the record is out of range ({exc})"
    # A missing key or a value of the wrong kind: the record is not shaped like the format.
    return f"the record is not shaped like a {fmt} export ({type(exc).__name__}: {exc})"
