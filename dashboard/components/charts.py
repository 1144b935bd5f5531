"""Plotly figures in one house style: titled axes with units, readable fonts, no chart junk."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from dash import dcc

PALETTE = ["#228be6", "#40c057", "#fab005", "#fa5252", "#7950f2", "#15aabf", "#fd7e14", "#868e96"]
# Plotly validates and copies a template each time a figure is given one (15 ms a figure, most
# of a page's server time), so figures are built on the empty template and `graph` puts the
# house template, turned into plain JSON once, into the figure it sends.
HOUSE_TEMPLATE = pio.templates["plotly_white"].to_plotly_json()


def styled(fig: go.Figure, x_title: str, y_title: str, height: int = 320) -> go.Figure:
    """Apply the house style and axis titles (name the unit in the title: 'hours', 'USD/h')."""
    fig.update_layout(
        template="none",
        colorway=PALETTE,
        height=height,
        margin={"l": 60, "r": 20, "t": 20, "b": 50},
        font={"family": "Inter, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hoverlabel={"bgcolor": "white"},
    )
    fig.update_xaxes(title_text=x_title, showgrid=False)
    fig.update_yaxes(title_text=y_title, gridcolor="#eef0f2", rangemode="tozero")
    return fig


def graph(graph_id: str, fig: go.Figure) -> dcc.Graph:
    """A graph without the plotly mode bar clutter, exportable as PNG."""
    return dcc.Graph(
        id=graph_id,
        figure=with_house_template(fig),
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


def with_house_template(fig: go.Figure) -> dict[str, Any]:
    """The figure as JSON with the house template (see HOUSE_TEMPLATE)."""
    figure = fig.to_plotly_json()
    figure["layout"]["template"] = HOUSE_TEMPLATE
    return figure
