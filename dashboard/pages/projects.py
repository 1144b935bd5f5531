"""Project: will a project make its milestones, at the quality promised, within budget, and who
needs help. Burn-up with the forecast fan, milestones, budget, quality gate, workforce, alerts."""

from __future__ import annotations

from typing import Any

import dash
import dash_mantine_components as dmc
import polars as pl

from dashboard.components.cards import (
    fmt_count,
    fmt_money,
    fmt_share,
    kpi_card,
    kpi_grid,
    section,
)
from dashboard.components.charts import graph
from dashboard.components.tables import data_table
from dashboard.components.tracking_charts import burnup_figure, scope_change_note, workforce_figure
from dashboard.data import DataSource, ScopedData
from dashboard.pages.base import Page, keep_focus_in_url
from dashboard.queries import projects as q
from dashboard.url_state import Filters
from metrics.catalog import CATALOG
from metrics.project_tracking import ProjectStatus


def help_id(metric: str) -> str:
    return CATALOG[metric].help_id


def layout(data: ScopedData, filters: Filters) -> Any:
    head = dmc.Stack(
        [
            dmc.Title("Project", order=2),
            dmc.Text(
                "Will the project make its milestones, at the quality promised, within budget?",
                c="dimmed",
            ),
        ],
        gap=0,
        mb="md",
    )
    planned = q.planned_projects(data, filters)
    project = q.focused_project(data, filters)
    if project is None:
        return [head, section("No planned project here", dmc.Text(_no_plan_text(data)))]
    picker = dmc.Select(
        id="project-select",
        label="Project",
        data=[
            {"value": key, "label": f"{key} · {name}"}
            for key, name in planned.select("project", "name").iter_rows()
        ],
        value=project,
        searchable=True,
        allowDeselect=False,
        w=480,
    )
    status = q.project_status(data, filters, project)
    return [
        head,
        dmc.Paper(picker, p="sm", withBorder=True, radius="md", mb="md"),
        kpi_grid(_forecast_cards(status)),
        section(
            "Burn-up and forecast",
            graph("project-burnup", burnup_figure(status)),
            help_key=help_id("burnup"),
            note=_forecast_note(status),
        ),
        section(
            "Milestones",
            data_table("project-milestones", milestone_rows(status), shares={"probability"}),
            help_key=help_id("milestone_probability"),
            note="Probability: the share of 10,000-odd simulated futures that reach the target "
            "by the end of the due day.",
        ),
        section(
            "Budget", _budget(status, data.settings.reporting_currency), help_key=help_id("cpi")
        ),  # fmt: skip
        section(
            "Quality gate",
            data_table("project-quality", gate_rows(status)),
            help_key=help_id("quality_gate"),
            note="Level: the mean of the last 4 weeks with a value, weighted by the answers "
            "behind each; trend: the least-squares slope per week.",
        ),
        section(
            "Workforce",
            graph("project-workforce", workforce_figure(q.workforce_weekly(data, filters))),
            help_key=help_id("active_annotators"),
        ),
        section(
            "Annotators",
            _annotators(data, filters),
            help_key=help_id("below_bar"),
            note="Tasks per active hour, median seconds per task and hours use the platform's "
            "own active time, else the task's share of the worker's session; accuracy on gold; "
            "agreement with the others' majority. Flagged annotators first.",
        ),
        section("Alerts", _alerts(status), help_key=help_id("alert")),
    ]


def _no_plan_text(data: ScopedData) -> str:
    text = "No project in this view has a plan with a target. Load a projects CSV "
    text += "(docs/IMPORTING.md), or clear the platform and project filters."
    if data.scope_kind == "projects":
        text += " Your projects: " + ", ".join(data.viewer.project_keys) + "."
    return text


def _forecast_cards(status: ProjectStatus) -> list:
    f = status.forecast
    share = f.done / f.scope if f.scope else None
    return [
        kpi_card(
            "Done",
            f"{fmt_count(f.done)} of {fmt_count(f.scope)}",
            f"{fmt_share(share)} of the scope (items)",
            help_id("scope"),
        ),  # fmt: skip
        kpi_card(
            "P50 completion",
            str(f.p50 or "–"),
            "half the futures finish by then",
            help_id("forecast_p50"),
        ),  # fmt: skip
        kpi_card(
            "P85 completion",
            str(f.p85 or "–"),
            "85% of the futures finish by then",
            help_id("forecast_p85"),
        ),  # fmt: skip
        kpi_card(
            "P95 completion",
            str(f.p95 or "–"),
            "95% of the futures finish by then",
            help_id("forecast_p95"),
        ),  # fmt: skip
    ]


def _forecast_note(status: ProjectStatus) -> str:
    f = status.forecast
    note = (
        f"Forecast made on {f.as_of} from the {f.window_days} days before it "
        f"({f.mean_daily or 0:,.1f} items a day on average, zero days included), "
        f"{f.runs:,} futures. Set the end of the date range to see the forecast made then."
    )
    note += f" {f.reason.capitalize()}." if f.reason else ""
    return " ".join(part for part in (note, scope_change_note(status)) if part)


def milestone_rows(status: ProjectStatus) -> pl.DataFrame:
    """The milestones with their probability, as the page's table shows them."""
    schema = {"milestone": pl.String, "due": pl.Date, "target": pl.Int64,
              "probability": pl.Float64, "p85": pl.Date, "met": pl.Boolean}  # fmt: skip
    rows = [
        {"milestone": m.milestone, "due": m.due, "target": m.target,
         "probability": m.probability, "p85": m.p85, "met": m.met}
        for m in status.forecast.milestones
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def gate_rows(status: ProjectStatus) -> pl.DataFrame:
    """The quality gates, one row per metric."""
    schema = {"metric": pl.String, "target": pl.Float64, "level": pl.Float64,
              "status": pl.String, "trend": pl.String, "slope_per_week": pl.Float64,
              "weeks": pl.Int64, "last_week": pl.Date}  # fmt: skip
    rows = [{k: getattr(g, k) for k in schema} for g in status.gates]
    return pl.DataFrame(rows, schema=schema)


def _budget(status: ProjectStatus, currency: str) -> Any:
    if status.spend is None:
        return dmc.Text("No spend recorded.", c="dimmed")
    ev = status.earned_value
    if not status.spend["total"]:
        return dmc.Text(
            "This project's exports record no rewards or bonuses (a vendor or in-house tool), "
            "so there is no spend, CPI or estimate at completion to show.",
            c="dimmed",
        )
    money = [
        ("Spend to date", fmt_money(status.spend["total"], currency),
         f"rewards {status.spend['rewards']:,.2f}, bonuses {status.spend['bonuses']:,.2f}, "
         f"fees {status.spend['fees']:,.2f}", "spend_to_date"),
        ("Spend rate", fmt_money(status.spend_per_day, currency) + " a day",
         "over the last 14 days", "spend_rate"),
    ]  # fmt: skip
    if ev is None:
        cards = [kpi_card(label, value, note, help_id(m)) for label, value, note, m in money]
        why = "No earned value: the plan has no budget, start or due date."
        return dmc.Stack([kpi_grid(cards), dmc.Text(why, c="dimmed", mt=6)])
    ratio = "–" if ev.cpi is None else f"{ev.cpi:.2f}"
    schedule = "–" if ev.spi is None else f"{ev.spi:.2f}"
    money += [
        ("Estimate at completion", fmt_money(ev.eac, currency),
         f"budget {fmt_money(ev.budget, currency)}", "eac"),
        ("CPI / SPI", f"{ratio} / {schedule}", "earned value over cost / over plan", "cpi"),
        ("Earned value", fmt_money(ev.earned_value, currency),
         f"planned value {fmt_money(ev.planned_value, currency)}", "earned_value"),
        ("Cost per item", fmt_money(ev.cost_per_unit, currency, 4), "spend / items done",
         "cost_per_unit"),
    ]  # fmt: skip
    return kpi_grid([kpi_card(label, value, note, help_id(m)) for label, value, note, m in money])


def _annotators(data: ScopedData, filters: Filters) -> Any:
    if not data.allowed("per-worker-rows"):
        return dmc.Text("Per-annotator rows are not shown to your role.", c="dimmed")
    table = q.annotators(data, filters)
    return data_table("project-annotators", table, shares={"accuracy", "agreement", "speed_change"})


def _alerts(status: ProjectStatus) -> Any:
    if not status.findings:
        return dmc.Text("No alert rule fires for this project.", c="dimmed")
    items = []
    for finding in status.findings:
        evidence = finding.as_dict()["evidence"]
        shown = ", ".join(f"{k} {_evidence(v)}" for k, v in evidence.items() if v is not None)
        items.append(
            dmc.Alert(
                dmc.Text(shown, size="sm"),
                title=f"{finding.rule.replace('_', ' ')}: {finding.message}",
                color="red" if finding.rule == "forecast_past_due" else "orange",
                variant="light",
                mt=6,
            )
        )
    return dmc.Stack(items, gap=4)


def _evidence(value: Any) -> str:
    return f"{value:,.3g}" if isinstance(value, float) else str(value)


def register(app: dash.Dash, source: DataSource) -> None:
    def to_focus(key: Any) -> str | None:
        return key if isinstance(key, str) else None

    keep_focus_in_url(app, source, PAGE, "project-select", to_focus)


def _table(build: Any) -> Any:
    def table(data: ScopedData, filters: Filters) -> pl.DataFrame:
        project = q.focused_project(data, filters)
        return build(q.project_status(data, filters, project)) if project else pl.DataFrame()

    return table


PAGE = Page(
    path="/project",
    title="Project",
    icon="◷",
    action="project-tracking",
    layout=layout,
    tables={
        "project-milestones": _table(milestone_rows),
        "project-quality": _table(gate_rows),
        "project-annotators": q.annotators,
    },
    register=register,
    description="milestones, forecast, budget, workforce, alerts",
)
