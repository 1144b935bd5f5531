"""The filter bar (date range, platforms, projects) and its two-way link with the URL query."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import dash_mantine_components as dmc
import polars as pl

from dashboard.url_state import Filters

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


def filter_choices(
    options: pl.DataFrame, filters: Filters | None = None
) -> tuple[list[dict], list[dict]]:
    """Platform and project choices ('PLATFORM:PROJECT' values, readable labels). With
    platforms chosen, the projects offered are theirs (and any project already chosen, which a
    select would otherwise drop from the URL)."""
    filters = filters or Filters()
    platforms = sorted(set(options["platform"].to_list())) if options.height else []
    projects = [
        {
            "value": f"{row['platform']}:{row['project_id']}",
            "label": f"{row['platform']} · {row['name'] or row['project_id']}",
        }
        for row in options.iter_rows(named=True)
        if not filters.platforms
        or row["platform"] in filters.platforms
        or f"{row['platform']}:{row['project_id']}" in filters.projects
    ]
    return [{"value": p, "label": p} for p in platforms], projects


def date_bounds(options: pl.DataFrame) -> tuple[str | None, str | None]:
    """The first and last day with work in the viewer's scope, for the date picker's limits
    (it opens on the month of the last); None, None without data."""
    if options.is_empty():
        return None, None
    first, last = options["first_day"].min(), options["last_day"].max()
    if first is None or last is None:
        return None, None
    return first.isoformat(), last.isoformat()


def with_control(current: Filters, control: str, value: Any) -> Filters:
    """`current` with one control's new value; the other filters stay as the URL has them, so a
    control re-announcing its value while the page loads can never undo another's."""
    if control == DATES:
        start, end = _date_range(value)
        chosen = replace(current, start=start, end=end)
    elif control in (PLATFORMS, PROJECTS):
        values = tuple(v for v in value or () if isinstance(v, str))
        field = "platforms" if control == PLATFORMS else "projects"
        chosen = replace(current, **{field: values})
    else:
        return current
    return Filters.from_query(chosen.to_query())  # the same limits as a typed-in URL


def _date_range(value: Any) -> tuple[date | None, date | None]:
    if not (isinstance(value, list) and len(value) >= 2):
        return None, None
    if not all(isinstance(d, str) for d in value[:2]):
        return None, None
    try:
        start, end = (date.fromisoformat(d[:10]) for d in value[:2])
    except ValueError:
        return None, None  # a date the picker never sends: treat it as no range
    return start, end


def controls_from_filters(filters: Filters) -> tuple[list[str] | None, list[str], list[str]]:
    """The controls' values for filters read from a URL."""
    dates = None
    if filters.start or filters.end:
        start = filters.start or filters.end
        end = filters.end or filters.start
        dates = [start.isoformat(), end.isoformat()]
    return dates, list(filters.platforms), list(filters.projects)
