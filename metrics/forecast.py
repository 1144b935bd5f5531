"""Monte Carlo forecast of a project's completion and milestones, by resampling daily throughput.

A forecast made on day `as_of` looks only at the days before it: the last `window_days`
calendar days of accepted units (zero days included) are the history. Each of `runs` futures
takes its own bootstrap replicate of that history, then draws every day's throughput from it
at random, with replacement, starting on `as_of` itself (the replicate carries the uncertainty
of the rate into the spread); the day a future's cumulative units reach a target is its
completion day. The
P50/P85/P95 dates are the days by which 50/85/95% of the futures reached it, and a milestone's
probability is the share of futures that reach its target by its due date (docs/METRICS.md,
"Monte Carlo forecast"). The futures are drawn with numpy, all runs at once, and shared by
every project whose window has as many days (`metrics.futures`; `monte_carlo_forecasts` makes
many projects' forecasts on one draw); a seed makes the result reproducible, and a project
comes out the same forecast alone or among others.

>>> from datetime import date
>>> days = [date(2026, 3, d) for d in range(1, 11)]
>>> daily = pl.DataFrame({"day": days, "units": [10] * 10})
>>> f = monte_carlo_forecast(daily, scope=150, as_of=date(2026, 3, 11))
>>> f.done, f.remaining, f.p50, f.p95
(100, 50, datetime.date(2026, 3, 15), datetime.date(2026, 3, 15))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from metrics.futures import MAX_DAYS, Futures, days_needed

RUNS = 10_000
WINDOW_DAYS = 42
SEED = 20260301
PERCENTILES = (50, 85, 95)


@dataclass(frozen=True)
class Milestone:
    """A dated target: `target` units done in all (not since `as_of`) by the end of `due`."""

    name: str
    due: date
    target: int


@dataclass(frozen=True)
class MilestoneForecast:
    milestone: str
    due: date
    target: int
    probability: float | None  # share of futures with `target` done by the end of `due`
    p85: date | None  # the date by which 85% of futures reach the target
    met: bool  # reached by the end of its due day (of what is known before `as_of`)


@dataclass(frozen=True)
class Forecast:
    """One project's forecast made on `as_of` (history: the days before it)."""

    as_of: date
    scope: int
    done: int
    remaining: int
    window_start: date | None
    window_days: int
    runs: int
    mean_daily: float | None
    p50: date | None
    p85: date | None
    p95: date | None
    finished_share: float  # futures that reach the scope within MAX_DAYS
    milestones: list[MilestoneForecast] = field(default_factory=list)
    reason: str | None = None  # why there are no dates (no history, no throughput)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO text."""
        return _iso(asdict(self))


def days_to_reach(
    history: np.ndarray,
    targets: np.ndarray,
    runs: int = RUNS,
    rng: np.random.Generator | None = None,
    max_days: int = MAX_DAYS,
    rate_uncertainty: bool = True,
) -> np.ndarray:
    """Simulated days needed to reach each target, shape (runs, len(targets)), float, for one
    history: `metrics.futures.days_needed` over futures drawn from `rng` for it alone.

    Day 1 is the first simulated day; a target of 0 or less takes 0 days; a future that has
    not reached a target after `max_days` days has `inf` there.

    >>> days_to_reach(np.array([10.0]), np.array([0.0, 25.0, 30.0]), runs=2)
    array([[0., 3., 3.],
           [0., 3., 3.]])
    """
    history = np.asarray(history)
    futures = Futures(history.size, runs, rng or np.random.default_rng(SEED), rate_uncertainty)
    return days_needed(history, targets, futures, max_days)


def throughput_window(
    daily: pl.DataFrame, as_of: date, window_days: int = WINDOW_DAYS
) -> tuple[np.ndarray, date | None]:
    """The history a forecast made on `as_of` resamples: units of each calendar day in the last
    `window_days` days before `as_of` (days missing from `daily` count as zero), but not before
    the first day of `daily` (the project's start). Returns the values and the window's start.

    >>> from datetime import date
    >>> daily = pl.DataFrame({"day": [date(2026, 1, 1), date(2026, 1, 3)], "units": [4, 2]})
    >>> throughput_window(daily, date(2026, 1, 5), window_days=3)
    (array([0., 2., 0.]), datetime.date(2026, 1, 2))
    """
    return _window(*_day_numbers(daily), as_of, window_days)


def _window(
    day: np.ndarray, units: np.ndarray, as_of: date, window_days: int
) -> tuple[np.ndarray, date | None]:
    cutoff = _day_number(as_of)
    before = day < cutoff
    if not before.any():
        return np.zeros(0), None
    start = max(cutoff - window_days, int(day[before].min()))
    values = np.zeros(cutoff - start)
    inside = before & (day >= start)
    # numpy, not a Polars join: a forecast is made per project, many times per page
    np.add.at(values, day[inside] - start, units[inside])
    return values, as_of - timedelta(days=cutoff - start)


def _day_numbers(daily: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Days as whole numbers (days since 1970-01-01) and units as floats, nulls dropped."""
    rows = daily.select(pl.col("day").cast(pl.Date).cast(pl.Int64), pl.col("units")).drop_nulls()
    return rows["day"].to_numpy(), rows["units"].cast(pl.Float64).to_numpy()


def _day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _reached_on(day: np.ndarray, units: np.ndarray, target: float) -> date:
    """The first day whose cumulative units reach `target` (the caller knows one does)."""
    order = np.argsort(day, kind="stable")
    first = int(np.argmax(np.cumsum(units[order]) >= target))
    return date(1970, 1, 1) + timedelta(days=int(day[order][first]))


@dataclass(frozen=True)
class ForecastRequest:
    """One project's forecast to make: its daily throughput (`day`, `units`), scope, the
    forecast day and its milestones."""

    daily: pl.DataFrame
    scope: int
    as_of: date
    milestones: Sequence[Milestone] = ()


def monte_carlo_forecast(
    daily: pl.DataFrame,
    scope: int,
    as_of: date,
    milestones: Sequence[Milestone] = (),
    *,
    window_days: int = WINDOW_DAYS,
    runs: int = RUNS,
    seed: int | np.random.SeedSequence = SEED,
    max_days: int = MAX_DAYS,
) -> Forecast:
    """The forecast of a project made on `as_of`: P50/P85/P95 completion dates of `scope` and
    each milestone's probability, from the daily throughput (`day`, `units`) before `as_of`.

    Works for any past `as_of` (only the days before it are read), so a forecast can be
    checked against what happened after it.
    """
    request = ForecastRequest(daily, scope, as_of, milestones)
    options = {"window_days": window_days, "runs": runs, "seed": seed, "max_days": max_days}
    return monte_carlo_forecasts([request], **options)[0]


def monte_carlo_forecasts(
    requests: Sequence[ForecastRequest],
    *,
    window_days: int = WINDOW_DAYS,
    runs: int = RUNS,
    seed: int | np.random.SeedSequence = SEED,
    max_days: int = MAX_DAYS,
) -> list[Forecast]:
    """`monte_carlo_forecast` of many projects at once. The projects whose windows have as
    many days share one draw of the futures (`metrics.futures.Futures`, seeded by `seed`), so
    the random draws are made once per window length rather than once per project, and each
    project comes out exactly as `monte_carlo_forecast` alone gives it."""
    futures: dict[int, Futures] = {}
    forecasts = []
    for request in requests:
        day, units = _day_numbers(request.daily)
        history, window_start = _window(day, units, request.as_of, window_days)
        if history.size not in futures:
            futures[history.size] = Futures(history.size, runs, np.random.default_rng(seed))
        shared = futures[history.size]
        forecasts.append(_forecast(request, day, units, history, window_start, shared, max_days))
    return forecasts


def _forecast(
    request: ForecastRequest,
    day: np.ndarray,
    units: np.ndarray,
    history: np.ndarray,
    window_start: date | None,
    futures: Futures,
    max_days: int,
) -> Forecast:
    as_of, scope, milestones = request.as_of, request.scope, request.milestones
    known = day < _day_number(as_of)
    done = int(units[known].sum())

    def done_by(due: date) -> int:
        return int(units[known & (day <= _day_number(due))].sum())

    remaining = max(0, int(scope) - done)
    targets = np.array([scope] + [m.target for m in milestones], dtype=np.float64) - done
    needed = days_needed(history, targets, futures, max_days)
    dates = completion_dates(as_of, needed[:, 0])
    if remaining == 0 and scope > 0:
        # finished before the forecast: every date is the day it really was
        dates = [_reached_on(day[known], units[known], scope)] * 3
    reason = None
    if history.size == 0:
        reason = "no throughput history before the forecast date"
    elif remaining and not history.any():
        reason = f"no accepted work in the {history.size} days before the forecast date"
    return Forecast(
        as_of=as_of,
        scope=int(scope),
        done=done,
        remaining=remaining,
        window_start=window_start,
        window_days=int(history.size),
        runs=futures.runs,
        mean_daily=float(history.mean()) if history.size else None,
        p50=dates[0],
        p85=dates[1],
        p95=dates[2],
        finished_share=float(np.isfinite(needed[:, 0]).mean()),
        milestones=[
            _milestone_forecast(m, as_of, done_by(m.due), needed[:, i + 1], history.size > 0)
            for i, m in enumerate(milestones)
        ],
        reason=reason,
    )


def forecasts_over_time(
    daily: pl.DataFrame,
    scope: int,
    dates: Sequence[date],
    **options: Any,
) -> pl.DataFrame:
    """The forecast made on each of `dates` (each from the days before it), beside the day the
    scope was really reached, so past forecasts can be checked against what happened.

    Returns one row per date: `as_of`, `done`, `p50`, `p85`, `p95` and `actual` (the first day
    whose cumulative units reach `scope`, null while it has not); `options` go to
    `monte_carlo_forecast` (window_days, runs, seed).

    >>> from datetime import date
    >>> daily = pl.DataFrame({"day": [date(2026, 3, d) for d in range(1, 11)], "units": [10] * 10})
    >>> track = forecasts_over_time(daily, 100, [date(2026, 3, 4), date(2026, 3, 8)])
    >>> track.select("as_of", "p85", "actual").rows()[0]
    (datetime.date(2026, 3, 4), datetime.date(2026, 3, 10), datetime.date(2026, 3, 10))
    """
    ordered = daily.sort("day")
    reached = ordered.filter(pl.col("units").cum_sum() >= scope)
    actual = reached["day"][0] if reached.height else None
    requests = [ForecastRequest(ordered, scope, as_of) for as_of in dates]
    rows = [
        {"as_of": f.as_of, "done": f.done, "p50": f.p50, "p85": f.p85, "p95": f.p95}
        for f in monte_carlo_forecasts(requests, **options)
    ]
    schema = {"as_of": pl.Date, "done": pl.Int64, "p50": pl.Date, "p85": pl.Date, "p95": pl.Date}
    return pl.DataFrame(rows, schema=schema).with_columns(actual=pl.lit(actual, pl.Date))


def completion_date(as_of: date, needed: np.ndarray, percentile: float) -> date | None:
    """The date by which `percentile`% of futures have finished: the nearest-rank quantile of
    the days needed (day k of the simulation is `as_of + k - 1`; 0 days is `as_of - 1`, done
    before the forecast). None when fewer than that share of futures ever finish.

    >>> from datetime import date
    >>> completion_date(date(2026, 1, 10), np.array([1.0, 2.0, 3.0, 4.0]), 50)
    datetime.date(2026, 1, 11)
    """
    return completion_dates(as_of, needed, (percentile,))[0]


def completion_dates(
    as_of: date, needed: np.ndarray, percentiles: Sequence[float] = PERCENTILES
) -> list[date | None]:
    """`completion_date` at several percentiles, sorting the futures once."""
    if needed.size == 0:
        return [None] * len(percentiles)
    # nearest rank: the smallest k with at least percentile% of futures done within k days
    ranks = [max(1, int(np.ceil(p / 100 * needed.size - 1e-9))) for p in percentiles]
    ordered = np.partition(needed, [r - 1 for r in ranks])
    dates: list[date | None] = []
    for rank in ranks:
        days = float(ordered[rank - 1])
        dates.append(as_of + timedelta(days=int(days) - 1) if np.isfinite(days) else None)
    return dates


def _milestone_forecast(
    milestone: Milestone, as_of: date, done_by_due: int, needed: np.ndarray, has_history: bool
) -> MilestoneForecast:
    # `done_by_due`: units done by the end of the due day, of the days before `as_of`
    met = done_by_due >= milestone.target
    if met:
        probability: float | None = 1.0
    elif milestone.due < as_of:
        probability = 0.0  # due before the forecast and not reached by then
    elif not has_history:
        probability = None
    else:
        days_left = (milestone.due - as_of).days + 1
        probability = float((needed <= days_left).mean())
    return MilestoneForecast(
        milestone=milestone.name,
        due=milestone.due,
        target=milestone.target,
        probability=probability,
        # a target already reached (on time or late) has no date ahead
        p85=None if (needed <= 0).all() else completion_date(as_of, needed, 85),
        met=met,
    )


def _iso(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value
