"""The definition of a metric one click away: sections of docs/METRICS.md behind a '?' icon."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import dash_mantine_components as dmc
from dash import dcc

from etl.resources import METRICS_DOC

_HEADING = re.compile(r"^(#{2,4})\s+(.+?)\s*$")


def slug(title: str) -> str:
    """'Gold accuracy' -> 'gold-accuracy', as the key a page asks help for."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


@cache
def metric_sections(path: Path = METRICS_DOC) -> dict[str, str]:
    """Every heading of METRICS.md (by slug) with its text up to the next heading; headings
    with no text of their own are left out."""
    if not path.is_file():
        return {}
    sections: dict[str, str] = {}
    current: str | None = None
    for line in path.read_text().splitlines():
        match = _HEADING.match(line)
        if match:
            current = slug(match.group(2))
            sections[current] = f"**{match.group(2)}**\n\n"
        elif current is not None:
            sections[current] += line + "\n"
    return {key: text.strip() for key, text in sections.items() if "\n\n" in text.strip()}


def help_icon(key: str) -> dmc.Popover | None:
    """A '?' that opens the METRICS.md section `key`; None when the docs lack it."""
    text = metric_sections().get(key)
    if text is None:
        return None
    return dmc.Popover(
        [
            dmc.PopoverTarget(
                dmc.ActionIcon(
                    "?",
                    variant="subtle",
                    size="sm",
                    radius="xl",
                    color="gray",
                    className="metric-help",
                    **{"aria-label": f"What is {key.replace('-', ' ')}?"},
                )
            ),
            dmc.PopoverDropdown(
                dcc.Markdown(text, className="metric-help-text"),
                style={"maxHeight": "420px", "overflowY": "auto", "fontSize": "14px"},
            ),
        ],
        width=420,
        position="bottom-start",
        withArrow=True,
        shadow="md",
    )
