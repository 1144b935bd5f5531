"""`crowdmeter alerts [--json]`: the alert rules of config.toml's `[tracking]` over every
planned project, each finding with its evidence; exit 1 when one fires (for cron and CI)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.commands.forecast import add_tracking_options, collect_statuses
from cli.output import print_json

if TYPE_CHECKING:
    from etl.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "alerts",
        help="project alerts (forecast past due, quality, budget, rejects, overwork); exit 1 "
        "when one fires",
        description=(
            "Run the alert rules of [tracking] in config.toml over each planned project and "
            "list what fired with its evidence. Exits 1 when an alert fires, 0 when none does."
        ),
    )
    add_tracking_options(parser, "PLATFORM:PROJECT_ID (default: all)")
    parser.add_argument("--json", action="store_true", help="print the alerts as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    statuses = collect_statuses(args, settings, args.project)
    findings = [finding.as_dict() for status in statuses for finding in status.findings]
    if args.json:
        print_json(findings)
    elif not findings:
        print(f"No alert over {len(statuses)} project(s).")
    for finding in [] if args.json else findings:
        print(f"{finding['project']} [{finding['rule']}] {finding['message']}")
    return 1 if findings else 0
