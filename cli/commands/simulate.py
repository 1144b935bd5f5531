"""`crowdmeter simulate OUT_DIR`: simulated exports, config.toml and truth.json in one folder."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cli.output import print_json
from etl.errors import UserError

if TYPE_CHECKING:
    from etl.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    from simulate import DEFAULT_END_DATE  # a date, not the simulator

    parser = sub.add_parser(
        "simulate",
        help="write realistic simulated exports plus truth.json",
        description=(
            "Simulate an annotation workforce over several platforms and projects and write it as "
            "real export files (MTurk, Toloka, Appen, Label Studio, Prodigy, Toggl, earnings logs, "
            "project plans), a config.toml to ingest them with, and truth.json listing every "
            "planted effect. The same seed, scale and end date give the same bytes."
        ),
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="folder to write into")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="size: 1 is about 300 workers and half a million assignments over 90 days",
    )
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=DEFAULT_END_DATE,
        help=(
            f"last simulated day, YYYY-MM-DD, a day already over in UTC "
            f"(default: {DEFAULT_END_DATE.isoformat()})"
        ),
    )
    parser.add_argument(
        "--no-effects",
        action="store_true",
        help="the same workforce with no fairness effect planted (no pay gap, biased reviewer, "
        "label bias or overworked workers; truth.json says so): data for false-flag checks",
    )
    parser.add_argument("--json", action="store_true", help="print a summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from simulate import end_date_problem, scale_problem
    from simulate.workforce import simulate

    if problem := scale_problem(args.scale) or end_date_problem(args.end_date):
        raise UserError(problem)
    out: Path = args.out_dir
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file. Pass a folder to write the simulated exports into.")
    if out.is_dir() and any(out.iterdir()) and not (out / "truth.json").exists():
        raise UserError(
            f"{out} is not empty and holds no earlier simulation. Pass an empty or new folder, "
            "so no files of yours are overwritten."
        )
    started = time.monotonic()
    truth = simulate(
        out, seed=args.seed, scale=args.scale, end_date=args.end_date, effects=not args.no_effects
    )
    summary = {
        "out_dir": str(out),
        "seed": truth.seed,
        "scale": truth.scale,
        "first_day": truth.first_day,
        "end_date": truth.end_date,
        "effects": truth.effects,
        "assignments": truth.assignments,
        "files": len(truth.files),
        "seconds": round(time.monotonic() - started, 1),
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"Wrote {summary['files']} export files ({truth.assignments:,} assignments, "
            f"{truth.first_day} to {truth.end_date}) to {out} in {summary['seconds']}s.\n"
            f"Ingest them with: crowdmeter --config {out / 'config.toml'} ingest "
            f"{' '.join(sorted({str(out / f['path'].split('/')[0]) for f in truth.files}))}\n"
            + (
                "Planted effects are listed in "
                if truth.effects
                else "No fairness effect was planted; the others are listed in "
            )
            + f"{out / 'truth.json'}; {out / 'dirty'} holds a "
            "deliberately broken file whose rejects truth.json lists."
        )
    return 0
