"""URL filters, filter controls, metric help and the chart style: the pieces every page shares."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from dashboard.components.charts import HOUSE_TEMPLATE, PALETTE, styled, with_house_style
from dashboard.components.filters import DATES, PLATFORMS, controls_from_filters, with_control
from dashboard.components.metric_help import METRICS_DOC, slug
from dashboard.components.tables import csv_text
from dashboard.url_state import MAX_FILTER_VALUES, Filters

PAGES_DIR = Path(__file__).resolve().parents[2] / "dashboard" / "pages"


def test_filters_round_trip_through_the_url():
    filters = Filters(date(2024, 3, 1), date(2024, 3, 31), ("mturk",), ("mturk:P1", "toloka:T 1"))
    assert Filters.from_query(filters.to_query()) == filters
    assert Filters().to_query() == ""


def test_filters_drop_what_does_not_parse():
    parsed = Filters.from_query("?from=2024-02-30&to=2024-03-05&platform=&project=" + "x" * 500)
    assert parsed == Filters(end=date(2024, 3, 5))
    swapped = Filters.from_query("?from=2024-03-05&to=2024-03-01")
    assert (swapped.start, swapped.end) == (date(2024, 3, 1), date(2024, 3, 5))
    many = Filters.from_query("?" + "&".join(f"platform=p{i:03d}" for i in range(1000)))
    assert len(many.platforms) == MAX_FILTER_VALUES


def test_a_control_changes_only_its_own_filter():
    current = Filters(date(2024, 3, 1), date(2024, 3, 2), ("mturk",), (), focus="x")
    cleared = with_control(current, DATES, None)
    assert (cleared.start, cleared.end, cleared.platforms, cleared.focus) == (
        None,
        None,
        ("mturk",),
        "x",
    )
    changed = with_control(current, PLATFORMS, ["toloka", 7])
    assert changed.platforms == ("toloka",) and changed.start == date(2024, 3, 1)
    assert with_control(current, DATES, ["2024-13-01", "nope"]).start is None
    assert controls_from_filters(current) == (["2024-03-01", "2024-03-02"], ["mturk"], [])


def test_every_metric_help_key_is_a_heading_of_metrics_md():
    headings = {
        slug(line.lstrip("#").strip())
        for line in METRICS_DOC.read_text().splitlines()
        if line.startswith("##")
    }
    used = set()
    for page in PAGES_DIR.glob("*.py"):
        used |= set(re.findall(r'help_key="([^"]+)"', page.read_text()))
    assert used and used <= headings, used - headings


def test_figures_get_the_house_style_and_keep_their_own_settings():
    fig = styled(go.Figure(go.Scatter(x=[1], y=[2])), "week starting", "hours")
    fig.update_yaxes(rangemode="normal")
    layout = with_house_style(fig)["layout"]
    assert layout["template"] == HOUSE_TEMPLATE and layout["colorway"] == PALETTE
    assert layout["xaxis"]["title"]["text"] == "week starting"
    assert layout["xaxis"]["showgrid"] is False
    assert (layout["yaxis"]["rangemode"], layout["yaxis"]["gridcolor"]) == ("normal", "#eef0f2")


def test_csv_text_makes_every_formula_start_plain_text():
    cells = ["=1+2", "+1", "-1", "@A1", "\t=1", "\r=1", "\uff1d1", "\uff201", "ok", None]
    frame = pl.DataFrame({"text": cells, "number": list(range(-1, len(cells) - 1))})
    rows = list(csv.DictReader(io.StringIO(csv_text(frame))))
    assert [r["text"] for r in rows[:8]] == ["'" + c for c in cells[:8]]
    assert rows[8]["text"] == "ok" and rows[0]["number"] == "-1"  # numbers stay numbers


def test_help_is_a_plain_definition_without_developer_notes():
    from dashboard.components.metric_help import HELP_CHARS, metric_sections, plain_help

    sections = metric_sections()
    assert len(sections) > 20
    for key, section in sections.items():
        text = plain_help(section)
        assert "Module" not in text, key
        assert "\n|" not in text, key  # no wide tables, one word a line in a popover
        assert text.endswith('docs/METRICS.md, "' + section.split("**")[1] + '".*'), key
        assert len(text) < HELP_CHARS + 1_200, key
