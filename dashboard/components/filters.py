"""The filter bar (date range, platforms, projects) and its two-way link with the URL query."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import dash_mantine_components as dmc
import polars as pl

from dashboard.data import Filters

DATES, PLATFORMS, PROJECTS = "filter-dates", "filter-platforms", "filter-projects"


def filter_bar() -> dmc.Group:
    """The controls; their choices and values are filled in from the viewer's scope and URL."""
    return dmc.Group(
        [
            dmc.DatePickerInput(
                id=DATES,
                type="range",
                label="Dates (UTC)",
                placeholder="All dates",
                clearable=True,
                allowSingleDateInRange=True,
                valueFormat="YYYY-MM-DD",
                w=260,
            ),
            dmc.MultiSelect(
                id=PLATFORMS,
                label="Platforms",
                placeholder="All platforms",
                data=[],
                clearable=True,
                searchable=True,
                w=240,
            ),
            dmc.MultiSelect(
                id=PROJECTS,
                label="Projects",
                placeholder="All projects",
                data=[],
                clearable=True,
                searchable=True,
                w=340,
                maxDropdownHeight=320,
            ),
        ],
        gap="md",
        align="flex-end",
        id="filter-bar",
    )


def filter_choices(options: pl.DataFrame) -> tuple[list[dict], list[dict]]:
    """Platform and project choices ('PLATFORM:PROJECT' values, readable labels)."""
    platforms = sorted(set(options["platform"].to_list())) if options.height else []
    projects = [
        {
            "value": f"{row['platform']}:{row['project_id']}",
            "label": f"{row['platform']} · {row['name'] or row['project_id']}",
        }
        for row in options.iter_rows(named=True)
    ]
    return [{"value": p, "label": p} for p in platforms], projects


def filters_from_controls(
    current: Filters,
    dates: list[str | None] | None,
    platforms: list[str] | None,
    projects: list[str] | None,
) -> Filters:
    """`current` with the controls' values (an unfinished date range counts as no range)."""
    start = end = None
    if dates and len(dates) >= 2 and all(isinstance(d, str) for d in dates[:2]):
        try:
            start, end = (date.fromisoformat(d[:10]) for d in dates[:2])
        except ValueError:
            start = end = None  # a date the picker never sends: treat it as no range
    chosen = replace(
        current,
        start=start,
        end=end,
        platforms=tuple(platforms or ()),
        projects=tuple(projects or ()),
    )
    return Filters.from_query(chosen.to_query())  # the same limits as a typed-in URL


def controls_from_filters(filters: Filters) -> tuple[list[str] | None, list[str], list[str]]:
    """The controls' values for filters read from a URL."""
    dates = None
    if filters.start or filters.end:
        start = filters.start or filters.end
        end = filters.end or filters.start
        dates = [start.isoformat(), end.isoformat()]
    return dates, list(filters.platforms), list(filters.projects)
