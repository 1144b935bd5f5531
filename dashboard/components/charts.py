"""Plotly figures in one house style: titled axes with units, readable fonts, no chart junk."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from dash import dcc

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


def chart_text(value: Any) -> str:
    """Text from data as a chart shows it, literally: Plotly reads `<a href>`, `<b>`, `<br>`
    and entities in names, labels and hover text, so `<`, `>` and `&` go as entities."""
    return html.escape(str(value), quote=False)


def chart_texts(values: Iterable[Any]) -> list[str]:
    """`chart_text` of each value."""
    return [chart_text(v) for v in values]


def styled(fig: go.Figure, x_title: str, y_title: str, height: int = 320) -> go.Figure:
    """Axis titles (name the unit in the title: 'hours', 'USD/h') and height; `graph` adds
    the rest of the house style."""
    # the empty template: Plotly would otherwise build and validate its default one
    fig.update_layout(
        template="none", height=height, xaxis_title_text=x_title, yaxis_title_text=y_title
    )
    return fig


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
