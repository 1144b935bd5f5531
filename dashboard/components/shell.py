"""The app shell: header with the viewer and logout, navigation by role, filters, page area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import dash_mantine_components as dmc
from dash import dcc, html

from dashboard.components.filters import filter_bar

THEME = {
    "primaryColor": "blue",
    "fontFamily": "Inter, -apple-system, BlinkMacSystemFont, Segoe UI, Roboto, sans-serif",
    "defaultRadius": "md",
}


def app_shell() -> dmc.MantineProvider:
    """The static frame; navigation, viewer name and filter choices are filled per viewer."""
    header = dmc.AppShellHeader(
        dmc.Group(
            [
                dmc.Group(
                    [
                        dmc.Text("Crowd", fw=800, fz=22, span=True),
                        dmc.Text("meter", fw=800, fz=22, c="blue", span=True, ml=-8),
                    ],
                    gap=6,
                ),
                dmc.Group(
                    [
                        dmc.Badge(id="viewer-role", variant="light", size="lg"),
                        dmc.Text(id="viewer-name", fw=500, size="sm"),
                        logout_form(),
                    ],
                    gap="sm",
                ),
            ],
            justify="space-between",
            h="100%",
            px="lg",
        )
    )
    main = dmc.AppShellMain(
        [
            dmc.Paper(filter_bar(), p="sm", withBorder=True, radius="md", mb="xs"),
            html.Div(id="download-notice"),  # why a download could not be made, if it failed
            dcc.Loading(
                html.Div(id="page"), type="dot", delay_show=250, overlay_style={"opacity": 0.5}
            ),
        ]
    )
    return dmc.MantineProvider(
        [
            dcc.Location(id="url", refresh=False),
            dcc.Download(id="csv-download"),
            dmc.AppShell(
                [header, dmc.AppShellNavbar([], id="nav", p="sm"), main],
                header={"height": 60},
                navbar={"width": 210, "breakpoint": "sm"},
                padding="lg",
                bg="#f8f9fa",
            ),
        ],
        theme=THEME,
    )


class NavTarget(Protocol):
    """What a navigation link shows of a page (dashboard.pages.base.Page is one)."""

    path: str
    title: str
    icon: str
    description: str


def logout_form() -> html.Form:
    """Log out by POST with the session's token, which the shell callback fills in."""
    return html.Form(
        [
            dcc.Input(id="logout-csrf", type="hidden", name="csrf_token", value=""),
            html.Button("Log out", id="logout-link", type="submit", className="logout-button"),
        ],
        action="/logout",
        method="POST",
        style={"margin": 0},
    )


def nav_links(pages: Sequence[NavTarget], pathname: str, search: str) -> list[dmc.NavLink]:
    """Links to the pages the viewer may open, keeping the current filters in each link."""
    return [
        dmc.NavLink(
            label=page.title,
            description=page.description,
            leftSection=dmc.ThemeIcon(page.icon, variant="light", size="md"),
            href=page.path + (search or ""),
            active=page.path == pathname,
            id=f"nav-{page.title.lower()}",
            refresh=False,
        )
        for page in pages
    ]
