"""`crowdmeter report KIND --out FILE.html`: a self-contained HTML report that opens offline.

`earnings` is a freelancer's own report (`--worker PLATFORM:ID ...`): wages per platform, task
type and week, the waterfall from paid-time to effective wage, payment delays, pending money,
the fair-pay check, the skip list and how every figure is defined (laid out by
`dashboard.reports`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cli.commands.earnings import add_worker_option, collect_earnings
from etl.errors import UserError

if TYPE_CHECKING:
    from etl.settings import Settings

KINDS = ("earnings", "fairness", "project")
VIEWS = {"task types": ["platform", "task_type"], "weeks": ["week"]}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report",
        help="write a self-contained HTML report (earnings; fairness and project to come)",
        description="Write a report as one HTML file with its charts inline: it opens offline.",
    )
    parser.add_argument("kind", choices=KINDS, help="which report")
    parser.add_argument("--out", type=Path, required=True, help="HTML file to write")
    add_worker_option(parser)
    parser.add_argument(
        "--skip-below", type=float, metavar="WAGE", help="threshold of the skip list per hour"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.kind != "earnings":
        raise UserError(
            f"The {args.kind} report is not built yet. `crowdmeter report earnings` is; for "
            f"{args.kind} figures use the dashboard or the `--json` commands meanwhile."
        )
    if not args.worker:
        raise UserError(
            "The earnings report is one freelancer's: pass your ids with --worker PLATFORM:ID "
            "(repeat for each platform), e.g. --worker mturk:A1B2C3D4E5."
        )
    if not args.out.parent.is_dir():
        raise UserError(f"Folder {args.out.parent} does not exist. Create it or pick another.")
    from etl.reader import NoSnapshot, SnapshotReader

    reader = SnapshotReader(settings)
    try:
        payload = collect_earnings(
            reader, settings, args.worker, ["platform"], args.skip_below, VIEWS
        )
    except NoSnapshot as exc:
        raise UserError(str(exc)) from None
    from dashboard.reports import earnings_report_html

    args.out.write_text(earnings_report_html(payload))
    print(f"Wrote {args.out}")
    return 0
