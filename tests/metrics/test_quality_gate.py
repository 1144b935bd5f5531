"""The quality gate: level over the recent weeks against the target, and the trend."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from metrics.quality_gate import quality_gate

MONDAY = date(2026, 3, 2)


def weeks(values: list[float | None], n: list[int] | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"week": [MONDAY + timedelta(weeks=i) for i in range(len(values))], "value": values},
        schema_overrides={"value": pl.Float64},
    )
    return frame.with_columns(n=pl.Series(n)) if n else frame


def test_level_and_slope_over_the_last_four_weeks_only() -> None:
    # the first two weeks are older than the recent four and do not count
    gate = quality_gate(weeks([0.5, 0.5, 0.80, 0.82, 0.84, 0.86]), target=0.8, metric="gold")
    assert gate.level == pytest.approx(0.83) and gate.weeks == 4
    assert gate.slope_per_week == pytest.approx(0.02)
    assert (gate.status, gate.trend, gate.last_week) == ("met", "rising", MONDAY + timedelta(5 * 7))
    assert gate.projected_next == pytest.approx(0.85)


def test_the_level_is_weighted_by_what_is_behind_each_week() -> None:
    gate = quality_gate(weeks([0.9, 0.6], n=[30, 10]), target=0.8)
    assert gate.level == pytest.approx((0.9 * 30 + 0.6 * 10) / 40)  # 0.825, unweighted 0.75
    assert gate.status == "met" and gate.trend == "falling"


def test_below_target_flat_and_gaps() -> None:
    gate = quality_gate(weeks([0.70, None, 0.701]), target=0.8)
    assert (gate.status, gate.trend, gate.weeks) == ("below", "flat", 2)
    assert gate.slope_per_week == pytest.approx(0.0005)  # two weeks apart: 0.001 / 2


def test_no_data_one_week_and_no_target() -> None:
    assert quality_gate(weeks([None]), 0.8).status == "no data"
    one = quality_gate(weeks([0.9]), None, "agreement")
    assert (one.status, one.trend, one.slope_per_week) == ("no target", "unknown", None)
    assert one.as_dict()["last_week"] == MONDAY.isoformat()
