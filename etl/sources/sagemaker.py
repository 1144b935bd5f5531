"""SageMaker Ground Truth output manifest: recognised only to explain why it cannot be imported.

Each line carries the consolidated label of one object and its metadata, not the individual
workers' answers (those live in the job's worker-response files).
"""

from __future__ import annotations

from pathlib import Path

from etl.sources.base import ParseResult, SourceOptions, UnreadableFile
from etl.sources.records import decode_json

FORMAT = "sagemaker"
NO_WORKERS = True


def sniff(head: bytes) -> bool:
    first = head.split(b"\n", 1)[0]
    try:
        record = decode_json(first)
    except ValueError:
        return b'"source-ref"' in first and b'-metadata"' in first
    if not isinstance(record, dict) or not ({"source-ref", "source"} & set(record)):
        return False
    return any(key.endswith("-metadata") for key in record)


def parse(path: Path, options: SourceOptions) -> ParseResult:
    raise UnreadableFile(
        f"{path.name} is a SageMaker Ground Truth output manifest: it holds consolidated "
        "labels only, no per-worker records; Crowdmeter cannot compute worker metrics from "
        "it (the individual answers stay in the job's worker-response files on S3)"
    )
