"""A project's budget against its plan: spend to date (rewards, bonuses, platform fees), spend
rate, earned value with CPI and SPI, estimate at completion and cost per accepted unit.

Earned value after the PMBOK: BAC is the budget; PV (planned value) is the part of BAC the plan
meant to have done by a day; EV (earned value) = BAC x done / scope; AC (actual cost) is the
spend. CPI = EV / AC, SPI = EV / PV, EAC = BAC / CPI (docs/METRICS.md, "Budget and earned
value"). All figures are at the end of `as_of` (its spend and work included).

>>> from datetime import date
>>> plan = Plan(budget=1000.0, scope=100, starts_on=date(2026, 1, 1), due_on=date(2026, 1, 10))
>>> planned_value(plan, date(2026, 1, 5))
500.0
>>> ev = earned_value(plan, done=40, actual_cost=500.0, as_of=date(2026, 1, 5))
>>> ev.cpi, ev.spi, ev.eac
(0.8, 0.8, 1250.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

SPEND_COLUMNS = ("rewards", "bonuses", "fees")


@dataclass(frozen=True)
class Plan:
    """What the plan says: the budget (BAC) for `scope` units from `starts_on` to `due_on`, and
    optional (due date, cumulative units) milestones in between."""

    budget: float
    scope: int
    starts_on: date
    due_on: date
    milestones: Sequence[tuple[date, int]] = ()


@dataclass(frozen=True)
class EarnedValue:
    as_of: date
    budget: float  # BAC
    planned_value: float  # PV
    earned_value: float  # EV
    actual_cost: float  # AC
    cpi: float | None  # EV / AC
    spi: float | None  # EV / PV
    eac: float | None  # BAC / CPI
    variance_at_completion: float | None  # BAC - EAC (negative: overrun)
    cost_per_unit: float | None  # AC / units done

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["as_of"] = self.as_of.isoformat()
        return found


def spend_to_date(spend: pl.DataFrame, as_of: date | None = None, fee_rate: float = 0.0) -> dict:
    """Rewards, bonuses and platform fees spent up to the end of `as_of` (all days if None).

    `spend` has `day` and `rewards`, `bonuses` (money in one currency), and optionally `fees`;
    without a `fees` column the fees are `fee_rate` x (rewards + bonuses), the platform's
    commission on what it pays out (MTurk's 20%, say).

    >>> from datetime import date
    >>> spend = pl.DataFrame({"day": [date(2026, 1, 1), date(2026, 1, 2)],
    ...                       "rewards": [10.0, 20.0], "bonuses": [0.0, 5.0]})
    >>> spend_to_date(spend, fee_rate=0.2)
    {'rewards': 30.0, 'bonuses': 5.0, 'fees': 7.0, 'total': 42.0}
    """
    rows = with_fees(spend, fee_rate)
    if as_of is not None:
        rows = rows.filter(pl.col("day") <= as_of)
    totals = {c: float(rows[c].sum() or 0.0) for c in SPEND_COLUMNS}
    return totals | {"total": round(sum(totals.values()), 10)}


def with_fees(spend: pl.DataFrame, fee_rate: float = 0.0) -> pl.DataFrame:
    """`spend` with money columns as floats, nulls as 0, and `fees` filled from `fee_rate`
    where the frame has no fees of its own, plus `total` per row."""
    money = [pl.col(c).cast(pl.Float64).fill_null(0.0) for c in ("rewards", "bonuses")]
    rows = spend.with_columns(money)
    if "fees" in rows.columns:
        rows = rows.with_columns(pl.col("fees").cast(pl.Float64).fill_null(0.0))
    else:
        rows = rows.with_columns(fees=(pl.col("rewards") + pl.col("bonuses")) * fee_rate)
    return rows.with_columns(total=pl.sum_horizontal(SPEND_COLUMNS))


def spend_rate(spend: pl.DataFrame, as_of: date, days: int = 14, fee_rate: float = 0.0) -> float:
    """Mean spend per calendar day over the `days` days ending with `as_of` (days with no
    spend count as zero).

    >>> from datetime import date
    >>> spend = pl.DataFrame({"day": [date(2026, 1, 9), date(2026, 1, 10)],
    ...                       "rewards": [30.0, 40.0], "bonuses": [0.0, 0.0]})
    >>> spend_rate(spend, date(2026, 1, 10), days=7)
    10.0
    """
    start = as_of - timedelta(days=days - 1)
    rows = with_fees(spend, fee_rate).filter(pl.col("day").is_between(start, as_of))
    return float(rows["total"].sum() or 0.0) / days


def planned_share(plan: Plan, day: date) -> float:
    """The share of the work the plan meant to be done by the end of `day`.

    Linear in calendar days between the plan's points: 0 before `starts_on`, each milestone's
    target / scope at the end of its due day, 1 at the end of `due_on`. Without milestones the
    work is spread evenly over the plan's days.

    >>> from datetime import date
    >>> plan = Plan(100.0, 100, date(2026, 1, 1), date(2026, 1, 10), [(date(2026, 1, 2), 50)])
    >>> planned_share(plan, date(2026, 1, 1)), planned_share(plan, date(2026, 1, 6))
    (0.25, 0.75)
    """
    if plan.scope <= 0:
        return 0.0
    # points (days since the start of starts_on, share done): the end of day d is d + 1
    points = [(0.0, 0.0)]
    for due, target in sorted(plan.milestones):
        if plan.starts_on <= due < plan.due_on:
            share = min(1.0, max(points[-1][1], target / plan.scope))
            points.append(((due - plan.starts_on).days + 1.0, share))
    points.append(((plan.due_on - plan.starts_on).days + 1.0, 1.0))
    t = (day - plan.starts_on).days + 1.0
    if t <= 0:
        return 0.0
    for (t0, s0), (t1, s1) in zip(points, points[1:], strict=False):
        if t <= t1:
            return s0 + (s1 - s0) * (t - t0) / (t1 - t0) if t1 > t0 else s1
    return 1.0


def planned_value(plan: Plan, day: date) -> float:
    """PV: the budget times the planned share of the work at the end of `day`."""
    return plan.budget * planned_share(plan, day)


def earned_value(plan: Plan, done: int, actual_cost: float, as_of: date) -> EarnedValue:
    """EV, PV, CPI, SPI and EAC of a project at the end of `as_of` with `done` units accepted
    and `actual_cost` spent. A ratio with a zero denominator is None."""
    pv = planned_value(plan, as_of)
    ev = plan.budget * min(1.0, done / plan.scope) if plan.scope > 0 else 0.0
    cpi = ev / actual_cost if actual_cost > 0 else None
    spi = ev / pv if pv > 0 else None
    eac = plan.budget / cpi if cpi else None
    return EarnedValue(
        as_of=as_of,
        budget=plan.budget,
        planned_value=pv,
        earned_value=ev,
        actual_cost=actual_cost,
        cpi=cpi,
        spi=spi,
        eac=eac,
        variance_at_completion=plan.budget - eac if eac is not None else None,
        cost_per_unit=actual_cost / done if done > 0 else None,
    )
