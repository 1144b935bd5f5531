"""`crowdmeter report KIND --out FILE.html`: a self-contained HTML report that opens offline.

`earnings` is a freelancer's own report (`--worker PLATFORM:ID ...`): wages per platform, task
type and week, the waterfall from paid-time to effective wage, payment delays, pending money,
the fair-pay check, the skip list and how every figure is defined.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.commands.earnings import add_worker_option, collect_earnings
from etl.errors import UserError

if TYPE_CHECKING:
    from etl.settings import Settings

KINDS = ("earnings", "fairness", "project")
VIEWS = {"task types": ["platform", "task_type"], "weeks": ["week"]}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: 0.9rem; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.8rem 1.1rem; min-width: 10rem; }
.card .value { font-size: 1.6rem; font-weight: 600; } .card .label { color: #666; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #eee; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.note { background: #fff8e1; padding: 0.5rem 0.8rem; border-radius: 4px; }
dt { font-weight: 600; margin-top: 0.6rem; } dd { margin-left: 1rem; }
"""
METHOD = [
    ("Sessions", "A worker's tasks on one platform, sorted by start, join one session while "
     "the next starts within {gap} minutes of the latest end so far (after Hara et al. 2018). "
     "Overlapping tasks count once; the time between tasks inside a session is a gap."),
    ("Earnings", "Rewards and bonuses of approved work and logged earnings (paid or pending "
     "payout), minus the fees you pay the platform, in {cur} at the rate of the payment day."),
    ("Paid-time wage", "Earnings divided by the hours of approved work."),
    ("Effective wage", "Earnings divided by all hours worked: approved, rejected, returned and "
     "abandoned work, gaps inside sessions, and tracked unpaid time (qualification tests, "
     "training, searching, admin). Work awaiting review is left out until it is decided."),
    ("Tracked time", "On a day with tracked time (Toggl) for a platform, tracked time is the "
     "day's total and task time is not added again; the difference shows as the time-tracking "
     "adjustment."),
    ("Payment delay", "Days from submission to payment (logged lines: from the day worked)."),
    ("Fair-pay check", "Share of your hours on days paid below the minimum wage of your country "
     "on that date, after fees (Fairwork's standard). Floors come with their source."),
    ("Skip list", "Task types and projects whose effective wage for you is below the "
     "threshold, with the tasks behind it and a bootstrap interval over days."),
]  # fmt: skip


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
    args.out.write_text(earnings_report_html(payload))
    print(f"Wrote {args.out}")
    return 0


def earnings_report_html(payload: dict[str, Any]) -> str:
    """The earnings report as one HTML document with plotly.js inline."""
    cur = escape(payload["currency"])
    total = payload["total"] or {}
    figures = _figures(payload)
    parts = [
        f"<h1>Earnings report</h1><p class='meta'>{escape(_who(payload))}<br>Snapshot "
        f"{escape(str(payload['snapshot']))}, written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        f"Money in {cur} per hour, after fees.</p>",
        _cards(total, cur),
        "<h2>From paid-time to effective wage</h2>",
        figures.get("waterfall", "<p>No priced work to show.</p>"),
        "<h2>By platform</h2>",
        figures.get("platforms", ""),
        _wage_table(payload["rows"], ["platform"]),
        "<h2>By task type</h2>",
        _wage_table(payload["views"]["task types"], ["platform", "task_type"]),
        "<h2>By week</h2>",
        figures.get("weeks", ""),
        _wage_table(payload["views"]["weeks"], ["week"]),
        "<h2>Payments</h2>",
        _payments(payload, cur),
        "<h2>Fair-pay check</h2>",
        _fair_pay(payload.get("fair_pay", [])),
        "<h2>Skip list</h2>",
        _skip_list(payload.get("skip_list", [])),
        *_notes(payload),
        "<h2>How these figures are computed</h2>",
        _method(payload),
    ]
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Crowdmeter earnings report</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def _who(payload: dict[str, Any]) -> str:
    return "Worker ids: " + ", ".join(w["worker"] for w in payload["workers"])


def _cards(total: dict[str, Any], cur: str) -> str:
    money = total.get("money", {})
    hours = total.get("hours", {})
    cards = [
        ("effective wage", _num(total.get("effective_wage"))),
        ("paid-time wage", _num(total.get("paid_time_wage"))),
        ("hours worked", _num(hours.get("worked"), 1)),
        (f"earned ({cur})", _num(money.get("net_earnings"))),
        (f"pending ({cur})", _num((money.get("pending_payout") or 0) +
                                  (money.get("pending_review") or 0))),
    ]  # fmt: skip
    return (
        "<div class='cards'>"
        + "".join(
            f"<div class='card'><div class='value'>{v}</div><div class='label'>{escape(k)}</div>"
            "</div>"
            for k, v in cards
        )
        + "</div>"
    )


def _figures(payload: dict[str, Any]) -> dict[str, str]:
    """Plotly charts as HTML fragments; the first one carries plotly.js inline."""
    import plotly.graph_objects as go

    charts = {}
    total = payload["total"]
    if total and total["gross_paid_time_wage"] is not None:
        steps = [s for s in total["waterfall"] if s["change"] is not None]
        charts["waterfall"] = go.Figure(
            go.Waterfall(
                x=[
                    "paid-time wage<br>before fees",
                    *[s["step"].replace("_", " ") for s in steps],
                    "effective wage",
                ],
                y=[total["gross_paid_time_wage"], *[s["change"] for s in steps], 0],
                measure=["absolute", *["relative"] * len(steps), "total"],
            )  # fmt: skip
        )
    rows = payload["rows"]
    if rows:
        names = [r["platform"] for r in rows]
        charts["platforms"] = go.Figure(
            [
                go.Bar(name="paid-time wage", x=names, y=[r["paid_time_wage"] for r in rows]),
                go.Bar(name="effective wage", x=names, y=[r["effective_wage"] for r in rows]),
            ]
        )
    weeks = payload["views"]["weeks"]
    if weeks:
        x = [str(r["week"]) for r in weeks]
        charts["weeks"] = go.Figure(
            [
                go.Scatter(name="effective wage", x=x, y=[r["effective_wage"] for r in weeks]),
                go.Bar(name="hours worked", x=x, y=[r["hours"]["worked"] for r in weeks],
                       yaxis="y2", opacity=0.3),
            ],
            layout={"yaxis2": {"overlaying": "y", "side": "right", "title": "hours"}},
        )  # fmt: skip
    html = {}
    for i, (name, fig) in enumerate(charts.items()):
        fig.update_layout(height=360, margin={"t": 30, "b": 40}, template="plotly_white")
        html[name] = fig.to_html(full_html=False, include_plotlyjs=(i == 0))
    return html


def _wage_table(rows: list[dict[str, Any]], by: list[str]) -> str:
    head = [
        *by,
        "hours worked",
        "approved h",
        "rejected h",
        "returned h",
        "gaps h",
        "tracking adj. h",
        "unpaid logged h",
        "tasks",
        "paid-time wage",
        "effective wage",
    ]
    body = []
    for r in rows:
        h, t = r["hours"], r["tasks"]
        body.append(
            [*[r[b] for b in by], _num(h["worked"], 1), _num(h["approved"], 1),
             _num(h["rejected"], 1), _num(h["returned"], 1), _num(h["gap"], 1),
             _num(h["tracking_adjustment"], 1), _num(h["unpaid_logged"], 1),
             t["approved"] + t["rejected"] + t["returned"] + t["pending"],
             _num(r["paid_time_wage"]), _num(r["effective_wage"])]
        )  # fmt: skip
    return _table(head, body)


def _payments(payload: dict[str, Any], cur: str) -> str:
    head = ["platform", "paid", "median delay (days)", "90th percentile (days)",
            "unpaid earned", "oldest unpaid (days)", f"pending payout ({cur})",
            f"awaiting review ({cur})"]  # fmt: skip
    body = [
        [r["platform"], r["delays"]["paid"], _num(r["delays"]["median_delay_days"], 1),
         _num(r["delays"]["p90_delay_days"], 1), r["delays"]["unpaid_earned"],
         _num(r["delays"]["oldest_unpaid_days"], 1), _num(r["money"]["pending_payout"]),
         _num(r["money"]["pending_review"])]
        for r in payload["rows"]
    ]  # fmt: skip
    return _table(head, body)


def _fair_pay(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>No priced work to check.</p>"
    head = ["platform", "country", "hours worked", "hours below floor", "share below floor",
            "floor per hour", "floor source"]  # fmt: skip
    body = [
        [r["platform"], r["country"] or "unknown", _num(r["hours_worked"], 1),
         _num(r["hours_below_floor"], 1), _pct(r["share_below_floor"]),
         _num(r["floor_per_hour"]), r["floor_source"] or "no floor for this country"]
        for r in rows
    ]  # fmt: skip
    return _table(head, body)


def _skip_list(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return (
            "<p>Nothing below the threshold (or no threshold: set one with --skip-below, or "
            "record your country so the local wage floor applies).</p>"
        )
    head = ["platform", "kind", "name", "effective wage", "interval", "threshold", "tasks",
            "days", "sure?"]  # fmt: skip
    body = [
        [r["platform"], r["kind"], r["name"], _num(r["effective_wage"]),
         f"{_num(r['ci_low'])} to {_num(r['ci_high'])}", _num(r["threshold"]), r["tasks"],
         r["days"], "yes" if r["confidently_below"] else "not yet"]
        for r in rows
    ]  # fmt: skip
    return _table(head, body)


def _notes(payload: dict[str, Any]) -> list[str]:
    notes = list(payload["notes"])
    un = payload["unattributed_total"]
    if un["entries"]:
        notes.append(
            f"{un['entries']} tracked time entries ({un['hours']:.1f} h) map to no platform and "
            "count nowhere: add their Toggl clients or projects to [toggl] in config.toml."
        )
    return [f"<p class='note'>{escape(n)}</p>" for n in notes]


def _method(payload: dict[str, Any]) -> str:
    fill = {"gap": f"{payload['session_gap_minutes']:g}", "cur": payload["currency"]}
    items = "".join(f"<dt>{escape(t)}</dt><dd>{escape(d.format(**fill))}</dd>" for t, d in METHOD)
    return f"<dl>{items}</dl><p class='meta'>Definitions in full: docs/METRICS.md.</p>"


def _table(head: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p>No rows.</p>"
    th = "".join(f"<th>{escape(str(h))}</th>" for h in head)
    trs = "".join(
        "<tr>" + "".join(f"<td>{escape(_text(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
