"""Plotly figures in one house style: titled axes with units, readable fonts, no chart junk."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from dash import dcc

from metrics.catalog import CATALOG

PALETTE = ["#228be6", "#40c057", "#fab005", "#fa5252", "#7950f2", "#15aabf", "#fd7e14", "#868e96"]
# Plotly validates every layout property set through its objects (about 25 ms for the house
# style of one figure, the most of a page's server time), so the style is kept as plain JSON,
# built once, and merged into each figure's JSON by `graph`; the figure's own settings win.
HOUSE_TEMPLATE = pio.templates["plotly_white"].to_plotly_json()
HOUSE_LAYOUT: dict[str, Any] = {
    "template": HOUSE_TEMPLATE,
    "colorway": PALETTE,
    "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
    "font": {"family": "Inter, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    "hoverlabel": {"bgcolor": "white"},
    "xaxis": {"showgrid": False},
    "yaxis": {"gridcolor": "#eef0f2", "rangemode": "tozero"},
}


# One colour per platform on every chart and in the HTML reports, whatever else a chart shows:
# the platforms Crowdmeter knows have their own, any other platform a colour from its name.
PLATFORM_COLORS = {
    "mturk": "#fd7e14",
    "toloka": "#7950f2",
    "appen": "#228be6",
    "labelstudio": "#40c057",
    "prodigy": "#e64980",
    "dataannotation": "#15aabf",
    "outlier": "#fab005",
    "prolific": "#82c91e",
    "clickworker": "#be4bdb",
    "upwork": "#2f9e44",
    "labelbox": "#1864ab",
    "doccano": "#c92a2a",
    "cvat": "#5f3dc4",
}
OTHER_PLATFORM_COLORS = ["#495057", "#a61e4d", "#087f5b", "#5c940d", "#d9480f", "#364fc7"]
WEEK_TITLE = "week starting (UTC)"
MAX_WEEK_TICKS = 14  # more weekly ticks than this crowd a page-wide chart: tick every n weeks


def platform_color(platform: str) -> str:
    """The colour of `platform` on every chart (stable across pages, filters and reports)."""
    if platform in PLATFORM_COLORS:
        return PLATFORM_COLORS[platform]
    digest = hashlib.sha256(platform.encode()).digest()
    return OTHER_PLATFORM_COLORS[digest[0] % len(OTHER_PLATFORM_COLORS)]


def platform_series(frame: pl.DataFrame, value: str) -> Iterator[tuple[str, pl.DataFrame, str]]:
    """(platform, its rows, its colour) for each platform of `frame` with a value to draw in
    column `value`: a platform whose values are all empty gets no trace, so no legend entry."""
    if frame.is_empty():
        return
    for platform in sorted(set(frame["platform"].to_list())):
        rows = frame.filter(pl.col("platform") == platform)
        values = rows[value].fill_nan(None) if rows[value].dtype.is_float() else rows[value]
        if values.null_count() == values.len():
            continue
        yield platform, rows, platform_color(platform)


def figure_heading(name: str) -> str:
    """A figure's name as people read it ("gwet_ac1" -> "Gwet's AC1"), never snake_case."""
    metric = CATALOG.get(name)
    return metric.heading if metric else name.replace("_", " ")


def week_ticks(weeks: Iterable[date]) -> dict[str, Any]:
    """X-axis settings for bars or points at week starts: one tick per week (or every n weeks
    when there are many), on the weeks themselves, labelled by their first day."""
    days = sorted({w for w in weeks if isinstance(w, date)})
    if not days:
        return {}
    first = days[0] - timedelta(days=days[0].weekday())  # the Monday the data's weeks start on
    span = (days[-1] - first).days // 7 + 1
    step = -(-span // MAX_WEEK_TICKS)  # ceiling
    return {
        "tick0": first.isoformat(),
        "dtick": 7 * step * 86_400_000,  # milliseconds, as Plotly counts date axes
    }


def chart_text(value: Any) -> str:
    """Text from data as a chart shows it, literally: Plotly reads `<a href>`, `<b>`, `<br>`
    and entities in names, labels and hover text, so `<`, `>` and `&` go as entities."""
    return html.escape(str(value), quote=False)


def chart_texts(values: Iterable[Any]) -> list[str]:
    """`chart_text` of each value."""
    return [chart_text(v) for v in values]


def styled(fig: go.Figure, x_title: str, y_title: str, height: int = 320) -> go.Figure:
    """Axis titles (name the unit in the title: 'hours', 'USD/h') and height; `graph` adds
    the rest of the house style. An x axis titled WEEK_TITLE gets weekly ticks."""
    # the empty template: Plotly would otherwise build and validate its default one
    fig.update_layout(
        template="none", height=height, xaxis_title_text=x_title, yaxis_title_text=y_title
    )
    if x_title == WEEK_TITLE:  # a weekly axis ticks weeks, never days
        fig.update_xaxes(**week_ticks(_x_dates(fig)))
    return fig


def _x_dates(fig: go.Figure) -> list[date]:
    found = []
    for trace in fig.data:
        for x in getattr(trace, "x", None) or ():
            if isinstance(x, date):
                found.append(x)
            elif isinstance(x, str):
                try:
                    found.append(date.fromisoformat(x[:10]))
                except ValueError:
                    continue
    return found


def graph(graph_id: str, fig: go.Figure) -> dcc.Graph:
    """A graph without the plotly mode bar clutter, exportable as PNG."""
    return dcc.Graph(
        id=graph_id,
        figure=with_house_style(fig),
        config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]},
    )


def empty_figure(message: str) -> go.Figure:
    """A short blank chart that says why there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 15, "color": "#868e96"})
    fig = styled(fig, "", "", height=160)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def with_house_style(fig: go.Figure) -> dict[str, Any]:
    """The figure as JSON in the house style (see HOUSE_LAYOUT)."""
    figure = fig.to_plotly_json()
    own = {k: v for k, v in figure["layout"].items() if k != "template"}
    figure["layout"] = _merged(HOUSE_LAYOUT, own)
    return figure


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`base` updated with `over`, nested dictionaries merged key by key."""
    out = dict(base)
    for key, value in over.items():
        below = out.get(key)
        out[key] = (
            _merged(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
        )
    return out
