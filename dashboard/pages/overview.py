"""Overview: what is in the warehouse for the viewer's scope, how fresh it is, headline figures."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
import plotly.graph_objects as go
import polars as pl

from dashboard.components.cards import (
    fmt_count,
    fmt_share,
    kpi_card,
    kpi_grid,
    notice,
    section,
)
from dashboard.components.charts import WEEK_TITLE, chart_text, graph, platform_series, styled
from dashboard.components.tables import data_table
from dashboard.data import ScopedData
from dashboard.pages.base import Page
from dashboard.queries import overview as q
from dashboard.url_state import Filters


def layout(data: ScopedData, filters: Filters) -> Any:
    totals = q.activity_totals(data, filters)
    if totals.get("suppressed"):
        return [_title(), notice("Too few workers", _suppressed_text(data), color="gray")]
    if not totals["assignments"]:
        return [_title(), _empty_scope(data, filters)]
    weekly = q.weekly_activity(data, filters)
    projects = q.project_summary(data, filters)
    return [
        _title(),
        kpi_grid(_volume_cards(totals) + _quality_cards(totals, q.freshness(data))),
        section(
            "Assignments per week",
            graph("overview-weekly", weekly_figure(weekly)),
            note="Assignments by the week they were submitted (UTC), stacked by platform.",
        ),
        section(
            "Projects",
            data_table("overview-projects", projects, shares={"approval_rate", "gold_accuracy"}),
            note=_suppression_note(data),
        ),
    ]


def _title() -> dmc.Stack:
    return dmc.Stack(
        [
            dmc.Title("Overview", order=2),
            dmc.Text("What is in the warehouse for your view, and how fresh it is.", c="dimmed"),
        ],
        gap=0,
        mb="md",
    )


def _volume_cards(totals: dict) -> list:
    span = f"{totals['first_day']} to {totals['last_day']}" if totals["first_day"] else ""
    return [
        kpi_card("Assignments", fmt_count(totals["assignments"]), span),
        kpi_card(
            "Workers",
            fmt_count(totals["workers"]),
            f"on {_plural(totals['platforms'], 'platform')}; {fmt_count(totals['annotators'])} "
            f"with assignments, in {_plural(totals['projects'], 'project')}",
        ),
        kpi_card(
            "Active time",
            f"{fmt_count(totals['active_hours'])} h",
            "as measured by the platforms that record it",
            help_key="throughput",
        ),
    ]


def _plural(count: int | None, noun: str) -> str:
    return f"{fmt_count(count)} {noun}{'' if count == 1 else 's'}"


def _quality_cards(totals: dict, freshness: dict) -> list:
    return [
        kpi_card(
            "Gold accuracy",
            fmt_share(totals["gold_accuracy"]),
            f"over {fmt_count(totals['gold_answered'])} gold answers",
            help_key="quality",
        ),
        kpi_card(
            "Review rejection rate",
            fmt_share(totals["rejection_rate"]),
            f"of {fmt_count(totals['reviewed'])} reviewed assignments",
            help_key="quality",
        ),
        kpi_card(
            "Newest work",
            str(freshness["newest_day"] or "–"),
            f"last load {_when(freshness['last_run_at'])}",
        ),
    ]


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "never"


def weekly_figure(weekly: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    for platform, rows, color in platform_series(weekly, "assignments"):
        fig.add_bar(
            x=rows["week"].to_list(),
            y=rows["assignments"].to_list(),
            name=chart_text(platform),
            marker_color=color,
            customdata=rows["workers"].to_list(),
            hovertemplate="%{x|%Y-%m-%d}: %{y:,} assignments by %{customdata} workers",
        )
    fig.update_layout(barmode="stack", showlegend=True)  # name the platform even when alone
    return styled(fig, WEEK_TITLE, "assignments")


def _suppression_note(data: ScopedData) -> str:
    if data.suppresses_small_groups:
        return (
            f"Projects with fewer than {data.min_group_size} workers are not shown (nor the "
            "smallest others, when those left out are fewer together); dates cover whole "
            "weeks, Monday to Sunday."
        )
    return (
        "Approval rate: approved / reviewed. Gold accuracy: right gold answers / gold answered. "
        "Active hours: as the platform measures them (– where it measures none)."
    )


def _suppressed_text(data: ScopedData) -> str:
    return (
        f"Fewer than {data.min_group_size} workers are behind these figures, so none is shown. "
        "Widen the filters."
    )


def _empty_scope(data: ScopedData, filters: Filters) -> Any:
    if filters != Filters():
        return notice("Nothing matches these filters", "Widen the dates or clear the filters.")
    if data.scope_kind == "workers":
        return notice(
            "None of your work is in the data yet",
            f"Your login is linked to {len(data.viewer.workers)} platform id(s), and no "
            "assignment of theirs has been loaded. Ask your admin to check the ids you gave "
            "(`crowdmeter users add NAME --role freelancer --worker PLATFORM:ID --replace`), "
            "or load your exports with `crowdmeter ingest`.",
        )
    if data.scope_kind == "projects":
        return notice(
            "None of your projects has data yet",
            "Your projects: " + ", ".join(data.viewer.project_keys) + ". Load their exports "
            "with `crowdmeter ingest PATH...`, or ask your admin to check the project ids.",
        )
    return notice("No assignments loaded yet", "Load exports with `crowdmeter ingest PATH...`.")


PAGE = Page(
    path="/",
    title="Overview",
    icon="◎",
    action="overview",
    layout=layout,
    tables={"overview-projects": q.project_summary},
    description="volume, freshness, headline figures",
)
