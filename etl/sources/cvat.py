"""CVAT for images 1.1 XML: recognised only to explain why it cannot be imported.

The export names the task's owner and assignee but no author or time per shape, so it holds
no per-worker records.
"""

from __future__ import annotations

from pathlib import Path

from etl.sources.base import ParseResult, SourceOptions, UnreadableFile

FORMAT = "cvat"
NO_WORKERS = True


def sniff(head: bytes) -> bool:
    text = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<?xml") and b"<annotations>" in head and b"<version>" in head


def parse(path: Path, options: SourceOptions) -> ParseResult:
    raise UnreadableFile(
        f"{path.name} is a CVAT XML export: it holds consolidated labels only, no per-worker "
        "records; Crowdmeter cannot compute worker metrics from it (log the work with Toggl or "
        "the earnings template instead)"
    )
