"""Self-contained HTML reports that open offline: the figures of a payload (as the read-only
commands collect them) laid out by a Jinja2 template, with plotly.js inline.

`earnings_report_html` is a freelancer's own report: wages per platform, task type and week,
the waterfall from paid-time to effective wage, payments, the fair-pay check, the skip list and
how every figure is defined. `fairness_report_html` is an auditor's: every finding of the
fairness audits with its charts, the settings, runs and files behind them and the methodology,
so that another auditor can reproduce each figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from dashboard.components.charts import chart_texts, platform_color
from dashboard.components.fairness_charts import CHARTS
from dashboard.templating import render

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
WAGE_HEAD = [
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


@dataclass(frozen=True)
class Table:
    """A report table: its header and its rows of display text."""

    head: list[str]
    rows: list[list[str]]


def earnings_report_html(payload: dict[str, Any]) -> str:
    """The earnings report as one HTML document with plotly.js inline."""
    cur = payload["currency"]
    fill = {"gap": f"{payload['session_gap_minutes']:g}", "cur": cur}
    return render(
        "earnings_report.html",
        who="Worker ids: " + ", ".join(w["worker"] for w in payload["workers"]),
        snapshot=str(payload["snapshot"]),
        written=f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
        currency=cur,
        cards=_cards(payload["total"] or {}, cur),
        figures=_figures(payload),
        platforms=_wage_table(payload["rows"], ["platform"]),
        task_types=_wage_table(payload["views"]["task types"], ["platform", "task_type"]),
        weeks=_wage_table(payload["views"]["weeks"], ["week"]),
        payments=_payments(payload, cur),
        fair_pay=_fair_pay(payload.get("fair_pay", [])),
        skip_list=_skip_list(payload.get("skip_list", [])),
        notes=_notes(payload),
        method=[(title, text.format(**fill)) for title, text in METHOD],
    )


def _cards(total: dict[str, Any], cur: str) -> list[tuple[str, str]]:
    money = total.get("money", {})
    hours = total.get("hours", {})
    return [
        ("effective wage", _num(total.get("effective_wage"))),
        ("paid-time wage", _num(total.get("paid_time_wage"))),
        ("hours worked", _num(hours.get("worked"), 1)),
        (f"earned ({cur})", _num(money.get("net_earnings"))),
        (f"pending ({cur})", _num((money.get("pending_payout") or 0) +
                                  (money.get("pending_review") or 0))),
    ]  # fmt: skip


def _figures(payload: dict[str, Any]) -> dict[str, Markup]:
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
        names = chart_texts(r["platform"] for r in rows)
        colors = [platform_color(r["platform"]) for r in rows]  # as on every page
        charts["platforms"] = go.Figure(
            [
                go.Bar(name="paid-time wage (light)", x=names, marker_color=colors,
                       marker_opacity=0.4, y=[r["paid_time_wage"] for r in rows]),
                go.Bar(name="effective wage", x=names, marker_color=colors,
                       y=[r["effective_wage"] for r in rows]),
            ]
        )  # fmt: skip
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
    fragments = {}
    for i, (name, fig) in enumerate(charts.items()):
        fig.update_layout(height=360, margin={"t": 30, "b": 40}, template="plotly_white")
        # plotly's own HTML and script, built from numbers and escaped labels
        fragments[name] = Markup(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    return fragments


def _wage_table(rows: list[dict[str, Any]], by: list[str]) -> Table:
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
    return _table([*by, *WAGE_HEAD], body)


def _payments(payload: dict[str, Any], cur: str) -> Table:
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


def _fair_pay(rows: list[dict[str, Any]]) -> Table:
    head = ["platform", "country", "hours worked", "hours below floor", "share below floor",
            "floor per hour", "floor source"]  # fmt: skip
    body = [
        [r["platform"], r["country"] or "unknown", _num(r["hours_worked"], 1),
         _num(r["hours_below_floor"], 1), _pct(r["share_below_floor"]),
         _num(r["floor_per_hour"]), r["floor_source"] or "no floor for this country"]
        for r in rows
    ]  # fmt: skip
    return _table(head, body)


def _skip_list(rows: list[dict[str, Any]]) -> Table:
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
    return notes


def _table(head: list[str], rows: list[list[Any]]) -> Table:
    return Table([str(h) for h in head], [[_text(c) for c in row] for row in rows])


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


FAIRNESS_TITLES = {"pay_equity": "Pay equity", "review_fairness": "Review fairness",
                   "label_bias": "Label bias", "workload": "Workload and well-being"}  # fmt: skip
FINDING_HEAD = ["flag", "attribute", "group", "reference", "measure", "estimate", "interval",
                "p_adjusted", "n", "reason"]  # fmt: skip


def fairness_report_html(payload: dict[str, Any]) -> str:
    """The fairness report as one HTML document with plotly.js inline. `payload`: `findings`
    (rows of `mart_fairness_findings`), `snapshot`, `settings` (name -> value), `runs` and
    `files` (rows), `method` (the methodology's text)."""
    import polars as pl

    from metrics.fairness.findings import SCHEMA

    findings = payload["findings"]
    frame = pl.DataFrame(findings, schema=SCHEMA)
    sections, first = [], True
    for audit, title in FAIRNESS_TITLES.items():
        fig, note = CHARTS[audit](frame)
        fig.update_layout(template="plotly_white", margin={"t": 30, "b": 120})
        html = fig.to_html(full_html=False, include_plotlyjs=first)
        first = False
        rows = [f for f in findings if f["audit"] == audit]
        sections.append({"title": title, "note": note, "figure": Markup(html),
                         "table": _findings_table(rows)})  # fmt: skip
    flag = [f for f in findings if f["flag"] not in (None, "suppressed")]
    suppressed = sum(f["flag"] == "suppressed" for f in findings)
    return render(
        "fairness_report.html",
        snapshot=str(payload["snapshot"]),
        written=f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
        counts=f"{len(findings)} findings: {len(flag)} flagged, {suppressed} suppressed.",
        flagged=_findings_table(flag, with_audit=True),
        sections=sections,
        settings=_table(["setting", "value"], list(payload["settings"].items())),
        runs=_rows_table(payload["runs"]),
        files=_rows_table(payload["files"]),
        method=payload["method"],
    )


def _findings_table(rows: list[dict[str, Any]], with_audit: bool = False) -> Table:
    body = [
        [r["flag"] or "-", *([r["audit"]] if with_audit else []), r["attribute"], r["group"],
         r["reference"], r["measure"], _num(r["estimate"], 3),
         "-" if r["ci_low"] is None else f"{_num(r['ci_low'], 3)} to {_num(r['ci_high'], 3)}",
         _num(r["p_adjusted"], 4), r["n"], r["reason"]]
        for r in rows
    ]  # fmt: skip
    head = [FINDING_HEAD[0], *(["audit"] if with_audit else []), *FINDING_HEAD[1:]]
    return _table(head, body)


def _rows_table(rows: list[dict[str, Any]]) -> Table:
    return _table(list(rows[0]) if rows else [], [list(r.values()) for r in rows])


PROJECT_METHOD = [
    ("Items", "An item counts once, on the day its first label was accepted (approved, or "
     "submitted where the project has no review). Scope: the plan's target items."),
    ("Forecast", "10,000 futures each draw the days to come from their own bootstrap replicate "
     "of the daily throughput (zero days included) of the window before the forecast day. P50, "
     "P85 and P95: the days by which 50, 85 and 95% of the futures reach the scope; a "
     "milestone's probability: the share that reach its target by the end of its due day."),
    ("Budget", "Spend: rewards, bonuses and the platform's fees of paid work. EV = budget x "
     "done / scope, PV = budget x the planned share of the work by the day; CPI = EV / spend, "
     "SPI = EV / PV, estimate at completion = budget / CPI."),
    ("Quality gate", "The mean of the last 4 weeks with a value, weighted by the answers behind "
     "each, against the project's target; the trend is the least-squares slope per week."),
    ("Annotators", "Tasks per active hour (the platform's active time, else the task's share of "
     "the worker's session), median seconds per task, gold accuracy and agreement with the "
     "others' majority; slowing: recent speed over 20% under their own earlier speed."),
]  # fmt: skip
ANNOTATOR_HEAD = ["worker", "tasks", "hours", "tasks per hour", "median s per task",
                  "accuracy", "agreement", "flags"]  # fmt: skip


def project_report_html(payload: dict[str, Any]) -> str:
    """One project's tracking report (`payload`: `status`, a `ProjectStatus`; `name`,
    `annotators` and `workforce` frames, `currency`, `snapshot`), plotly.js inline."""
    from dashboard.components.tracking_charts import (
        burnup_figure,
        scope_change_note,
        workforce_figure,
    )

    status, cur = payload["status"], payload["currency"]
    f = status.forecast
    charts = {"burnup": burnup_figure(status), "workforce": workforce_figure(payload["workforce"])}
    figures = {
        name: Markup(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
        for i, (name, fig) in enumerate(charts.items())
    }
    return render(
        "project_report.html",
        project=status.project,
        name=payload["name"],
        as_of=str(f.as_of),
        snapshot=str(payload["snapshot"]),
        written=f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
        currency=cur,
        cards=[
            ("items done", f"{f.done:,} of {f.scope:,}"),
            ("P50 completion", _text(f.p50)),
            ("P85 completion", _text(f.p85)),
            ("P95 completion", _text(f.p95)),
        ],
        figures=figures,
        forecast_note=f"From the {f.window_days} days before {f.as_of} "
        f"({_num(f.mean_daily, 1)} items a day), {f.runs:,} futures. {f.reason or ''} "
        + scope_change_note(status),
        milestones=_table(
            ["milestone", "due", "target", "probability", "P85", "met"],
            [
                [
                    m.milestone,
                    m.due,
                    f"{m.target:,}",
                    _pct(m.probability),
                    m.p85,
                    "yes" if m.met else "no",
                ]
                for m in f.milestones
            ],
        ),  # fmt: skip
        budget=_project_budget(status),
        gates=_table(
            ["metric", "target", "level", "status", "trend", "slope per week", "weeks"],
            [
                [
                    g.metric,
                    _num(g.target),
                    _num(g.level, 3),
                    g.status,
                    g.trend,
                    _num(g.slope_per_week, 3),
                    g.weeks,
                ]
                for g in status.gates
            ],
        ),  # fmt: skip
        annotators=_table(
            ANNOTATOR_HEAD,
            [
                [
                    r["worker_id"],
                    r["tasks"],
                    _num(r["hours"], 1),
                    _num(r["tasks_per_hour"], 1),
                    _num(r["median_seconds"], 0),
                    _pct(r.get("accuracy")),
                    _pct(r.get("agreement")),
                    r["reasons"],
                ]
                for r in payload["annotators"].iter_rows(named=True)
            ],
        ),  # fmt: skip
        alerts=[
            (finding.message, ", ".join(f"{k} {_evidence(v)}" for k, v in d["evidence"].items()))
            for finding in status.findings
            for d in [finding.as_dict()]
        ],
        method=PROJECT_METHOD,
    )


def _project_budget(status: Any) -> Table:
    spend, ev = status.spend, status.earned_value
    if not spend or not spend["total"]:
        return _table([], [])
    rows = [["spend to date", _num(spend["total"])], ["rewards", _num(spend["rewards"])],
            ["bonuses", _num(spend["bonuses"])], ["platform fees", _num(spend["fees"])],
            ["spend rate a day (14 days)", _num(status.spend_per_day)]]  # fmt: skip
    if ev is not None:
        rows += [["budget (BAC)", _num(ev.budget)], ["planned value", _num(ev.planned_value)],
                 ["earned value", _num(ev.earned_value)], ["CPI", _num(ev.cpi)],
                 ["SPI", _num(ev.spi)], ["estimate at completion", _num(ev.eac)],
                 ["cost per item", _num(ev.cost_per_unit, 4)]]  # fmt: skip
    return _table(["figure", "value"], rows)


def _evidence(value: Any) -> str:
    return f"{value:,.3g}" if isinstance(value, float) else _text(value)
