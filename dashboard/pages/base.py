"""What a page is: its path, title, the action that opens it, its layout and its tables.

A new page is one module with a `PAGE = Page(...)`, listed in `dashboard/pages/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import dash
import polars as pl
from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from dashboard.auth import viewer_for
from dashboard.data import DataSource, ScopedData
from dashboard.url_state import Filters

TableBuilder = Callable[[ScopedData, Filters], pl.DataFrame]


@dataclass(frozen=True)
class Page:
    """One page of the app."""

    path: str
    title: str
    icon: str  # a short glyph shown in the navigation
    action: str  # the access action (dashboard.access.ACTIONS) that opens the page
    layout: Callable[[ScopedData, Filters], Any]
    tables: Mapping[str, TableBuilder] = field(default_factory=dict)
    register: Callable[[dash.Dash, DataSource], None] | None = None
    description: str = ""

    def data(self, source: DataSource) -> ScopedData:
        """The viewer's scoped data, after checking they may open this page (else 403)."""
        return source.for_viewer(viewer_for(self.action))


def keep_focus_in_url(
    app: dash.Dash,
    source: DataSource,
    page: Page,
    component: str,
    to_focus: Callable[[Any], str | None],
) -> None:
    """Keep what `component` picks in the URL's `focus` (as `to_focus` writes it; None keeps
    the URL as it is), so that the view can be shared. Only for viewers who may open `page`."""

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input(component, "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def set_focus(value: Any, search: str) -> str:
        page.data(source)
        current = Filters.from_query(search)
        focus = to_focus(value)
        if focus is None or focus == current.focus:
            raise PreventUpdate
        return replace(current, focus=focus).to_query()
