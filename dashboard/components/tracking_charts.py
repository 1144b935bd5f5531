"""Project-tracking charts, shared by the Project page and the project report: the burn-up with
its scope line, milestones and forecast fan, and the weekly workforce."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import polars as pl

from dashboard.components.charts import PALETTE, chart_text, chart_texts, empty_figure, styled
from metrics.project_tracking import ProjectStatus

FAN = "rgba(34, 139, 230, 0.12)"


def burnup_figure(status: ProjectStatus) -> go.Figure:
    """Items done to date, the scope line, each milestone's target at its due day, and the
    forecast fan from the forecast day to the P50, P85 and P95 completion dates."""
    line = status.burnup
    if line.is_empty():
        return empty_figure("No accepted work before the forecast day")
    fig = go.Figure()
    days = line["day"].to_list()
    fig.add_scatter(x=days, y=line["done"].to_list(), name="done", mode="lines",
                    line={"color": PALETTE[0], "width": 3},
                    hovertemplate="%{x|%Y-%m-%d}: %{y:,} items done")  # fmt: skip
    forecast = status.forecast
    _add_fan(fig, status)
    # a step line: the scope of each day, then the forecast's (in force on the forecast day,
    # a change dated that day included) on to the P95 date
    scope_end = max([d for d in (forecast.p95, forecast.as_of) if d is not None])
    scope_days = [*days, forecast.as_of, scope_end]
    scopes = [*line["scope"].to_list(), forecast.scope, forecast.scope]
    fig.add_scatter(x=scope_days, y=scopes, name="scope", mode="lines", line_shape="hv",
                    line={"color": PALETTE[3], "dash": "dash"},
                    hovertemplate="%{x|%Y-%m-%d}: scope %{y:,} items")  # fmt: skip
    _add_scope_changes(fig, status.scope_changes)
    milestones = forecast.milestones
    if milestones:
        fig.add_scatter(
            x=[m.due for m in milestones],
            y=[m.target for m in milestones],
            name="milestones",
            mode="markers+text",
            text=chart_texts(m.milestone for m in milestones),
            textposition="top left",
            marker={"symbol": "diamond", "size": 11, "color": PALETTE[4]},
            customdata=[_chance(m.probability) for m in milestones],
            hovertemplate="%{text}: %{y:,} items by %{x|%Y-%m-%d}, probability %{customdata}"
            "<extra></extra>",
        )
    return styled(fig, "day (UTC)", "items", height=380)


def scope_change_note(status: ProjectStatus) -> str:
    """The scope changes known on the forecast day in one sentence ('' when there were none)."""
    changes = status.scope_changes
    if changes.is_empty():
        return ""
    last = changes.row(-1, named=True)
    times = "once" if changes.height == 1 else f"{changes.height} times"
    why = f" ({last['reason']})" if last["reason"] else ""
    return f"The scope changed {times}, last on {last['day']} to {last['scope']:,} items{why}."


def _add_scope_changes(fig: go.Figure, changes: pl.DataFrame) -> None:
    """A marker where the scope changed, its reason in the hover."""
    if changes.is_empty():
        return
    fig.add_scatter(
        x=changes["day"].to_list(),
        y=changes["scope"].to_list(),
        name="scope changes",
        mode="markers",
        marker={"symbol": "triangle-up", "size": 10, "color": PALETTE[3]},
        customdata=chart_texts(reason or "no reason given" for reason in changes["reason"]),
        hovertemplate="%{x|%Y-%m-%d}: scope %{y:,} items (%{customdata})<extra></extra>",
    )


def _add_fan(fig: go.Figure, status: ProjectStatus) -> None:
    forecast = status.forecast
    if not forecast.remaining or forecast.p50 is None:
        return
    start = forecast.as_of - timedelta(days=1)
    ends = [(name, day) for name, day in (("P50", forecast.p50), ("P85", forecast.p85),
                                          ("P95", forecast.p95)) if day is not None]  # fmt: skip
    last = ends[-1][1]
    fig.add_scatter(
        x=[start, forecast.p50, last, start],
        y=[forecast.done, forecast.scope, forecast.scope, forecast.done],
        fill="toself", fillcolor=FAN, line={"width": 0}, mode="lines",
        name="forecast P50 to " + ends[-1][0], hoverinfo="skip",
    )  # fmt: skip
    # the three paths, named in their hover: labels at their ends would overlap a week apart
    for (name, day), width in zip(ends, (1, 2, 1), strict=False):
        fig.add_scatter(
            x=[start, day], y=[forecast.done, forecast.scope], mode="lines", name=name,
            line={"color": PALETTE[0], "dash": "dot", "width": width}, showlegend=False,
            hovertemplate=f"{name}: scope reached by %{{x|%Y-%m-%d}}<extra></extra>",
        )  # fmt: skip


def _chance(probability: float | None) -> str:
    return "–" if probability is None else f"{probability:.0%}"


def workforce_figure(weekly: pl.DataFrame) -> go.Figure:
    """Active annotators per week, with those who joined and those who left."""
    if weekly.is_empty():
        return empty_figure("No completed work yet")
    weeks = weekly["week"].to_list()
    fig = go.Figure()
    fig.add_bar(x=weeks, y=weekly["active"].to_list(), name="active",
                marker_color=PALETTE[0], hovertemplate="%{x|%Y-%m-%d}: %{y} active")  # fmt: skip
    fig.add_scatter(x=weeks, y=weekly["joined"].to_list(), name="joined", mode="lines+markers",
                    line={"color": PALETTE[1]})  # fmt: skip
    fig.add_scatter(x=weeks, y=weekly["left"].to_list(), name="left", mode="lines+markers",
                    line={"color": PALETTE[3]})  # fmt: skip
    return styled(fig, "week starting (UTC)", chart_text("annotators"), height=280)
