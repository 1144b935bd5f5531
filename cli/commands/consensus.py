"""`crowdmeter consensus`: one consensus label per unit, as data, from a long-format file
(`FILE --unit C --coder C --value C`) or from the published snapshot (`--project P [--field F]`,
`etl.consensus`, the rows the Quality page downloads).

The metrics import inside `run`, so building the parser for other commands stays quick.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.output import print_json
from etl.errors import UserError

if TYPE_CHECKING:
    import polars as pl

    from etl.consensus import FieldChoice
    from etl.settings import Settings

METHODS = ("majority", "dawid-skene")
TIES = ("none", "lowest", "random")
WRITERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
FILE_COLUMNS = ("unit", "coder", "value")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "consensus",
        help="one consensus label per unit (majority vote or Dawid-Skene), as CSV or Parquet",
        description=(
            "Consensus labels: one row per unit (unit, label, confidence, n_ratings) from a "
            "long-format file in CSV, TSV, Parquet or JSONL, or per field of a project from the "
            "published snapshot. Confidence is the label's vote share (majority) or posterior "
            "(Dawid-Skene); see docs/METRICS.md, 'Consensus labels'."
        ),
    )
    parser.add_argument("file", type=Path, nargs="?", metavar="FILE")
    parser.add_argument("--unit", help="FILE's column naming the rated item (default: unit)")
    parser.add_argument("--coder", help="FILE's column naming the annotator (default: coder)")
    parser.add_argument("--value", help="FILE's column holding the rating (default: value)")
    parser.add_argument(
        "--project", metavar="PROJECT", help="from the snapshot: PLATFORM:PROJECT_ID, or an id"
    )
    parser.add_argument("--field", help="only this field of --project (default: every field)")
    parser.add_argument(
        "--user", metavar="LOGIN", help="with --project: only what this dashboard login may see"
    )
    parser.add_argument("--method", choices=METHODS, default="majority")
    parser.add_argument(
        "--ties",
        choices=TIES,
        default="none",
        help="a tied unit: no label (none), the first tied label in sort order (lowest), or "
        "one drawn with --seed (random)",
    )
    parser.add_argument(
        "--seed", type=int, help="seed of --ties random (default: the agreement seed setting)"
    )
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="write .csv or .parquet (default: CSV to stdout)"
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    kind = _check_options(args)
    seed = settings.agreement.seed if args.seed is None else args.seed
    if args.file is not None:
        rows, source = file_consensus(args, seed), str(args.file)
    else:
        rows, source = snapshot_consensus(args, settings, seed), f"project {args.project}"
    summary = summarise(rows, source, args.method, args.ties, seed)
    if args.json:
        print_json({**summary, "rows": rows.to_dicts()})
        return 0
    if args.out is None:
        sys.stdout.write(rows.write_csv())
        print(render_summary(summary), file=sys.stderr)
        return 0
    write_rows(rows, args.out, kind)
    print(f"{render_summary(summary)}; wrote {args.out}")
    return 0


def _check_options(args: argparse.Namespace) -> str | None:
    """The --out file's kind; a UserError for options that do not go together."""
    if (args.file is None) == (args.project is None):
        raise UserError(
            "Name a long-format FILE, or a --project of the snapshot (not both). "
            "Example: crowdmeter consensus ratings.csv --unit item --coder worker --value label"
        )
    if args.file is not None:
        given = [f"--{flag}" for flag in ("field", "user") if getattr(args, flag)]
        if given:
            raise UserError(f"{' and '.join(given)} go with --project, not with a FILE.")
    else:
        given = [f"--{flag}" for flag in FILE_COLUMNS if getattr(args, flag)]
        if given:
            raise UserError(
                f"{', '.join(given)}: these name a FILE's columns; the snapshot's are known."
            )
    if args.out is None:
        return None
    kind = WRITERS.get(args.out.suffix.lower())
    if kind is None:
        raise UserError(f"--out {args.out}: unknown file type; end the name in .csv or .parquet.")
    if not args.out.parent.is_dir():
        raise UserError(f"--out {args.out}: folder {args.out.parent} does not exist.")
    return kind


def file_consensus(args: argparse.Namespace, seed: int) -> pl.DataFrame:
    """The consensus rows of a long-format file."""
    import polars as pl

    from cli.commands.agreement import read_ratings
    from metrics.consensus_labels import consensus_labels

    columns = [getattr(args, flag) or flag for flag in FILE_COLUMNS]
    frame = read_ratings(args.file, *columns)
    rated = frame.filter(pl.col("value").is_not_null())
    if rated.is_empty():
        raise UserError(
            f"{args.file} has no ratings: no row has a value in column {columns[2]!r}"
            f"{' (the file is empty)' if frame.is_empty() else ''}."
        )
    if rated["unit"].n_unique() == rated.height:
        raise UserError(
            f"{args.file}: every unit has one rating, so there is nothing to reach consensus "
            f"on. Check that --unit ({columns[0]!r}) names the rated item, not the rating."
        )
    try:
        return consensus_labels(rated, args.method, args.ties, seed)
    except ValueError as exc:
        raise UserError(f"{args.file}: {exc}") from None


def snapshot_consensus(args: argparse.Namespace, settings: Settings, seed: int) -> pl.DataFrame:
    """The consensus rows of a project's fields in the published snapshot."""
    import duckdb

    from etl.consensus import consensus_fields, field_consensus
    from etl.reader import NoSnapshot, SnapshotReader

    reader = SnapshotReader(settings)
    choice = field_choice(args, settings)
    try:
        if consensus_fields(reader.frame, choice).is_empty():
            raise UserError(_no_field_message(reader.frame, choice, args))
        return field_consensus(reader.frame, choice, args.method, args.ties, seed)
    except NoSnapshot as exc:
        raise UserError(str(exc)) from None
    except duckdb.CatalogException:
        raise UserError(
            "The snapshot has no quality figures yet (they are built after each ingest). Wait "
            "for the running ingest to finish, or publish with `crowdmeter ingest PATH...`."
        ) from None


def field_choice(args: argparse.Namespace, settings: Settings) -> FieldChoice:
    """The fields --project, --field and --user name."""
    from etl.consensus import FieldChoice

    platform, project = (None, args.project)
    if ":" in args.project:
        platform, project = args.project.split(":", 1)
    keys = _login_projects(settings, args.user)
    if keys is not None and platform is not None and args.project not in keys:
        raise UserError(f"Login {args.user!r} may not see project {args.project}.")
    return FieldChoice(keys=keys, platform=platform, project_id=project, field=args.field)


def _login_projects(settings: Settings, login: str | None) -> list[str] | None:
    """The projects `login` may download consensus labels of (None: all), by the dashboard's
    access rules."""
    if login is None:
        return None
    from dashboard.access import allowed, scope_of
    from dashboard.users import UserStore

    user = UserStore(settings).get(login)
    if user is None:
        raise UserError(f"No login {login!r}. `crowdmeter users list` shows them.")
    if not allowed(user, "consensus-labels"):
        raise UserError(f"Login {login!r} ({user.role}) may not see per-unit consensus labels.")
    return None if scope_of(user) == "all" else user.project_keys


def _no_field_message(query: Any, choice: FieldChoice, args: argparse.Namespace) -> str:
    from dataclasses import replace

    from etl.consensus import consensus_fields

    known = consensus_fields(query, replace(choice, platform=None, project_id=None, field=None))
    listing = ", ".join(f"{p}:{i} {f}" for p, i, f in known.rows())
    asked = args.project + (f" field {args.field!r}" if args.field else "")
    return (
        f"No categorical field of {asked} in the snapshot. Fields with consensus labels: "
        f"{listing[:600] or 'none'}."
    )


def summarise(rows: pl.DataFrame, source: str, method: str, ties: str, seed: int) -> dict[str, Any]:
    """What the run did, for the summary line and `--json`."""
    import polars as pl

    counts = rows.select(
        units=pl.len(),
        unlabelled=pl.col("label").null_count(),
        single_rated=(pl.col("n_ratings") == 1).sum(),
    ).row(0, named=True)
    return {
        "source": source,
        "method": method,
        "ties": ties,
        "seed": seed if ties == "random" else None,
        **{name: int(value or 0) for name, value in counts.items()},
    }


def render_summary(summary: dict[str, Any]) -> str:
    method = "majority vote" if summary["method"] == "majority" else "Dawid-Skene"
    rule = summary["ties"] + (f", seed {summary['seed']}" if summary["seed"] is not None else "")
    line = f"{summary['source']}: {summary['units']:,} units labelled by {method} (ties {rule})"
    if summary["unlabelled"]:
        line += f"; {summary['unlabelled']:,} tied, left without a label"
    if summary["single_rated"]:
        line += f"; {summary['single_rated']:,} with one rating (their label is that rating)"
    return line


def write_rows(rows: pl.DataFrame, path: Path, kind: str | None) -> None:
    try:
        if kind == "parquet":
            rows.write_parquet(path)
        else:
            rows.write_csv(path)
    except OSError as exc:
        raise UserError(f"Could not write {path}: {exc.strerror or exc}.") from None
