"""`crowdmeter pull [NAME...]`: run the `[[pulls]]` sources of config.toml once, now."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.output import print_json
from etl.errors import UserError

if TYPE_CHECKING:
    from etl.pulls.state import PullOutcome
    from etl.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "pull",
        help="run pull sources (drop folders, platform APIs) once",
        description="Run the named [[pulls]] sources of config.toml once (all when none is "
        "named): fetch what is new, load it, publish.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="sources to run (default: all)")
    parser.add_argument("--json", action="store_true", help="print each source's outcome as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.publish import FiguresNotRebuilt
    from etl.pulls.run import run_pull
    from etl.warehouse import WarehouseBusy

    try:
        pulls = [settings.pull(name) for name in args.names] if args.names else settings.pulls
    except KeyError as exc:
        raise UserError(exc.args[0]) from None
    if not pulls:
        raise UserError("config.toml names no [[pulls]] source; see its commented example.")
    outcomes = {}
    for pull in pulls:
        try:
            outcomes[pull.name] = run_pull(settings, pull)
        except (WarehouseBusy, FiguresNotRebuilt) as exc:
            raise UserError(str(exc)) from None
    if args.json:
        print_json({name: _as_dict(o) for name, o in outcomes.items()})
    else:
        for name, outcome in outcomes.items():
            print_outcome(name, outcome)
    return 1 if any(o.result == "failed" for o in outcomes.values()) else 0


def _as_dict(outcome: PullOutcome) -> dict:
    from dataclasses import asdict

    return asdict(outcome)


def print_outcome(name: str, outcome: PullOutcome) -> None:
    """One line for the source, then its notes and error."""
    line = f"{name}: {outcome.result}"
    if outcome.run_id is not None:
        loaded = f"{outcome.files_loaded} files, {outcome.rows_loaded:,} rows"
        line += f" (run {outcome.run_id}: {loaded})"
    print(line)
    for note in outcome.notes:
        print(f"  note: {note}")
    if outcome.error:
        print(f"  error: {outcome.error}")
