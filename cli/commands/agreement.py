"""`crowdmeter agreement FILE`: agreement coefficients of any long-format CSV, Parquet or JSONL.

The metrics import inside `run`, so building the parser for other commands stays quick.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cli.output import print_json
from etl.errors import UserError
from metrics.catalog import CATALOG, LEVELS

if TYPE_CHECKING:
    import polars as pl

    from etl.settings import Settings
    from metrics.agreement import AgreementReport, Coefficient

# How each coefficient reads, grouped raw, chance-corrected, prevalence-robust (docs/METRICS.md).
TITLES = {name: (metric.family, metric.title) for name, metric in CATALOG.items() if metric.family}
READERS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "agreement",
        help="agreement coefficients of a long-format ratings file",
        description=(
            "Inter-annotator agreement of a long-format file (one row per rating: unit, coder, "
            "value) in CSV, TSV, Parquet or JSONL, with bootstrap intervals over units."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--unit", default="unit", help="column naming the rated item")
    parser.add_argument("--coder", default="coder", help="column naming the annotator")
    parser.add_argument("--value", default="value", help="column holding the rating")
    parser.add_argument(
        "--level", default="nominal", help=f"level of measurement: {', '.join(LEVELS)}"
    )
    parser.add_argument(
        "--categories",
        help="comma-separated categories in scale order (needed for ordered words: low,mid,high)",
    )
    parser.add_argument(
        "--bootstrap", type=int, help="resamples for the intervals (default: settings; 0 = none)"
    )
    parser.add_argument(
        "--single-rated",
        choices=("ignore", "chance"),
        default="ignore",
        help="units with one rating: ignore them, or count them in chance marginals (irrCAC)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from metrics.agreement import agreement_report

    if args.level not in LEVELS:
        raise UserError(f"Unknown level {args.level!r}. Use one of: {', '.join(LEVELS)}.")
    frame = read_ratings(args.file, args.unit, args.coder, args.value)
    samples = settings.agreement.bootstrap_samples if args.bootstrap is None else args.bootstrap
    categories = [c.strip() for c in args.categories.split(",")] if args.categories else None
    try:
        report = agreement_report(
            frame,
            args.level,
            categories=categories,
            bootstrap_samples=max(samples, 0),
            confidence=settings.agreement.confidence,
            seed=settings.agreement.seed,
            single_rated=args.single_rated,
        )
    except ValueError as exc:
        raise UserError(f"{args.file}: {exc}") from None
    if args.json:
        print_json({"file": str(args.file)} | report.as_dict())
    else:
        print(render_report(report, str(args.file)))
    return 0


def read_ratings(path: Path, unit: str, coder: str, value: str) -> pl.DataFrame:
    """A long-format file's ratings as columns unit, coder, value (named by --unit, --coder and
    --value), for every command that reads one."""
    import polars as pl

    columns = {"unit": unit, "coder": coder, "value": value}
    frame = read_long_format(path, text_columns=[unit, coder])
    missing = [f"{col!r} (--{flag})" for flag, col in columns.items() if col not in frame.columns]
    if missing:
        raise UserError(
            f"{path} has no column {', '.join(missing)}. Columns present: "
            f"{', '.join(frame.columns)}. Name the right ones with --unit, --coder and --value."
        )
    return frame.select(pl.col(col).alias(role) for role, col in columns.items())


def read_long_format(path: Path, text_columns: list[str] | None = None) -> pl.DataFrame:
    """Read a CSV, TSV, Parquet or JSONL file; in CSV, `text_columns` stay text ("007" != "7")."""
    import polars as pl

    if not path.is_file():
        raise UserError(f"{path} does not exist or is not a file. Pass a CSV, Parquet or JSONL.")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise UserError(
            f"{path}: unknown file type {path.suffix!r}. Use .csv, .tsv, .parquet or .jsonl."
        )
    try:
        if kind == "parquet":
            return pl.read_parquet(path)
        if kind == "jsonl":
            return pl.read_ndjson(path, infer_schema_length=10_000)
        separator = "\t" if kind == "tsv" else ","
        overrides = dict.fromkeys(text_columns or [], pl.String)
        return pl.read_csv(
            path, separator=separator, infer_schema_length=10_000, schema_overrides=overrides
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"Could not read {path} as {kind}: {first_line}. Check the file type and contents."
        ) from None


def render_report(report: AgreementReport, name: str) -> str:
    """A readable table: counts, then one line per coefficient grouped by kind."""
    level = report.level
    lines = [
        f"{name}: {report.n_units} units, {report.n_coders} coders, {report.n_values} ratings",
        f"pairable: {report.n_pairable_units} units with 2+ ratings, "
        f"{report.n_pairable_values} ratings; level {level}",
    ]
    interval = (
        f"{report.confidence:.0%} interval ({report.bootstrap_samples} resamples)"
        if report.bootstrap_samples
        else "interval"
    )
    lines += ["", f"{'kind':<18} {'coefficient':<34} {'value':>8}  {interval}"]
    kinds = ["raw", "chance-corrected", "prevalence-robust", ""]
    rows = sorted(
        report.coefficients.items(), key=lambda item: kinds.index(TITLES.get(item[0], ("",))[0])
    )
    for coefficient, coef in rows:
        kind, title = TITLES.get(coefficient, ("", coefficient))
        lines.append(f"{kind:<18} {title:<34} {format_coefficient(coef)}")
    return "\n".join(lines)


def format_coefficient(coef: Coefficient) -> str:
    """`value  [low, high]`, or `undefined  reason`."""
    if coef.value is None:
        return f"{'undefined':>8}  {coef.undefined_reason}"
    if coef.ci_low is None or coef.ci_high is None:
        return f"{coef.value:>8.4f}"
    return f"{coef.value:>8.4f}  [{coef.ci_low:.4f}, {coef.ci_high:.4f}]"
