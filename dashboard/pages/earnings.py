"""Earnings: effective hourly wage by platform, task type and week, the waterfall from paid-time
wage to effective wage, platform comparison, payment delays, the wage-floor check, the skip list.

Freelancers see their own pay; managers per worker on their projects; auditors only groups of
at least `min_group_size` workers.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_mantine_components as dmc
import plotly.graph_objects as go
import polars as pl

from dashboard.components.cards import fmt_money, kpi_card, kpi_grid, notice, section
from dashboard.components.charts import (
    WEEK_TITLE,
    chart_text,
    empty_figure,
    graph,
    platform_series,
    styled,
)
from dashboard.components.tables import data_table
from dashboard.data import DataSource, ScopedData
from dashboard.pages.base import Page, keep_focus_in_url
from dashboard.queries import earnings as q
from dashboard.url_state import Filters
from metrics.pay import WATERFALL


def layout(data: ScopedData, filters: Filters) -> Any:
    currency = data.settings.reporting_currency
    head = dmc.Stack(
        [
            dmc.Title("Earnings", order=2),
            dmc.Text(
                f"What the work really pays per hour once unpaid time is counted ({currency}).",
                c="dimmed",
            ),
        ],
        gap=0,
        mb="md",
    )
    if not q.pay_sums(data, filters, [])["workers"][0]:
        return [head, notice("No pay records here", "No priced work or logged earnings in view.")]
    total = q.overall(data, filters)
    if total.is_empty():
        return [head, notice("Too few workers", _suppressed_text(data))]
    parts = [
        head,
        kpi_grid(_cards(total.row(0, named=True), currency, data.scope_kind == "workers")),
        section(
            "From paid-time wage to effective wage",
            graph("earnings-waterfall", waterfall_figure(total.row(0, named=True), currency)),
            help_key="sessions-and-effective-hourly-pay",
            note="Each step adds one kind of unpaid time to the hours (or takes the fees off).",
        ),
        section(
            "Effective wage by week",
            graph("earnings-weekly", weekly_figure(q.by_week(data, filters), currency)),
            help_key="sessions-and-effective-hourly-pay",
        ),
        section(
            "Platforms compared",
            data_table("earnings-platforms", q.platform_comparison(data, filters)),
            note="Median and mean across workers (each worker counts once) and the pooled wage "
            "(all earnings / all hours).",
        ),
        section("By task type", data_table("earnings-task-types", q.by_task_type(data, filters))),
    ]
    return parts + _role_sections(data, filters)


def _role_sections(data: ScopedData, filters: Filters) -> list:
    parts = []
    # a freelancer's own rows are in the sections below; the table is for those who oversee
    if data.allowed("per-worker-rows") and data.scope_kind != "workers":
        parts.append(
            section(
                "Per worker",
                data_table("earnings-workers", q.per_worker(data, filters)),
                note="Pay on the projects in view, per worker and platform.",
            )
        )
    if data.allowed("per-worker-pay"):
        parts += [
            section(
                "Payment delays and unpaid money",
                data_table("earnings-delays", q.worker_delays(data, filters)),
                help_key="sessions-and-effective-hourly-pay",
                note="Whole period: days from submission to payment; money earned but "
                "not yet paid.",
            ),
            section(
                "Wage-floor check",
                data_table(
                    "earnings-fairpay", q.fair_pay(data, filters), shares={"share_below_floor"}
                ),
                note="Share of hours paid below the legal minimum wage of the worker's "
                "country on that day, after fees (whole period).",
            ),
            _skip_list_section(data, filters),
        ]
    if data.allowed("population-pay"):
        parts.append(
            section(
                "Payment delays by platform",
                data_table("earnings-platform-delays", q.platform_pay_delays(data, filters)),
            )
        )
    return parts


def _skip_list_section(data: ScopedData, filters: Filters) -> Any:
    currency = data.settings.reporting_currency
    threshold = q.skip_threshold(filters)
    table = data_table("earnings-skiplist", q.skip_list(data, filters))
    if not data.allowed("own-skip-threshold"):
        return section(
            "Skip list",
            table,
            note="Task types and projects that pay a worker below the threshold (config.toml, "
            "else the worker's wage floor), with a bootstrap interval over days (whole period).",
        )
    chooser = dmc.NumberInput(
        id="earnings-skip-below",
        label=f"Skip work paying less than ({currency} per hour)",
        description="Empty: your country's wage floor"
        + ("" if not data.settings.pay.skip_below_wage else " (config.toml's threshold)"),
        value=threshold if threshold is not None else "",
        min=0,
        max=q.MAX_THRESHOLD,
        step=0.5,
        decimalScale=2,
        debounce=600,
        w=320,
        mb="sm",
    )
    return section(
        "Skip list",
        dmc.Stack([chooser, table], gap=0),
        note="Task types and projects whose effective wage for you is below the threshold, "
        "with a bootstrap interval over days (whole period).",
    )


def _cards(row: dict, currency: str, freelancer: bool = False) -> list:
    per_hour = f"{currency}/h"
    # a freelancer's "workers" are their own ids, one per platform
    who = "of your ids" if freelancer else "worker(s)"
    return [
        kpi_card(
            "Effective wage",
            fmt_money(row["effective_wage"], per_hour),
            "earnings / all hours worked",
            help_key="sessions-and-effective-hourly-pay",
        ),
        kpi_card(
            "Paid-time wage",
            fmt_money(row["paid_time_wage"], per_hour),
            "earnings / hours of approved work",
            help_key="sessions-and-effective-hourly-pay",
        ),
        kpi_card(
            "Net earnings",
            _net_or_no_pay_data(row, currency),
            f"over {row['hours_worked']:,.1f} hours by {row['workers']:,} {who}"
            + _unpriced_note(row),
        ),
        kpi_card(
            "Pending",
            fmt_money(row["pending_payout"] + row["pending_review"], currency),
            "approved but unpaid, or awaiting review",
        ),
    ]


def _net_or_no_pay_data(row: dict, currency: str) -> str:
    """'no pay data' where every hour in view is on a tool that records no pay: 0.00 would
    read as 'paid nothing'."""
    if not row["hours_worked"] and row.get("unpriced_hours"):
        return "no pay data"
    return fmt_money(row["net_earnings"], currency)


def _unpriced_note(row: dict) -> str:
    hours = row.get("unpriced_hours") or 0.0
    return f"; {hours:,.1f} more hours with no pay data, in no wage" if hours >= 0.05 else ""


def waterfall_figure(row: dict, currency: str) -> go.Figure:
    steps = [name for name, _ in WATERFALL]
    labels = ["gross paid-time wage", *[s.replace("_", " ") for s in steps], "effective wage"]
    values = [
        row["gross_paid_time_wage"],
        *[row[f"step_{s}"] for s in steps],
        row["effective_wage"],
    ]
    if any(v is None for v in values):
        return empty_figure("No wage: no approved, priced work in view")
    fig = go.Figure(
        go.Waterfall(
            x=labels,
            y=values,
            measure=["absolute", *["relative"] * len(steps), "total"],
            text=[
                f"{v:+.2f}" if 0 < i < len(values) - 1 else f"{v:.2f}" for i, v in enumerate(values)
            ],
            textposition="outside",
            connector={"line": {"color": "#adb5bd"}},
            decreasing={"marker": {"color": "#fa5252"}},
            increasing={"marker": {"color": "#40c057"}},
            totals={"marker": {"color": "#228be6"}},
        )
    )
    return styled(fig, "", f"wage ({currency} per hour)", height=360)


def weekly_figure(weeks: pl.DataFrame, currency: str) -> go.Figure:
    fig = go.Figure()
    for platform, rows, color in platform_series(weeks.sort("week"), "effective_wage"):
        fig.add_scatter(
            x=rows["week"].to_list(),
            y=rows["effective_wage"].to_list(),
            name=chart_text(platform),
            mode="lines+markers",
            line_color=color,
            hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} " + currency + "/h",
        )
    fig.update_layout(showlegend=True)
    return styled(fig, WEEK_TITLE, f"effective wage ({currency} per hour)")


def _suppressed_text(data: ScopedData) -> str:
    return (
        f"Fewer than {data.min_group_size} workers are behind these figures, so they are "
        "not shown. Widen the filters."
    )


def register(app: dash.Dash, source: DataSource) -> None:
    def to_focus(value: Any) -> str:
        return f"{value:g}" if isinstance(value, int | float) and value > 0 else ""

    keep_focus_in_url(app, source, PAGE, "earnings-skip-below", to_focus)


PAGE = Page(
    path="/earnings",
    title="Earnings",
    icon="$",
    action="earnings",
    layout=layout,
    tables={
        "earnings-platforms": q.platform_comparison,
        "earnings-task-types": q.by_task_type,
        "earnings-workers": q.per_worker,
        "earnings-delays": q.worker_delays,
        "earnings-fairpay": q.fair_pay,
        "earnings-skiplist": q.skip_list,
        "earnings-platform-delays": q.platform_pay_delays,
    },
    register=register,
    description="effective wage, delays, floors",
)
