"""Importers: one module per export format, found by content or named with `--format`.

`parse_file(path)` detects the format from the file's first bytes (header names, JSON keys)
and returns canonical frames with raw ids plus rejects; `detect_format` says why a file is
not importable when it is not (empty, binary, compressed, cut short, unknown).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from etl.sources import (
    appen,
    asana,
    csvfiles,
    cvat,
    doccano,
    earnings,
    jira,
    labelbox,
    labelstudio,
    longform,
    milestones,
    mturk,
    prodigy,
    projects,
    sagemaker,
    scope_changes,
    toggl,
    toloka,
    workers,
)
from etl.sources.base import ParseResult, SourceOptions, UnreadableFile
from etl.sources.plausible import reject_implausible_times
from etl.sources.records import decode_json

HEAD_BYTES = 64 * 1024
# Sniffing order matters where formats overlap: the consolidated-only exports are recognised
# first (to explain why they cannot load), Prodigy before doccano (both JSONL with "text"),
# milestones before projects (a projects file has milestone-like columns too).
FORMATS: dict[str, ModuleType] = {
    module.FORMAT: module
    for module in (
        cvat,
        sagemaker,
        mturk,
        toloka,
        appen,
        toggl,
        labelstudio,
        labelbox,
        prodigy,
        doccano,
        earnings,
        projects,
        milestones,
        scope_changes,
        asana,
        jira,
        workers,  # survey answers: worker_id and answered_on
        longform,
    )
}
IMPORTABLE = [name for name, module in FORMATS.items() if not getattr(module, "NO_WORKERS", False)]
# The delimited formats: a rejected line of theirs is split by its file's header to be scrubbed.
DELIMITERS = {"mturk": ",", "toloka": "\t", "appen": ",", "toggl": ",", "earnings": ",",
              "projects": ",", "milestones": ",", "scope_changes": ",",
              "workers": ","}  # fmt: skip
JSON_PARSE_LIMIT = 256 * 1024 * 1024  # bigger JSON documents are not re-read just to explain

_COMPRESSED = {
    b"PK\x03\x04": "a zip archive",
    b"\x1f\x8b": "gzip-compressed",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ": "xz-compressed",
}


def detect_format(path: Path) -> str:
    """The format name of `path` from its content; UnreadableFile says why none fits."""
    return _detect(path, _head(path))


def _detect(path: Path, head: bytes) -> str:
    for name, module in FORMATS.items():
        if module.sniff(head):
            return name
    raise UnreadableFile(_unknown_reason(path, head))


def parse_file(
    path: Path, fmt: str | None = None, options: SourceOptions = SourceOptions()
) -> ParseResult:
    """Canonical frames and rejects of one file; `fmt` overrides detection."""
    path = Path(path)
    fmt, head = _format_and_head(path, fmt)
    parsed = reject_implausible_times(FORMATS[fmt].parse(path, options), options.limits)
    return _with_header(parsed, head)


def parse_batches(
    path: Path, fmt: str | None = None, options: SourceOptions = SourceOptions()
) -> Iterator[ParseResult]:
    """`parse_file` in parts, for formats that can read a big file a slice at a time (the
    loader merges each part inside the file's one transaction); others come whole."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    module = FORMATS.get(fmt)
    if module is None or not hasattr(module, "parse_batches"):
        yield parse_file(path, fmt, options)
        return
    head = _head(path)
    for part in module.parse_batches(path, options):
        yield _with_header(reject_implausible_times(part, options.limits), head)


def _format_and_head(path: Path, fmt: str | None) -> tuple[str, bytes]:
    """The format (detected unless given) and the first bytes of a readable file."""
    if fmt is not None and fmt not in FORMATS:
        raise UnreadableFile(
            f"--format {fmt!r} is not a format Crowdmeter knows; use one of: "
            f"{', '.join(IMPORTABLE)}"
        )
    if fmt == longform.FORMAT:  # a mapped table, Parquet included: no text head to check
        return fmt, b""
    head = _head(path)  # an empty or binary file fails the same way whatever the format
    return fmt or _detect(path, head), head


def _with_header(result: ParseResult, head: bytes) -> ParseResult:
    """`result` with its file's header read from the first bytes, if the format is delimited."""
    delimiter = DELIMITERS.get(result.format)
    if delimiter is not None:
        result.header = csvfiles.header_from_head(head, delimiter)
        result.delimiter = delimiter
    return result


def _head(path: Path) -> bytes:
    if not path.is_file():
        raise UnreadableFile(f"{path} is not a file; give the path of an export file")
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head.strip():
        raise UnreadableFile(f"{path.name} is empty: export the data again and re-run ingest")
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            raise UnreadableFile(f"{path.name} is {kind}: unpack it and ingest the files inside")
    if b"\x00" in head or not _is_utf8(head):
        raise UnreadableFile(
            f"{path.name} is a binary file or not UTF-8 text; Crowdmeter reads CSV, TSV, "
            "JSON and JSONL exports saved as UTF-8"
        )
    return head


def _is_utf8(head: bytes) -> bool:
    # A full head may end inside a multi-byte character: then allow up to 3 trailing bytes.
    for cut in range(4 if len(head) == HEAD_BYTES else 1):
        try:
            head[: len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def _unknown_reason(path: Path, head: bytes) -> str:
    known = ", ".join(IMPORTABLE)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"[", b"{") and path.stat().st_size <= JSON_PARSE_LIMIT:
        try:
            decode_json(path.read_bytes().decode("utf-8-sig"))
        except UnicodeDecodeError:
            return f"{path.name} is not UTF-8 text; export it again as UTF-8"
        except json.JSONDecodeError as exc:
            if not _is_json_lines(path):
                return (
                    f"{path.name} is not complete JSON ({exc.msg} at line {exc.lineno}, "
                    f"column {exc.colno}); the file may be cut short: export it again"
                )
    return (
        f"{path.name} matches none of the formats Crowdmeter knows ({known}): its header "
        "or keys fit none of them. Pass --format if you know what it is, or see "
        "docs/IMPORTING.md for the columns each format needs"
    )


def _is_json_lines(path: Path) -> bool:
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        decode_json(first)
    except json.JSONDecodeError:
        return False
    return True
