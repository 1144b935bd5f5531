"""One project's tracking figures in one call: units from items, the forecast, earned value,
gates and alerts agree with the modules they come from."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from metrics.project_tracking import ProjectPlan, track_project

START = date(2026, 3, 1)
DAYS = [START + timedelta(days=i) for i in range(10)]
ACCEPTED = pl.DataFrame({"day": DAYS, "units": [10] * 10})  # 100 labels by March 10
PLAN = ProjectPlan(
    "mturk:B1",
    target_items=100,
    labels_per_item=2,  # scope 200 labels
    budget=400.0,
    starts_on=START,
    due_on=date(2026, 3, 16),
    milestones=[("Half", date(2026, 3, 12), 60)],  # 120 labels by March 12
    quality_targets={"gold_accuracy": 0.9},
)
SPEND = pl.DataFrame({"day": DAYS, "rewards": [25.0] * 10, "bonuses": [0.0] * 10})


def test_scope_and_milestones_in_labels_and_the_forecast_of_the_days_before() -> None:
    status = track_project(PLAN, ACCEPTED, as_of=date(2026, 3, 11))
    f = status.forecast
    assert (f.scope, f.done, f.p50, f.p85) == (200, 100, date(2026, 3, 20), date(2026, 3, 20))
    (half,) = f.milestones
    assert (half.target, half.probability) == (120, 1.0)  # 20 to go in 2 days at 10 a day
    assert status.burnup["done"].to_list()[-1] == 100 and status.burnup["scope"][0] == 200
    assert status.weekly["units"].sum() == 100


def test_earned_value_from_the_plan_and_the_spend_before_as_of() -> None:
    status = track_project(PLAN, ACCEPTED, date(2026, 3, 11), spend=SPEND, fee_rate=0.2)
    # spent 10 x 25 x 1.2 = 300 by the end of March 10, over the 14 days to it: 300 / 14 a day.
    # PV: the plan's line runs through 60% (120 of 200 labels) at the end of March 12 (day 12),
    # so at the end of day 10 it is 0.6 x 10/12 = 50% of 400 = 200; EV = 400 x 100/200 = 200
    ev = status.earned_value
    assert status.spend["total"] == pytest.approx(300.0)
    assert status.spend_per_day == pytest.approx(300 / 14)
    assert (ev.planned_value, ev.earned_value) == (pytest.approx(200.0), pytest.approx(200.0))
    assert ev.spi == pytest.approx(1.0) and ev.cpi == pytest.approx(200 / 300)
    assert ev.eac == pytest.approx(600.0)


def test_alerts_read_every_figure() -> None:
    weeks = pl.DataFrame({"week": [date(2026, 2, 23), date(2026, 3, 2)], "value": [0.85, 0.8]})
    rules = [{"rule": "forecast_past_due"}, {"rule": "quality_under_target"},
             {"rule": "budget_overrun"}]  # fmt: skip
    status = track_project(PLAN, ACCEPTED, date(2026, 3, 11), spend=SPEND, fee_rate=0.2,
                           quality={"gold_accuracy": weeks}, rules=rules)  # fmt: skip
    assert [f.rule for f in status.findings] == [
        "forecast_past_due", "quality_under_target", "budget_overrun"
    ]  # fmt: skip
    summary = status.as_dict()
    assert summary["forecast"]["p85"] == "2026-03-20"
    assert summary["quality_gates"][0]["status"] == "below"
    assert summary["alerts"][0]["message"].startswith("the project is due 2026-03-16")


def test_a_project_with_no_work_yet() -> None:
    empty = pl.DataFrame(schema={"day": pl.Date, "units": pl.Int64})
    status = track_project(PLAN, empty, date(2026, 3, 1))
    assert status.forecast.p85 is None and status.forecast.reason
    assert status.burnup.is_empty() and status.earned_value is None


# Scope changes, by hand: 10 items a day from March 1; the plan starts at 100 items and the
# client raises it to 150 from March 6. Every future draws 10 a day (a constant history), so
# the dates are exact: day 1 of a forecast is its as_of.
CHANGED = ProjectPlan(
    "mturk:B2",
    target_items=100,
    starts_on=START,
    scope_changes=[(date(2026, 3, 6), 150, "client added items")],
)


def test_the_burn_up_steps_on_the_day_the_scope_changed() -> None:
    line = track_project(CHANGED, ACCEPTED, as_of=date(2026, 3, 11)).burnup
    assert line["scope"].to_list() == [100] * 5 + [150] * 5
    assert line["done"].to_list() == list(range(10, 101, 10))
    assert line.filter("scope_changed")["day"].to_list() == [START, date(2026, 3, 6)]
    assert line["remaining"].to_list() == [90, 80, 70, 60, 50, 90, 80, 70, 60, 50]


@pytest.mark.parametrize(
    ("as_of", "scope", "done", "finish", "changes"),
    [
        # before the change: 60 to go from March 5 at 10 a day -> the 6th day, March 10
        (date(2026, 3, 5), 100, 40, date(2026, 3, 10), []),
        # on the change day the new scope is in force: 100 to go from March 6 -> March 15
        (date(2026, 3, 6), 150, 50, date(2026, 3, 15), [(date(2026, 3, 6), 150)]),
        # after it: 50 to go from March 11 -> March 15
        (date(2026, 3, 11), 150, 100, date(2026, 3, 15), [(date(2026, 3, 6), 150)]),
    ],
)
def test_the_forecast_uses_the_scope_in_force_on_its_day(as_of, scope, done, finish, changes):
    status = track_project(CHANGED, ACCEPTED, as_of=as_of)
    f = status.forecast
    assert (f.scope, f.done, f.remaining) == (scope, done, scope - done)
    assert f.p50 == f.p85 == f.p95 == finish
    assert status.scope_changes.select("day", "scope").rows() == changes
    assert status.as_dict()["scope_changes"] == [
        {"day": day.isoformat(), "scope": s, "reason": "client added items"} for day, s in changes
    ]


def test_a_change_dated_before_the_start_replaces_the_opening_scope() -> None:
    early = ProjectPlan("mturk:B3", 100, starts_on=START, scope_changes=[
        (date(2026, 2, 20), 120, None), (date(2026, 3, 8), 90, "cut"),
    ])  # fmt: skip
    status = track_project(early, ACCEPTED, as_of=date(2026, 3, 11))
    assert status.burnup["scope"].to_list() == [120] * 7 + [90] * 3
    # 100 done of 90: finished on March 9, the day cumulative units reached 90
    assert (status.forecast.scope, status.forecast.remaining) == (90, 0)
    assert status.forecast.p85 == date(2026, 3, 9)
