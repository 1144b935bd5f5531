"""`crowdmeter report KIND --out FILE.html`: a self-contained HTML report that opens offline.

`earnings` is a freelancer's own report (`--worker PLATFORM:ID ...`): wages per platform, task
type and week, the waterfall from paid-time to effective wage, payment delays, pending money,
the fair-pay check, the skip list and how every figure is defined (laid out by
`dashboard.reports`). `fairness` is an auditor's: every finding of the fairness audits with
its charts, the settings used, the runs and files behind them and the methodology.
`project PROJECT` is a project's tracking report to send to a client: burn-up with the
forecast fan, milestones, budget, quality gate, workforce and alerts, the figures of the Project
page (`--as-of` and `--user` as for `crowdmeter forecast`).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cli.commands.earnings import add_worker_option, collect_earnings
from cli.commands.forecast import add_tracking_options, tracking_login
from etl.errors import UserError

if TYPE_CHECKING:
    from etl.settings import Settings

KINDS = ("earnings", "fairness", "project")
VIEWS = {"task types": ["platform", "task_type"], "weeks": ["week"]}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report",
        help="write a self-contained HTML report (earnings, fairness, project)",
        description="Write a report as one HTML file with its charts inline: it opens offline.",
    )
    parser.add_argument("kind", choices=KINDS, help="which report")
    parser.add_argument("--out", type=Path, required=True, help="HTML file to write")
    add_worker_option(parser)
    add_tracking_options(parser, "the project report's project: PLATFORM:PROJECT_ID")
    parser.add_argument(
        "--skip-below", type=float, metavar="WAGE", help="threshold of the skip list per hour"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.kind == "fairness":
        return write_fairness_report(args.out, settings)
    if not args.out.parent.is_dir():
        raise UserError(f"Folder {args.out.parent} does not exist. Create it or pick another.")
    if args.kind == "project":
        return _project_report(args, settings)
    if not args.worker:
        raise UserError(
            "The earnings report is one freelancer's: pass your ids with --worker PLATFORM:ID "
            "(repeat for each platform), e.g. --worker mturk:A1B2C3D4E5."
        )
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


RUNS_SQL = """SELECT run_id, trigger, status, started_at, finished_at FROM etl_runs
ORDER BY run_id"""
FILES_SQL = """SELECT file_id, run_id, path, format, sha256, rows_read, rows_rejected, status
FROM etl_files ORDER BY file_id"""


def write_fairness_report(out: Path, settings: Settings) -> int:
    """The fairness report of the published snapshot, written to `out`."""
    if not out.parent.is_dir():
        raise UserError(f"Folder {out.parent} does not exist. Create it or pick another.")
    from cli.commands.audit import read_findings
    from dashboard.components.metric_help import metric_sections
    from dashboard.reports import fairness_report_html
    from etl.reader import NoSnapshot, SnapshotReader

    reader = SnapshotReader(settings)
    try:
        findings = read_findings(reader)
    except NoSnapshot as exc:
        raise UserError(str(exc)) from None
    sections = metric_sections()
    slugs = ("fairness-audits", "findings-tests-and-flags", "pay-equity", "review-fairness",
             "label-bias", "workload", "small-groups")  # fmt: skip
    used = {
        "min_group_size": settings.min_group_size,
        "reporting_currency": settings.reporting_currency,
        "session_gap_minutes": settings.session_gap_minutes,
    }
    used |= {f"fairness.{k}": v for k, v in settings.fairness.model_dump().items()}  # fmt: skip
    payload = {
        "findings": findings,
        "snapshot": reader.current_name(),
        "settings": used,
        "runs": reader.frame(RUNS_SQL).to_dicts(),
        "files": reader.frame(FILES_SQL).to_dicts(),
        "method": "\n\n".join(sections[s] for s in slugs if s in sections),
    }
    out.write_text(fairness_report_html(payload))
    print(f"Wrote {out}")


def _project_report(args: argparse.Namespace, settings: Settings) -> int:
    """The Project page's figures of one project, as the viewer `--user` (else an admin) sees
    them, laid out as an offline HTML file."""
    from dashboard.data import ScopedData
    from dashboard.queries import projects as q
    from dashboard.reports import project_report_html
    from dashboard.url_state import Filters
    from dashboard.users import User
    from etl.reader import NoSnapshot, SnapshotReader

    if not args.project:
        raise UserError("Name the project: `crowdmeter report project PLATFORM:PROJECT_ID`.")
    viewer = tracking_login(settings, args.user) if args.user else User("command line", "admin")
    data = ScopedData(SnapshotReader(settings), viewer, settings)
    end = args.as_of - timedelta(days=1) if args.as_of else None
    filters = Filters(end=end, focus=args.project)
    try:
        planned = q.planned_projects(data, Filters())
        if args.project not in planned["project"].to_list():
            raise UserError(
                f"No planned project {args.project} you may see. Planned: "
                f"{', '.join(planned['project']) or 'none'}."
            )
        payload = {
            "status": q.project_status(data, filters, args.project),
            "name": dict(planned.iter_rows())[args.project],
            "annotators": q.annotators(data, filters),
            "workforce": q.workforce_weekly(data, filters),
            "currency": settings.reporting_currency,
            "snapshot": data.reader.current_name(),
        }
    except NoSnapshot as exc:
        raise UserError(str(exc)) from None
    args.out.write_text(project_report_html(payload))
    print(f"Wrote {args.out}")
    return 0
