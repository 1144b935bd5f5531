"""Any long-format table of ratings, with a column mapping: one row per rating.

For research datasets (CrowdTruth's standardized files, Snow et al.'s RTE) and platforms with
no importer. Never detected: `crowdmeter ingest FILE --map unit=C,worker=C,label=C[,gold=C]
[,started=C][,submitted=C][,field=NAME]` chooses it, for CSV, TSV, Parquet or JSON lines.
Each row is one assignment (`platform:` + a hash of project, unit and worker) holding one
answer to `field` (default: the label column's name); `gold`, where given, is the unit's gold
answer. `--platform` names the platform (default `longform`), `--project` the project
(default: the file's stem).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from etl.sources.base import ParseResult, SourceOptions, UnreadableFile
from etl.sources.common import file_stem, number_or_none, platform_name, stable_uid
from etl.sources.records import RowCollector
from etl.sources.times import parse_instant, zone

FORMAT = "longform"
NEEDED = ("unit", "worker", "label")
KNOWN = (*NEEDED, "gold", "started", "submitted", "field")


def sniff(head: bytes) -> bool:
    return False  # chosen by --map only: any table could be one


def check_mapping(mapping: dict[str, str]) -> None:
    """UnreadableFile naming what a `--map` lacks or does not know."""
    unknown = sorted(set(mapping) - set(KNOWN))
    missing = [key for key in NEEDED if key not in mapping]
    if unknown or missing:
        raise UnreadableFile(
            f"--map {'lacks ' + ', '.join(missing) if missing else ''}"
            f"{'; ' if missing and unknown else ''}"
            f"{'does not know ' + ', '.join(unknown) if unknown else ''}: give "
            "unit=COLUMN,worker=COLUMN,label=COLUMN and optionally gold, started, submitted "
            "(columns) and field (the answer field's name)"
        )


def read_table(path: Path) -> pl.DataFrame:
    """Every column as text, whatever the file type."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path).cast(pl.String)
        if suffix in (".jsonl", ".ndjson", ".json"):
            return pl.read_ndjson(path, infer_schema_length=None).cast(pl.String)
        separator = "\t" if suffix in (".tsv", ".tab") else ","
        return pl.read_csv(path, separator=separator, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableFile(f"{path.name} cannot be read as a table ({first})") from exc


def parse(path: Path, options: SourceOptions) -> ParseResult:
    mapping = dict(options.mapping or {})
    check_mapping(mapping)
    table = read_table(path)
    columns = {key: mapping[key] for key in KNOWN if key in mapping and key != "field"}
    absent = [f"{key}={column}" for key, column in columns.items() if column not in table.columns]
    if absent:
        raise UnreadableFile(
            f"{path.name} has no column {', '.join(absent)}; its columns are "
            f"{', '.join(table.columns[:30])}"
        )
    platform = platform_name(options, FORMAT)
    project = options.project or file_stem(path)
    field = mapping.get("field") or columns["label"]
    tz = zone(options.source.timezone)
    collector = RowCollector(platform, FORMAT)
    picked = table.select(
        [pl.col(column).alias(key) for key, column in columns.items()]
    ).with_row_index("record_no", offset=1)
    for row in picked.iter_rows(named=True):
        with collector.record(row["record_no"], {k: row[k] for k in columns}):
            unit, worker = row["unit"], row["worker"]
            uid = stable_uid(platform, project, unit, worker)
            collector.assignment(
                {
                    "assignment_uid": uid,
                    "project_id": project,
                    "item_id": unit,
                    "worker_id": worker,
                    "started_at": parse_instant(row.get("started"), tz),
                    "submitted_at": parse_instant(row.get("submitted"), tz),
                    "status": "submitted",
                    "is_gold": row.get("gold") is not None,
                }
            )
            if row["label"] is not None:
                gold = row.get("gold")
                value = row["label"]
                collector.answer(uid, field, value, number_or_none(value), gold_value=gold)
            if row.get("gold") is not None:
                collector.item(project, unit, gold_value=row["gold"])
    return collector.result(rows_read=picked.height)
