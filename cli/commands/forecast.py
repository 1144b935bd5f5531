"""`crowdmeter forecast [PROJECT] [--as-of DATE] [--json]`: each planned project's Monte Carlo
forecast (P50/P85/P95 completion dates) and the probability of meeting each milestone, from the
published snapshot (`etl.tracking`, the figures the Project page shows).

`--user LOGIN` limits the projects to what that login may see on the Project page (a manager:
their projects), so a cron job run for a manager reports theirs only.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

from cli.output import print_json
from etl.errors import UserError

if TYPE_CHECKING:
    from dashboard.users import User
    from etl.settings import Settings
    from metrics.project_tracking import ProjectStatus


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "forecast",
        help="completion dates (P50/P85/P95) and milestone probabilities per project",
        description=(
            "Monte Carlo forecast of each planned project from the published snapshot: the "
            "dates by which 50, 85 and 95% of simulated futures reach the scope, and each "
            "milestone's probability (docs/METRICS.md, 'Monte Carlo forecast')."
        ),
    )
    add_tracking_options(parser, "PLATFORM:PROJECT_ID (default: all)")
    parser.add_argument("--json", action="store_true", help="print the forecasts as JSON")
    parser.set_defaults(func=run)


def add_tracking_options(parser: argparse.ArgumentParser, project_help: str) -> None:
    """PROJECT, --as-of and --user, shared with `alerts` and `report project`."""
    parser.add_argument("project", nargs="?", metavar="PROJECT", help=project_help)
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        metavar="DATE",
        help="forecast as made on this day, from the days before it (default: the day after "
        "the newest accepted work)",
    )
    parser.add_argument(
        "--user", metavar="LOGIN", help="only the projects this dashboard login may see"
    )


def collect_statuses(
    args: argparse.Namespace, settings: Settings, project: str | None = None
) -> list[ProjectStatus]:
    """The tracked projects the options ask for, as `etl.tracking` computes them."""
    from etl.reader import NoSnapshot, SnapshotReader
    from etl.tracking import read_plans, track_projects

    reader = SnapshotReader(settings)
    keys = _login_projects(settings, args.user)
    if project:
        if ":" not in project:
            raise UserError(f"Name the project as PLATFORM:PROJECT_ID, e.g. mturk:{project}.")
        if keys is not None and project not in keys:
            raise UserError(f"Login {args.user!r} may not see project {project}.")
        keys = [project]
    try:
        statuses = track_projects(reader.frame, settings, keys, args.as_of)
        if project and not statuses:
            planned = ", ".join(plan.project for plan in read_plans(reader.frame))
            raise UserError(
                f"No plan with a target for {project} in the snapshot. Planned projects: "
                f"{planned or 'none'} (load a projects CSV: docs/IMPORTING.md)."
            )
    except NoSnapshot as exc:
        raise UserError(str(exc)) from None
    return statuses


def _login_projects(settings: Settings, login: str | None) -> list[str] | None:
    """The projects `login` may see (None: all), as the dashboard's access rules say."""
    if login is None:
        return None
    from dashboard.access import scope_of

    user = tracking_login(settings, login)
    return None if scope_of(user) == "all" else user.project_keys


def tracking_login(settings: Settings, login: str) -> User:
    """The dashboard login `login`, when it may see project tracking."""
    from dashboard.access import allowed
    from dashboard.users import UserStore

    user = UserStore(settings).get(login)
    if user is None:
        raise UserError(f"No login {login!r}. `crowdmeter users list` shows them.")
    if not allowed(user, "project-tracking"):
        raise UserError(f"Login {login!r} ({user.role}) may not see project tracking.")
    return user


def forecast_rows(statuses: list[ProjectStatus]) -> list[dict[str, Any]]:
    """What `--json` prints: per project its forecast and milestones."""
    rows = []
    for status in statuses:
        f = status.forecast.as_dict()
        rows.append(
            {
                "project": status.project,
                "as_of": f["as_of"],
                "scope": f["scope"],
                "done": f["done"],
                "remaining": f["remaining"],
                "mean_daily": f["mean_daily"],
                "window_days": f["window_days"],
                "p50": f["p50"],
                "p85": f["p85"],
                "p95": f["p95"],
                "reason": f["reason"],
                "milestones": [
                    {k: m[k] for k in ("milestone", "due", "target", "probability", "p85")}
                    for m in f["milestones"]
                ],
                "scope_changes": status.as_dict()["scope_changes"],
            }
        )
    return rows


def run(args: argparse.Namespace, settings: Settings) -> int:
    rows = forecast_rows(collect_statuses(args, settings, args.project))
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No planned project in the snapshot (load a projects CSV: docs/IMPORTING.md).")
    for row in rows:
        print(render_forecast(row))
    return 0


def render_forecast(row: dict[str, Any]) -> str:
    """One project's forecast as text."""
    dates = f"P50 {row['p50'] or '–'}, P85 {row['p85'] or '–'}, P95 {row['p95'] or '–'}"
    lines = [
        f"{row['project']}: {row['done']:,} of {row['scope']:,} items done (forecast made "
        f"{row['as_of']}); {dates}" + (f" ({row['reason']})" if row["reason"] else "")
    ]
    for change in row["scope_changes"]:
        why = f" ({change['reason']})" if change["reason"] else ""
        lines.append(f"  scope changed on {change['day']} to {change['scope']:,} items{why}")
    for m in row["milestones"]:
        chance = "–" if m["probability"] is None else f"{m['probability']:.0%}"
        lines.append(f"  {m['milestone']}: {m['target']:,} by {m['due']}, probability {chance}")
    return "\n".join(lines)
