"""Headline figure cards and titled sections, each with its metric's definition at hand."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc

from dashboard.components.metric_help import help_icon


def kpi_card(label: str, value: str, note: str = "", help_key: str | None = None) -> dmc.Card:
    """One headline figure: label, value (already formatted with its unit) and a small note."""
    title = dmc.Group(
        [dmc.Text(label, size="sm", c="dimmed", fw=500), help_icon(help_key) if help_key else None],
        gap=4,
        wrap="nowrap",
    )
    return dmc.Card(
        [title, dmc.Text(value, fz=26, fw=700, mt=4), dmc.Text(note, size="xs", c="dimmed")],
        withBorder=True,
        radius="md",
        padding="md",
        className="kpi-card",
    )


def section(title: str, children: Any, help_key: str | None = None, note: str = "") -> dmc.Card:
    """A titled card around a chart or table."""
    header = dmc.Group(
        [dmc.Title(title, order=4), help_icon(help_key) if help_key else None], gap=6
    )
    body = [header]
    if note:
        body.append(dmc.Text(note, size="sm", c="dimmed", mb=6))
    body.append(children)
    return dmc.Card(body, withBorder=True, radius="md", padding="lg", mt="md")


def notice(title: str, message: Any, color: str = "blue") -> dmc.Alert:
    """A plain-language message: no data yet, no access, a stale snapshot."""
    return dmc.Alert(message, title=title, color=color, variant="light", radius="md", mt="md")


def kpi_grid(cards: list[dmc.Card]) -> dmc.SimpleGrid:
    return dmc.SimpleGrid(cards, cols={"base": 1, "sm": 2, "lg": 4}, spacing="md")


def fmt_count(value: int | float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def fmt_share(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f} %"


def fmt_money(value: float | None, currency: str, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f} {currency}"
