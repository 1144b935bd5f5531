"""What a page is: its path, title, the roles that may open it, its layout and its tables.

A new page is one module with a `PAGE = Page(...)`, listed in `dashboard/pages/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dash
import polars as pl

from dashboard.auth import viewer_for
from dashboard.data import DataSource, Filters, ScopedData

TableBuilder = Callable[[ScopedData, Filters], pl.DataFrame]


@dataclass(frozen=True)
class Page:
    """One page of the app."""

    path: str
    title: str
    icon: str  # a short glyph shown in the navigation
    roles: frozenset[str]
    layout: Callable[[ScopedData, Filters], Any]
    tables: Mapping[str, TableBuilder] = field(default_factory=dict)
    register: Callable[[dash.Dash, DataSource], None] | None = None
    description: str = ""

    def data(self, source: DataSource) -> ScopedData:
        """The viewer's scoped data, after checking their role may open this page (else 403)."""
        return source.for_viewer(viewer_for(self.roles))
