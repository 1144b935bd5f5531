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


# Paragraphs written for developers (where the code and tables live), left out of the popover.
# A block's leading sentence naming where the code lives ("Module `metrics/...` ...; marts ...").
_DEVELOPER_NOTE = re.compile(r"^(Modules?|Marts?|Code)\b.*?\.(?:\s+|$)", re.S)
HELP_CHARS = 1_400  # about what a popover shows without scrolling far


def plain_help(section: str) -> str:
    """A METRICS.md section as its reader needs it: the title, the plain definition and its
    formulas, without developer notes (modules, marts) or wide tables, cut at a paragraph
    near `HELP_CHARS`, then where the full text is."""
    title, _, body = section.partition("\n\n")
    kept: list[str] = []
    for block in _blocks(body):
        block = _DEVELOPER_NOTE.sub("", block.strip()).strip()
        if not block or block.startswith("|"):
            continue
        if kept and sum(map(len, kept)) + len(block) > HELP_CHARS:
            break
        kept.append(block)
    name = title.strip("*")
    source = f'*The full definition, with its sources: docs/METRICS.md, "{name}".*'
    return "\n\n".join([title, *kept, source])


def _blocks(body: str) -> list[str]:
    """The paragraphs of `body`, a list's items each on its own, so that a long list is cut
    between items."""
    return [
        item if i == 0 else "- " + item
        for block in body.split("\n\n")
        for i, item in enumerate(block.split("\n- "))
    ]


def help_icon(key: str) -> dmc.Popover | None:
    """A '?' that opens the METRICS.md section `key` as plain help; None when the docs lack
    it."""
    section = metric_sections().get(key)
    if section is None:
        return None
    text = plain_help(section)
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
