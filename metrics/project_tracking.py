"""One project's tracking figures in one call: burn-up, forecast, budget, quality gates,
workforce and alerts, from plain frames (what `crowdmeter forecast`, `alerts` and the Project
page need; each figure is defined in its own module and in docs/METRICS.md).

>>> from datetime import date
>>> plan = ProjectPlan("mturk:B1", target_items=100, labels_per_item=2, budget=200.0,
...                    starts_on=date(2026, 3, 1), due_on=date(2026, 3, 20))
>>> accepted = pl.DataFrame({"day": [date(2026, 3, d) for d in range(1, 11)], "units": [10] * 10})
>>> status = track_project(plan, accepted, as_of=date(2026, 3, 11))
>>> status.forecast.scope, status.forecast.done, status.forecast.p85
(200, 100, datetime.date(2026, 3, 20))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from metrics.alerts import Finding, ProjectFacts, evaluate_alerts
from metrics.budget import EarnedValue, Plan, earned_value, spend_rate, spend_to_date
from metrics.burnup import burnup, daily_throughput, scope_at, scope_units, weekly_throughput
from metrics.forecast import (
    RUNS,
    SEED,
    WINDOW_DAYS,
    Forecast,
    ForecastRequest,
    Milestone,
    monte_carlo_forecasts,
)
from metrics.quality_gate import QualityGate, quality_gate


@dataclass(frozen=True)
class ProjectPlan:
    """A project's plan as the `projects`, `milestones` and `scope_changes` tables hold it:
    targets in items; milestones as (name, due, target items); `target_items` is the scope the
    plan started with and `scope_changes` each later scope as (day, target items, reason), in
    force from that day on."""

    project: str
    target_items: int | None
    labels_per_item: int | None = 1
    budget: float | None = None
    starts_on: date | None = None
    due_on: date | None = None
    milestones: Sequence[tuple[str, date, int]] = ()
    quality_targets: Mapping[str, float | None] = field(default_factory=dict)
    scope_changes: Sequence[tuple[date, int, str | None]] = ()

    def units(self, items: int) -> int:
        """Items as units (labels): items x labels per item."""
        return scope_units(items, self.labels_per_item) or 0


@dataclass(frozen=True)
class ProjectStatus:
    project: str
    as_of: date
    burnup: pl.DataFrame
    scope_changes: pl.DataFrame  # `day`, `scope`, `reason`: the changes known on `as_of`
    weekly: pl.DataFrame
    forecast: Forecast
    spend: dict[str, float] | None
    spend_per_day: float | None
    earned_value: EarnedValue | None
    gates: list[QualityGate]
    findings: list[Finding]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the frames left out: they are for charts)."""
        return {
            "project": self.project,
            "as_of": self.as_of.isoformat(),
            "forecast": self.forecast.as_dict(),
            "scope_changes": [
                {"day": row["day"].isoformat(), "scope": row["scope"], "reason": row["reason"]}
                for row in self.scope_changes.iter_rows(named=True)
            ],
            "spend": self.spend,
            "spend_per_day": self.spend_per_day,
            "earned_value": self.earned_value.as_dict() if self.earned_value else None,
            "quality_gates": [gate.as_dict() for gate in self.gates],
            "alerts": [finding.as_dict() for finding in self.findings],
        }


@dataclass(frozen=True)
class ProjectRecords:
    """What one project's tracking reads, as `track_project` takes it (its arguments)."""

    plan: ProjectPlan
    accepted: pl.DataFrame
    scope_changes: pl.DataFrame | None = None
    spend: pl.DataFrame | None = None
    fee_rate: float = 0.0
    quality: Mapping[str, pl.DataFrame] | None = None
    reviews: pl.DataFrame | None = None
    weekly_hours: pl.DataFrame | None = None


def track_project(
    plan: ProjectPlan,
    accepted: pl.DataFrame,
    as_of: date,
    *,
    scope_changes: pl.DataFrame | None = None,
    spend: pl.DataFrame | None = None,
    fee_rate: float = 0.0,
    quality: Mapping[str, pl.DataFrame] | None = None,
    reviews: pl.DataFrame | None = None,
    weekly_hours: pl.DataFrame | None = None,
    rules: Sequence[Mapping[str, Any]] = (),
    window_days: int = WINDOW_DAYS,
    runs: int = RUNS,
    seed: int = SEED,
) -> ProjectStatus:
    """Every tracking figure of one project as known on `as_of` (work of the days before it).

    `accepted`: accepted units per day (`day`, `units`). `scope_changes` (`day`, `scope` in
    units) defaults to the plan's: its opening scope from its start, then each of
    `plan.scope_changes` (`plan_scope`). The forecast, earned value and alerts use the scope in
    force on `as_of` (the latest change on or before it). `spend`: `day`, `rewards`, `bonuses`
    (and `fees`). `quality`: metric name -> weekly series (`week`, `value`, `n`), checked
    against `plan.quality_targets`. `reviews` and `weekly_hours` feed the alert rules.
    """
    records = ProjectRecords(
        plan, accepted, scope_changes, spend, fee_rate, quality, reviews, weekly_hours
    )
    options = {"window_days": window_days, "runs": runs, "seed": seed}
    return track_many([records], as_of, rules=rules, **options)[0]


def track_many(
    projects: Sequence[ProjectRecords],
    as_of: date,
    *,
    rules: Sequence[Mapping[str, Any]] = (),
    window_days: int = WINDOW_DAYS,
    runs: int = RUNS,
    seed: int = SEED,
) -> list[ProjectStatus]:
    """`track_project` of many projects on one `as_of`: their forecasts are made together on
    shared draws (`metrics.forecast.monte_carlo_forecasts`), and each comes out as it would
    alone."""
    scopes = [
        p.scope_changes if p.scope_changes is not None else plan_scope(p.plan, p.accepted)
        for p in projects
    ]
    requests = [
        forecast_request(p.plan, p.accepted, as_of, changes)
        for p, changes in zip(projects, scopes, strict=True)
    ]
    forecasts = monte_carlo_forecasts(requests, window_days=window_days, runs=runs, seed=seed)
    return [
        _status(*each, rules) for each in zip(projects, scopes, requests, forecasts, strict=True)
    ]


def _status(
    records: ProjectRecords,
    changes: pl.DataFrame,
    request: ForecastRequest,
    forecast: Forecast,
    rules: Sequence[Mapping[str, Any]],
) -> ProjectStatus:
    plan, as_of = records.plan, request.as_of
    daily, scope, milestones = request.daily, request.scope, request.milestones
    spent = rate = value = None
    last_day = as_of - _ONE_DAY
    if records.spend is not None:
        spent = spend_to_date(records.spend, last_day, records.fee_rate)
        rate = spend_rate(records.spend, last_day, fee_rate=records.fee_rate)
        if plan.budget and plan.starts_on and plan.due_on and scope:
            budget_plan = Plan(
                plan.budget, scope, plan.starts_on, plan.due_on,
                [(m.due, m.target) for m in milestones],
            )  # fmt: skip
            value = earned_value(budget_plan, forecast.done, spent["total"], last_day)
    gates = [
        quality_gate(series, plan.quality_targets.get(metric), metric)
        for metric, series in (records.quality or {}).items()
    ]
    facts = ProjectFacts(plan.project, plan.due_on, forecast, gates, value, records.reviews,
                         records.weekly_hours, last_day)  # fmt: skip
    return ProjectStatus(
        project=plan.project,
        as_of=as_of,
        burnup=burnup(daily, changes) if daily.height else daily,
        scope_changes=_changes_known(plan, as_of),
        weekly=weekly_throughput(daily),
        forecast=forecast,
        spend=spent,
        spend_per_day=rate,
        earned_value=value,
        gates=gates,
        findings=evaluate_alerts(rules, facts),
    )


_ONE_DAY = timedelta(days=1)


def forecast_request(
    plan: ProjectPlan, accepted: pl.DataFrame, as_of: date, changes: pl.DataFrame
) -> ForecastRequest:
    """What a project's forecast on `as_of` reads: its daily throughput before `as_of` (zero
    days kept, from the plan's start), the scope in force on `as_of` (of `changes`, `day` and
    `scope`) and its milestones, in units."""
    known = accepted.filter(pl.col("day") < as_of)
    start = plan.starts_on if plan.starts_on and plan.starts_on < as_of else None
    daily = daily_throughput(known, start=start, units="units")
    scope = scope_at(changes, as_of) or plan.units(plan.target_items or 0)
    milestones = [Milestone(name, due, plan.units(items)) for name, due, items in plan.milestones]
    return ForecastRequest(daily, scope, as_of, milestones)


def plan_scope(plan: ProjectPlan, accepted: pl.DataFrame) -> pl.DataFrame:
    """The plan's scope over time (`day`, `scope` in units): `target_items` from the plan's
    start (else its first accepted day), then each of `plan.scope_changes` from its day; a
    change dated on or before the start replaces the opening scope (the latest one wins).

    >>> from datetime import date
    >>> plan = ProjectPlan("p", 100, starts_on=date(2026, 3, 1),
    ...                    scope_changes=[(date(2026, 3, 9), 120, "client added items")])
    >>> plan_scope(plan, pl.DataFrame({"day": []}, schema={"day": pl.Date})).rows()
    [(datetime.date(2026, 3, 1), 100), (datetime.date(2026, 3, 9), 120)]
    """
    first = plan.starts_on or (accepted["day"].min() if accepted.height else None)
    scopes: dict[date, int] = {}
    if first is not None and plan.target_items is not None:
        scopes[first] = plan.units(plan.target_items)
    for day, items, _ in sorted(plan.scope_changes, key=lambda change: change[0]):
        scopes[max(day, first) if first is not None else day] = plan.units(items)
    return pl.DataFrame(
        {"day": list(scopes), "scope": list(scopes.values())},
        schema={"day": pl.Date, "scope": pl.Int64},
    )


def _changes_known(plan: ProjectPlan, as_of: date) -> pl.DataFrame:
    known = sorted((c for c in plan.scope_changes if c[0] <= as_of), key=lambda c: c[0])
    return pl.DataFrame(
        [(day, plan.units(items), reason) for day, items, reason in known],
        schema={"day": pl.Date, "scope": pl.Int64, "reason": pl.String},
        orient="row",
    )
