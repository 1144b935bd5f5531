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
from dashboard.components.charts import empty_figure, graph, styled
from dashboard.components.tables import data_table
from dashboard.data import DataSource, Filters, ScopedData
from dashboard.pages.base import Page, keep_focus_in_url
from metrics.pay import WATERFALL, summarise_wages, wages_across_workers

WAGE_COLUMNS = ["paid_time_wage", "effective_wage", "gross_paid_time_wage"]


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
    if not data.pay_sums(filters, [])["workers"][0]:
        return [head, notice("No pay records here", "No priced work or logged earnings in view.")]
    total = overall(data, filters)
    if total.is_empty():
        return [head, notice("Too few workers", _suppressed_text(data))]
    parts = [
        head,
        kpi_grid(_cards(total.row(0, named=True), currency, data.viewer.role == "freelancer")),
        section(
            "From paid-time wage to effective wage",
            graph("earnings-waterfall", waterfall_figure(total.row(0, named=True), currency)),
            help_key="sessions-and-effective-hourly-pay",
            note="Each step adds one kind of unpaid time to the hours (or takes the fees off).",
        ),
        section(
            "Effective wage by week",
            graph("earnings-weekly", weekly_figure(by_week(data, filters), currency)),
            help_key="sessions-and-effective-hourly-pay",
        ),
        section(
            "Platforms compared",
            data_table("earnings-platforms", platform_comparison(data, filters)),
            note="Median and mean across workers (each worker counts once) and the pooled wage "
            "(all earnings / all hours).",
        ),
        section("By task type", data_table("earnings-task-types", by_task_type(data, filters))),
    ]
    return parts + _role_sections(data, filters)


def _role_sections(data: ScopedData, filters: Filters) -> list:
    role = data.viewer.role
    parts = []
    if role in ("admin", "manager"):
        parts.append(
            section(
                "Per worker",
                data_table("earnings-workers", per_worker(data, filters)),
                note="Pay on the projects in view, per worker and platform.",
            )
        )
    if role in ("admin", "freelancer"):
        parts += [
            section(
                "Payment delays and unpaid money",
                data_table("earnings-delays", worker_delays(data, filters)),
                help_key="sessions-and-effective-hourly-pay",
                note="Whole period: days from submission to payment; money earned but "
                "not yet paid.",
            ),
            section(
                "Wage-floor check",
                data_table(
                    "earnings-fairpay", fair_pay(data, filters), shares={"share_below_floor"}
                ),
                note="Share of hours paid below the legal minimum wage of the worker's "
                "country on that day, after fees (whole period).",
            ),
            _skip_list_section(data, filters),
        ]
    if role in ("admin", "auditor"):
        parts.append(
            section(
                "Payment delays by platform",
                data_table("earnings-platform-delays", data.platform_pay_delays(filters)),
            )
        )
    return parts


def wages(
    data: ScopedData, filters: Filters, table: str, by: list[str], columns: list[str] = ()
) -> pl.DataFrame:
    """Wages per group of `by` over the viewer's rows: the published whole-period table for
    the unfiltered view of all workers (its `columns` only when named), else `summarise_wages`
    on sums per group."""
    published = data.published_wages(table, filters, columns)
    if published is not None:
        return published
    sums = data.pay_sums(filters, by)
    # one row per group: the group's distinct workers come from the sums, not from the rows
    rows = sums if "worker_id" in by else sums.with_columns(worker_id=pl.lit(None, pl.String))
    if "week" in by:
        rows = rows.with_columns(day=pl.col("week"))  # summarise_wages takes weeks from days
    table = summarise_wages(rows, by)
    if "worker_id" in by:
        return table
    if not by:
        return table.with_columns(workers=sums["workers"])
    return _with_workers(table, sums, by)


def _with_workers(table: pl.DataFrame, sums: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    workers = sums.select(*by, "workers")
    return table.drop("workers").join(workers, on=by, how="left", nulls_equal=True)


def overall(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """One row: wages and the waterfall over everything in view (suppressed for small groups)."""
    return data.suppress_small_groups(wages(data, filters, "overall", []))


def by_week(data: ScopedData, filters: Filters) -> pl.DataFrame:
    frame = wages(data, filters, "weekly", ["platform", "week"])
    return data.suppress_small_groups(frame)


def by_task_type(data: ScopedData, filters: Filters) -> pl.DataFrame:
    frame = wages(data, filters, "task_types", ["platform", "task_type"])
    # tracked time and tasks that name no task type (searching, qualification tests...)
    frame = frame.with_columns(pl.col("task_type").fill_null(NO_TASK_TYPE))
    return _readable(data.suppress_small_groups(frame))


NO_TASK_TYPE = "(none given)"


def platform_comparison(data: ScopedData, filters: Filters) -> pl.DataFrame:
    frame = data.published_wages("platforms", filters)
    if frame is None:
        # each worker's wage counts once: the spread is taken over per-worker sums
        per_worker = data.pay_sums(filters, ["worker_id", "platform"])
        frame = wages_across_workers(per_worker, ["platform"])
    return data.suppress_small_groups(frame).select(
        "platform",
        "workers",
        "hours_worked",
        "net_earnings",
        "median_effective_wage",
        "mean_effective_wage",
        "pooled_effective_wage",
        "median_paid_time_wage",
        "pooled_paid_time_wage",
    )


def per_worker(data: ScopedData, filters: Filters) -> pl.DataFrame:
    data.require_per_worker()
    by = ["worker_id", "platform"]
    frame = wages(data, filters, "workers", by, [*by, *READABLE])
    return _readable(frame).sort("effective_wage", nulls_last=True)


DELAY_COLUMNS = [
    "worker_id",
    "platform",
    "paid",
    "median_delay_days",
    "p90_delay_days",
    "unpaid_earned",
    "oldest_unpaid_days",
    "pending_payout",
    "pending_review",
]


def worker_delays(data: ScopedData, filters: Filters) -> pl.DataFrame:
    return data.worker_pay_table("by_worker", filters, DELAY_COLUMNS)


def fair_pay(data: ScopedData, filters: Filters) -> pl.DataFrame:
    return data.worker_pay_table("fairpay", filters)


def skip_list(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """The published skip list (config's threshold, else each worker's wage floor), or a
    freelancer's own at the threshold they chose on the page."""
    threshold = skip_threshold(filters)
    if threshold is not None and data.viewer.role == "freelancer":
        listed = data.skip_list_below(threshold, filters)
    else:
        listed = data.worker_pay_table("skiplist", filters)
    first = ["worker_id", "platform", "kind", "name"]
    return listed.select(*first, pl.exclude(first))


MAX_THRESHOLD = 10_000.0  # per hour, in the reporting currency: anything above is a typo


def skip_threshold(filters: Filters) -> float | None:
    """The skip-list threshold chosen on the page (the URL's `focus`), if it is a wage."""
    try:
        value = float(filters.focus)
    except ValueError:
        return None
    return value if 0 < value <= MAX_THRESHOLD else None


def _skip_list_section(data: ScopedData, filters: Filters) -> Any:
    currency = data.settings.reporting_currency
    threshold = skip_threshold(filters)
    table = data_table("earnings-skiplist", skip_list(data, filters))
    if data.viewer.role != "freelancer":
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
        max=MAX_THRESHOLD,
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


READABLE = [
    "workers",
    "hours_worked",
    "net_earnings",
    "paid_time_wage",
    "effective_wage",
    "tasks_approved",
    "tasks_rejected",
    "pending_payout",
]


def _readable(frame: pl.DataFrame) -> pl.DataFrame:
    keys = [c for c in ("worker_id", "platform", "task_type", "week") if c in frame.columns]
    return frame.select(*keys, *READABLE)


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
            fmt_money(row["net_earnings"], currency),
            f"over {row['hours_worked']:,.1f} hours by {row['workers']:,} {who}",
        ),
        kpi_card(
            "Pending",
            fmt_money(row["pending_payout"] + row["pending_review"], currency),
            "approved but unpaid, or awaiting review",
        ),
    ]


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
    for platform in sorted(set(weeks["platform"].to_list())):
        rows = weeks.filter(pl.col("platform") == platform).sort("week")
        fig.add_scatter(
            x=rows["week"].to_list(),
            y=rows["effective_wage"].to_list(),
            name=platform,
            mode="lines+markers",
            hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} " + currency + "/h",
        )
    fig.update_layout(showlegend=True)
    return styled(fig, "week starting (UTC)", f"effective wage ({currency} per hour)")


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
    roles=frozenset({"admin", "manager", "freelancer", "auditor"}),
    layout=layout,
    tables={
        "earnings-platforms": platform_comparison,
        "earnings-task-types": by_task_type,
        "earnings-workers": per_worker,
        "earnings-delays": worker_delays,
        "earnings-fairpay": fair_pay,
        "earnings-skiplist": skip_list,
        "earnings-platform-delays": lambda data, filters: data.platform_pay_delays(filters),
    },
    register=register,
    description="effective wage, delays, floors",
)
