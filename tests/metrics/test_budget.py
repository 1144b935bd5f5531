"""Budget and earned value on hand-computed plans: PV from the plan, EV, CPI, SPI, EAC."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics.budget import (
    Plan,
    earned_value,
    planned_share,
    planned_value,
    spend_rate,
    spend_to_date,
)

PLAN = Plan(budget=1000.0, scope=100, starts_on=date(2026, 1, 1), due_on=date(2026, 1, 10))


def test_golden_cpi_spi_eac() -> None:
    # end of day 5 of 10: PV = 500; 40 of 100 done: EV = 400; spent 500
    ev = earned_value(PLAN, done=40, actual_cost=500.0, as_of=date(2026, 1, 5))
    assert (ev.planned_value, ev.earned_value, ev.actual_cost) == (500.0, 400.0, 500.0)
    assert (ev.cpi, ev.spi) == (0.8, 0.8)
    assert ev.eac == pytest.approx(1250.0) and ev.variance_at_completion == pytest.approx(-250.0)
    assert ev.cost_per_unit == 12.5


def test_ahead_of_plan_and_under_budget() -> None:
    # end of day 2: PV = 200; 30 done: EV = 300; spent 250: CPI 1.2, SPI 1.5, EAC 833.33
    ev = earned_value(PLAN, done=30, actual_cost=250.0, as_of=date(2026, 1, 2))
    assert (ev.cpi, ev.spi) == (pytest.approx(1.2), pytest.approx(1.5))
    assert ev.eac == pytest.approx(1000 / 1.2)


def test_zero_denominators_give_none() -> None:
    before = earned_value(PLAN, done=0, actual_cost=0.0, as_of=date(2025, 12, 31))
    assert (before.planned_value, before.cpi, before.spi, before.eac) == (0.0, None, None, None)
    assert before.cost_per_unit is None
    spent_nothing_done = earned_value(PLAN, done=0, actual_cost=10.0, as_of=date(2026, 1, 1))
    assert spent_nothing_done.cpi == 0.0 and spent_nothing_done.eac is None


def test_ev_stops_at_the_budget_when_more_than_the_scope_is_done() -> None:
    ev = earned_value(PLAN, done=130, actual_cost=900.0, as_of=date(2026, 1, 20))
    assert ev.earned_value == 1000.0 and ev.planned_value == 1000.0 and ev.spi == 1.0


def test_planned_value_is_even_over_the_days_without_milestones() -> None:
    shares = [planned_share(PLAN, date(2026, 1, d)) for d in (1, 5, 10, 11)]
    assert shares == pytest.approx([0.1, 0.5, 1.0, 1.0])
    assert planned_value(PLAN, date(2025, 12, 1)) == 0.0


def test_planned_value_follows_the_milestones() -> None:
    # 80% due by the end of Jan 4 (4 days), the last 20% over the 6 days after
    plan = Plan(1000.0, 100, date(2026, 1, 1), date(2026, 1, 10), [(date(2026, 1, 4), 80)])
    assert planned_value(plan, date(2026, 1, 2)) == pytest.approx(400.0)
    assert planned_value(plan, date(2026, 1, 4)) == pytest.approx(800.0)
    assert planned_value(plan, date(2026, 1, 7)) == pytest.approx(900.0)
    # a milestone outside the plan's dates is not a point of the line
    outside = Plan(1000.0, 100, date(2026, 1, 1), date(2026, 1, 10), [(date(2026, 2, 1), 50)])
    assert planned_value(outside, date(2026, 1, 5)) == pytest.approx(500.0)


SPEND = pl.DataFrame(
    {
        "day": [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 9)],
        "rewards": [100.0, 50.0, None],
        "bonuses": [0.0, 10.0, 20.0],
    }
)


def test_spend_to_date_adds_rewards_bonuses_and_fees() -> None:
    assert spend_to_date(SPEND, date(2026, 1, 2), fee_rate=0.2) == {
        "rewards": 150.0, "bonuses": 10.0, "fees": 32.0, "total": 192.0
    }  # fmt: skip
    own_fees = SPEND.with_columns(fees=pl.lit(1.0))
    assert spend_to_date(own_fees, fee_rate=0.2)["fees"] == 3.0


def test_spend_rate_is_per_calendar_day_over_the_window() -> None:
    # the 10 days to Jan 10 hold 160 + 20 = 180
    assert spend_rate(SPEND, date(2026, 1, 10), days=10) == 18.0
    assert spend_rate(SPEND, date(2026, 1, 10), days=2) == 10.0
