"""Alert rules over one project's figures: rules come in as plain data (from config.toml), each
finding goes out with the evidence behind it (docs/METRICS.md, "Alerts").

A rule is a mapping with `rule` (one of RULES) and that rule's parameters; missing parameters
take the defaults of RULES. `evaluate_alerts` runs every rule over a `ProjectFacts`.

>>> facts = ProjectFacts(project="mturk:P1", weekly_hours=pl.DataFrame(
...     {"worker_id": ["w1", "w2"], "week": [date(2026, 3, 2)] * 2, "hours": [50.5, 30.0]}))
>>> [f.message for f in evaluate_alerts([{"rule": "overwork"}], facts)]
['w1 worked 50.5 h in the week of 2026-03-02 (limit 48 h)']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from metrics.budget import EarnedValue
from metrics.forecast import Forecast, MilestoneForecast
from metrics.quality_gate import QualityGate

# Each rule with its parameters' defaults.
RULES: dict[str, dict[str, Any]] = {
    "forecast_past_due": {},
    "quality_under_target": {},
    "budget_overrun": {"tolerance": 0.0},
    "reject_spike": {"days": 7, "factor": 2.0, "min_rejects": 5},
    "overwork": {"max_hours": 48.0},
}


@dataclass(frozen=True)
class ProjectFacts:
    """What the rules read about one project; a rule whose facts are missing finds nothing."""

    project: str
    due_on: date | None = None
    forecast: Forecast | None = None
    gates: list[QualityGate] = field(default_factory=list)
    earned_value: EarnedValue | None = None
    reviews: pl.DataFrame | None = None  # `day`, `reviewed`, `rejected` per day
    weekly_hours: pl.DataFrame | None = None  # `worker_id`, `week`, `hours`
    as_of: date | None = None  # the reject spike's last day; default the last review day


@dataclass(frozen=True)
class Finding:
    rule: str
    project: str
    message: str
    evidence: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "project": self.project, "message": self.message} | {
            "evidence": {
                k: v.isoformat() if isinstance(v, date) else v for k, v in self.evidence.items()
            }
        }


def check_rules(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules with their defaults filled in; ValueError names an unknown rule or parameter."""
    checked = []
    for rule in rules:
        name = rule.get("rule")
        if name not in RULES:
            raise ValueError(f"alert rule {name!r} is not one of: {', '.join(RULES)}")
        unknown = set(rule) - set(RULES[name]) - {"rule"}
        if unknown:
            raise ValueError(
                f"alert rule {name!r} has no parameter {', '.join(sorted(unknown))}; "
                f"it takes: {', '.join(RULES[name]) or 'none'}"
            )
        checked.append({"rule": name} | RULES[name] | dict(rule))
    return checked


def evaluate_alerts(rules: Iterable[Mapping[str, Any]], facts: ProjectFacts) -> list[Finding]:
    """Every finding of every rule over one project, in the order of the rules."""
    findings: list[Finding] = []
    for rule in check_rules(rules):
        findings += EVALUATORS[rule["rule"]](rule, facts)
    return findings


def forecast_past_due(rule: Mapping[str, Any], facts: ProjectFacts) -> list[Finding]:
    """The P85 completion date of the scope, or of a milestone's target, falls after its due
    date (or too few futures finish at all to have a P85)."""
    forecast = facts.forecast
    if forecast is None or forecast.reason == "no throughput history before the forecast date":
        return []
    found = []
    if facts.due_on and forecast.remaining and _late(forecast.p85, facts.due_on):
        found.append(_past_due(facts, "the project", facts.due_on, forecast.p85, forecast, {}))
    for m in forecast.milestones:
        if not m.met and forecast.done >= m.target:
            # reached, but after its due day: no date ahead to forecast
            found.append(_reached_late(facts, m, forecast))
        elif not m.met and _late(m.p85, m.due):
            evidence = {"target": m.target, "probability": m.probability}
            found.append(
                _past_due(facts, f"milestone {m.milestone!r}", m.due, m.p85, forecast, evidence)
            )
    return found


def _reached_late(facts: ProjectFacts, m: MilestoneForecast, forecast: Forecast) -> Finding:
    return Finding(
        "forecast_past_due",
        facts.project,
        f"milestone {m.milestone!r} was due {m.due.isoformat()} and was reached only after it",
        {"due": m.due, "target": m.target, "as_of": forecast.as_of, "done": forecast.done,
         "scope": forecast.scope, "probability": m.probability},
    )  # fmt: skip


def _late(forecast_date: date | None, due: date) -> bool:
    return forecast_date is None or forecast_date > due


def _past_due(
    facts: ProjectFacts,
    what: str,
    due: date,
    p85: date | None,
    forecast: Forecast,
    evidence: dict[str, Any],
) -> Finding:
    when = p85.isoformat() if p85 else "beyond the forecast horizon"
    return Finding(
        "forecast_past_due",
        facts.project,
        f"{what} is due {due.isoformat()} but P85 completion is {when}",
        {
            "due": due,
            "p85": p85,
            "as_of": forecast.as_of,
            "done": forecast.done,
            "scope": forecast.scope,
            "mean_daily": forecast.mean_daily,
        }
        | evidence,
    )


def quality_under_target(rule: Mapping[str, Any], facts: ProjectFacts) -> list[Finding]:
    """A quality gate whose recent level is below its target."""
    return [
        Finding(
            "quality_under_target",
            facts.project,
            f"{gate.metric} is {gate.level:.3f} over the last {gate.weeks} week(s), under the "
            f"target {gate.target:g} (trend {gate.trend})",
            gate.as_dict(),
        )
        for gate in facts.gates
        if gate.status == "below"
    ]


def budget_overrun(rule: Mapping[str, Any], facts: ProjectFacts) -> list[Finding]:
    """The estimate at completion exceeds the budget by more than `tolerance` (a share)."""
    ev = facts.earned_value
    if ev is None or ev.eac is None or ev.eac <= ev.budget * (1 + rule["tolerance"]):
        return []
    over = ev.eac / ev.budget - 1 if ev.budget else float("inf")
    return [
        Finding(
            "budget_overrun",
            facts.project,
            f"estimate at completion {ev.eac:,.2f} is {over:.0%} over the budget "
            f"{ev.budget:,.2f} (CPI {ev.cpi:.2f})",
            ev.as_dict(),
        )
    ]


def reject_spike(rule: Mapping[str, Any], facts: ProjectFacts) -> list[Finding]:
    """The rejection rate of the last `days` days is at least `factor` times the rate before
    them, with at least `min_rejects` rejects in the recent days."""
    reviews = facts.reviews
    if reviews is None or reviews.is_empty():
        return []
    last = facts.as_of or reviews["day"].max()
    start = last - timedelta(days=rule["days"] - 1)
    in_recent = pl.col("day").is_between(start, last)
    recent = reviews.filter(in_recent)
    earlier = reviews.filter(pl.col("day") < start)
    recent_n, recent_rej = int(recent["reviewed"].sum()), int(recent["rejected"].sum())
    base_n, base_rej = int(earlier["reviewed"].sum()), int(earlier["rejected"].sum())
    if not recent_n or not base_n or recent_rej < rule["min_rejects"]:
        return []
    recent_rate, base_rate = recent_rej / recent_n, base_rej / base_n
    if recent_rate < rule["factor"] * base_rate:
        return []
    return [
        Finding(
            "reject_spike",
            facts.project,
            f"{recent_rej} of {recent_n} reviews rejected in the {rule['days']} days to "
            f"{last.isoformat()} ({recent_rate:.1%}), against {base_rate:.1%} before",
            {
                "from": start,
                "to": last,
                "recent_reviewed": recent_n,
                "recent_rejected": recent_rej,
                "recent_rate": recent_rate,
                "baseline_reviewed": base_n,
                "baseline_rejected": base_rej,
                "baseline_rate": base_rate,
            },
        )
    ]


def overwork(rule: Mapping[str, Any], facts: ProjectFacts) -> list[Finding]:
    """An annotator with more than `max_hours` hours in one ISO week."""
    hours = facts.weekly_hours
    if hours is None:
        return []
    over = hours.filter(pl.col("hours") > rule["max_hours"]).sort("week", "worker_id")
    return [
        Finding(
            "overwork",
            facts.project,
            f"{row['worker_id']} worked {row['hours']:.1f} h in the week of "
            f"{row['week'].isoformat()} (limit {rule['max_hours']:g} h)",
            {
                "worker_id": row["worker_id"],
                "week": row["week"],
                "hours": row["hours"],
                "max_hours": rule["max_hours"],
            },
        )
        for row in over.iter_rows(named=True)
    ]


EVALUATORS: dict[str, Callable[[Mapping[str, Any], ProjectFacts], list[Finding]]] = {
    "forecast_past_due": forecast_past_due,
    "quality_under_target": quality_under_target,
    "budget_overrun": budget_overrun,
    "reject_spike": reject_spike,
    "overwork": overwork,
}
