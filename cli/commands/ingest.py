"""`crowdmeter ingest PATH...`: import export files or folders into the warehouse, then publish."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from cli.output import print_json
from etl.errors import UserError

if TYPE_CHECKING:
    from etl.settings import Settings

JSON_FIELDS = (
    "path",
    "format",
    "rows_read",
    "rows_inserted",
    "rows_updated",
    "rows_rejected",
    "status",
    "error",
    "notes",
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "ingest",
        help="import files or folders into the warehouse",
        description="Import platform exports (files or folders) in one run and publish a snapshot.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--format", dest="fmt", help="format of every file (default: detect)")
    parser.add_argument("--platform", help="platform name to record (default: the format's)")
    parser.add_argument("--project", help="project id to record (default: from the file)")
    parser.add_argument(
        "--map",
        dest="mapping",
        metavar="ROLE=COLUMN,...",
        help="read any long-format table (CSV, TSV, Parquet, JSON lines; one row per rating) "
        "with this column mapping: unit=,worker=,label= and optionally gold=, started=, "
        "submitted=, field=NAME (docs/IMPORTING.md, longform)",
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="read files already loaded again (after changing their settings); by default a "
        "file whose bytes were loaded before changes nothing",
    )
    parser.add_argument("--json", action="store_true", help="print per-file results as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.load import LoadOptions, ingest
    from etl.publish import FiguresNotRebuilt
    from etl.warehouse import WarehouseBusy

    mapping = _mapping(args.mapping) if args.mapping else None
    if mapping is not None:
        args.fmt = "longform"
    try:
        options = LoadOptions(
            fmt=args.fmt,
            platform=args.platform,
            project=args.project,
            progress=not args.json and sys.stderr.isatty(),
            again=args.again,
            mapping=mapping,
        )
        report = ingest(settings, args.paths, options)
    except WarehouseBusy as exc:
        raise UserError(str(exc)) from None
    except FiguresNotRebuilt as exc:
        if exc.report is not None:
            _print_report(exc.report, args.json, figures_error=str(exc))
        traceback.print_exception(exc.__cause__, file=sys.stderr)
        raise UserError(str(exc)) from None
    _print_report(report, args.json)
    return 0 if report.status == "succeeded" else 1


def _print_report(report, as_json: bool, figures_error: str | None = None) -> None:
    if as_json:
        payload = {
            "run_id": report.run_id,
            "status": report.status,
            "snapshot": report.snapshot,
            "files": [{k: getattr(f, k) for k in JSON_FIELDS} for f in report.files],
        }
        if figures_error is not None:
            payload["figures_error"] = figures_error
        print_json(payload)
    else:
        print_summary(report)


def print_summary(report) -> None:
    """One line per file, then the run's outcome; problems go to stderr."""
    for f in report.files:
        if f.status == "failed":
            print(f"FAILED  {f.path}\n        {f.error}", file=sys.stderr)
            continue
        if f.status == "skipped":
            print(f"skipped   {f.path}  (not an export: {f.error})")
            continue
        print(
            f"{f.status:<9} {f.path}  [{f.format}] read {f.rows_read:,}, new {f.rows_inserted:,},"
            f" updated {f.rows_updated:,}, rejected {f.rows_rejected:,}"
        )
        for note in f.notes:
            print(f"          note: {note}")
        if f.rows_rejected:
            print(
                f"          see the rejected records with `crowdmeter status --rejects {f.file_id}`"
            )
    published = f"published snapshot {report.snapshot}" if report.snapshot else "rows published"
    print(f"run {report.run_id}: {report.status}; {published}")


def _mapping(text: str) -> dict[str, str]:
    """`unit=orig_id,worker=w` as {'unit': 'orig_id', 'worker': 'w'}."""
    pairs = [part.partition("=") for part in text.split(",") if part.strip()]
    bad = [key for key, sep, value in pairs if not sep or not key.strip() or not value.strip()]
    if bad:
        raise UserError(
            f"--map takes ROLE=COLUMN pairs separated by commas; {bad[0]!r} is not one."
        )
    return {key.strip(): value.strip() for key, _, value in pairs}
