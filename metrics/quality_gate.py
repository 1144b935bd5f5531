"""The quality gate: a weekly quality series (gold accuracy, agreement) against the project's
target, with its level over the recent weeks and its trend (least-squares slope per week).

>>> from datetime import date
>>> weeks = pl.DataFrame({"week": [date(2026, 3, 2 + 7 * i) for i in range(4)],
...                       "value": [0.90, 0.88, 0.86, 0.84]})
>>> gate = quality_gate(weeks, target=0.88, metric="gold_accuracy")
>>> gate.status, round(gate.level, 3), gate.trend, round(gate.slope_per_week, 3)
('below', 0.87, 'falling', -0.02)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
import polars as pl

RECENT_WEEKS = 4
# A slope smaller than this (per week, in the metric's units) reads as flat.
FLAT_SLOPE = 0.005

Status = Literal["met", "below", "no target", "no data"]
Trend = Literal["rising", "falling", "flat", "unknown"]


@dataclass(frozen=True)
class QualityGate:
    metric: str
    target: float | None
    level: float | None  # the recent weeks' value: weighted by `n` where given
    status: Status
    slope_per_week: float | None  # least-squares slope of the recent weeks' values
    trend: Trend
    weeks: int  # how many weeks the level and slope read
    last_week: date | None
    projected_next: float | None  # level + slope: where next week heads if the trend holds

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["last_week"] = self.last_week.isoformat() if self.last_week else None
        return found


def quality_gate(
    series: pl.DataFrame,
    target: float | None,
    metric: str = "",
    recent_weeks: int = RECENT_WEEKS,
    flat_slope: float = FLAT_SLOPE,
) -> QualityGate:
    """The gate of one metric over its last `recent_weeks` weeks.

    `series` has `week` (a Date), `value` (null for weeks with nothing to measure) and
    optionally `n` (units or answers behind the value). The level is the mean of the recent
    weeks' values, weighted by `n` when given; the status is `met` when the level is at or
    above the target. The slope is the least-squares slope of value on week number.
    """
    rows = series.filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
    rows = rows.sort("week").tail(recent_weeks)
    if rows.is_empty():
        return QualityGate(metric, target, None, "no data", None, "unknown", 0, None, None)
    values = rows["value"].cast(pl.Float64).to_numpy()
    weights = rows["n"].cast(pl.Float64).to_numpy() if "n" in rows.columns else None
    if weights is None or not np.nansum(weights) > 0:
        weights = np.ones_like(values)
    level = float(np.average(values, weights=np.nan_to_num(weights)))
    slope = weekly_slope(rows["week"], values)
    if slope is None:
        trend: Trend = "unknown"
    elif abs(slope) < flat_slope:
        trend = "flat"
    else:
        trend = "rising" if slope > 0 else "falling"
    status: Status = "no target" if target is None else ("met" if level >= target else "below")
    return QualityGate(
        metric=metric,
        target=target,
        level=level,
        status=status,
        slope_per_week=slope,
        trend=trend,
        weeks=rows.height,
        last_week=rows["week"][-1],
        projected_next=level + slope if slope is not None else None,
    )


def weekly_slope(weeks: pl.Series, values: np.ndarray) -> float | None:
    """Least-squares slope of `values` per week (weeks as dates, gaps respected); None with
    fewer than two weeks.

    >>> from datetime import date
    >>> weekly_slope(pl.Series([date(2026, 1, 5), date(2026, 1, 19)]), np.array([0.8, 0.9]))
    0.05
    """
    if len(values) < 2:
        return None
    x = (weeks.cast(pl.Date) - weeks.cast(pl.Date).min()).dt.total_days().to_numpy() / 7.0
    if np.ptp(x) == 0:
        return None
    slope = np.polyfit(x, values, 1)[0]
    return round(float(slope), 12)
