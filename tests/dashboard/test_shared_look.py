"""What every page shares so that it reads the same everywhere: one colour per platform, legends
of the platforms drawn, weekly ticks on weekly charts, names in full and filters that fit the
data (issue 12, item 20)."""

from __future__ import annotations

from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl

from dashboard.components.charts import (
    WEEK_TITLE,
    figure_heading,
    platform_color,
    platform_series,
    styled,
    week_ticks,
)
from dashboard.components.filters import date_bounds, filter_choices
from dashboard.components.tables import MAX_TEXT_PX, _rows, column_defs
from dashboard.pages import earnings as earnings_page
from dashboard.pages import overview as overview_page
from dashboard.reports import _figures
from dashboard.url_state import Filters

MONDAY = date(2026, 9, 7)
WEEKS = [MONDAY + timedelta(weeks=i) for i in range(3)]


def _colors(fig: go.Figure) -> dict[str, str]:
    return {t.name: (t.marker.color if t.type == "bar" else t.line.color) for t in fig.data}


def test_a_platform_has_one_colour_on_every_chart_whatever_else_is_drawn():
    volume = pl.DataFrame(
        {"week": WEEKS * 2, "platform": ["mturk"] * 3 + ["toloka"] * 3,
         "assignments": [5, 6, 7, 1, 2, 3], "workers": [1] * 6}
    )  # fmt: skip
    wages = pl.DataFrame(
        {"week": WEEKS * 3, "platform": ["appen"] * 3 + ["labelstudio"] * 3 + ["toloka"] * 3,
         "effective_wage": [4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 1.5, 2.0]}
    )  # fmt: skip
    overview = _colors(overview_page.weekly_figure(volume))
    earnings = _colors(earnings_page.weekly_figure(wages, "USD"))
    # toloka is the second platform on one chart and the third on the other
    assert overview["toloka"] == earnings["toloka"] == platform_color("toloka")
    assert len(set(earnings.values())) == 3
    report = _figures({"total": None, "views": {"weeks": []}, "rows": [
        {"platform": "toloka", "paid_time_wage": 2.0, "effective_wage": 1.5},
    ]})  # fmt: skip
    assert platform_color("toloka") in str(report["platforms"])


def test_a_platform_nobody_knows_gets_the_same_colour_each_time():
    assert platform_color("acme-labelling") == platform_color("acme-labelling")
    assert platform_color("acme-labelling").startswith("#")


def test_a_legend_lists_only_the_platforms_drawn():
    wages = pl.DataFrame(
        {"week": WEEKS * 2, "platform": ["appen"] * 3 + ["mturk"] * 3,
         "effective_wage": [None, float("nan"), None, 4.0, 5.0, None]}
    )  # fmt: skip
    assert [p for p, _, _ in platform_series(wages, "effective_wage")] == ["mturk"]
    assert [t.name for t in earnings_page.weekly_figure(wages, "USD").data] == ["mturk"]


def test_weekly_charts_tick_weeks_on_their_mondays():
    ticks = week_ticks(WEEKS)
    assert ticks["tick0"] == "2026-09-07" and ticks["dtick"] == 7 * 86_400_000
    fig = styled(go.Figure(go.Bar(x=WEEKS, y=[1, 2, 3])), WEEK_TITLE, "assignments")
    assert fig.layout.xaxis.dtick == 7 * 86_400_000
    assert fig.layout.xaxis.tick0 == "2026-09-07"
    # a year of weeks ticks every few weeks, still on Mondays
    year = week_ticks([MONDAY + timedelta(weeks=i) for i in range(52)])
    assert year["dtick"] == 4 * 7 * 86_400_000 and year["tick0"] == "2026-09-07"
    # a day-axis chart is left alone
    assert styled(go.Figure(go.Bar(x=WEEKS, y=[1, 2, 3])), "day", "n").layout.xaxis.dtick is None


def test_coefficients_read_as_names_not_snake_case():
    assert figure_heading("gwet_ac1") == "Gwet's AC1"
    assert figure_heading("krippendorff_alpha") == "Krippendorff's alpha"
    assert figure_heading("some_new_figure") == "some new figure"
    table = pl.DataFrame(
        {"coefficient": ["percent_agreement", "fleiss_kappa"], "value": [0.7, 0.4]}
    )
    assert [r["coefficient"] for r in _rows(table)] == ["Percent agreement", "Fleiss' kappa"]


def test_grid_columns_are_wide_enough_for_times_and_names_and_wrap_long_text():
    from datetime import datetime

    table = pl.DataFrame(
        {"loaded_at": [datetime(2026, 12, 7, 1, 54)], "name": ["Comment toxicity (Toloka)"],
         "path": ["/tmp/demo/exports/toloka/" + "assignments_from_pool_42774131" * 3]}
    )  # fmt: skip
    cols = {c["field"]: c for c in column_defs(table)}
    assert cols["loaded_at"]["minWidth"] >= 8 * len("2026-12-07 01:54") + 40
    assert cols["name"]["minWidth"] >= 8 * len("Comment toxicity (Toloka)") + 40
    assert cols["name"]["tooltipField"] == "name" and not cols["name"].get("wrapText")
    assert cols["path"]["minWidth"] == MAX_TEXT_PX and cols["path"]["wrapText"]


OPTIONS = pl.DataFrame(
    {"platform": ["mturk", "mturk", "toloka"], "project_id": ["1", "2", "3"],
     "name": ["Tweets A", None, "Toxicity"],
     "first_day": [date(2026, 9, 9), date(2026, 9, 10), date(2026, 9, 11)],
     "last_day": [date(2026, 12, 6), date(2026, 11, 1), date(2026, 12, 5)]}
)  # fmt: skip


def test_the_project_filter_offers_the_chosen_platforms_projects():
    _, every = filter_choices(OPTIONS)
    assert [p["value"] for p in every] == ["mturk:1", "mturk:2", "toloka:3"]
    _, narrowed = filter_choices(OPTIONS, Filters(platforms=("toloka",)))
    assert [p["value"] for p in narrowed] == ["toloka:3"]
    # a project already chosen stays offered, or the select would drop it from the URL
    _, kept = filter_choices(OPTIONS, Filters(platforms=("toloka",), projects=("mturk:2",)))
    assert [p["value"] for p in kept] == ["mturk:2", "toloka:3"]


def test_the_date_picker_spans_the_data():
    assert date_bounds(OPTIONS) == ("2026-09-09", "2026-12-06")
    assert date_bounds(OPTIONS.clear()) == (None, None)
