"""Alert rules in as plain data, findings with their evidence out."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from metrics.alerts import ProjectFacts, check_rules, evaluate_alerts
from metrics.budget import Plan, earned_value
from metrics.forecast import Milestone, monte_carlo_forecast
from metrics.quality_gate import quality_gate

DAYS = [date(2026, 3, d) for d in range(1, 11)]
DAILY = pl.DataFrame({"day": DAYS, "units": [10] * 10})  # 100 done by March 10, 10 a day
ALL_RULES = [{"rule": name} for name in
             ("forecast_past_due", "quality_under_target", "budget_overrun", "reject_spike",
              "overwork")]  # fmt: skip


def forecast_facts(due: date) -> ProjectFacts:
    milestones = [Milestone("late", date(2026, 3, 12), 140), Milestone("fine", DAYS[-1], 50)]
    forecast = monte_carlo_forecast(DAILY, 150, date(2026, 3, 11), milestones)
    return ProjectFacts(project="mturk:P1", due_on=due, forecast=forecast)


def test_forecast_past_due_for_the_project_and_each_late_milestone() -> None:
    # P85 of the scope is March 15; "late" (40 to go) is reached March 14, due March 12
    findings = evaluate_alerts(ALL_RULES, forecast_facts(due=date(2026, 3, 14)))
    assert [f.message for f in findings] == [
        "the project is due 2026-03-14 but P85 completion is 2026-03-15",
        "milestone 'late' is due 2026-03-12 but P85 completion is 2026-03-14",
    ]
    evidence = findings[1].as_dict()["evidence"]
    assert evidence["p85"] == "2026-03-14" and evidence["probability"] == 0.0
    assert evidence["target"] == 140 and evidence["done"] == 100
    on_time = evaluate_alerts(ALL_RULES, forecast_facts(due=date(2026, 3, 15)))
    assert [f.rule for f in on_time] == ["forecast_past_due"]  # the milestone only


def test_a_milestone_reached_after_its_due_day_is_named_so() -> None:
    # 30 units by March 3 were due on March 2 (20 done then); 100 are done by March 10
    forecast = monte_carlo_forecast(DAILY, 150, date(2026, 3, 11),
                                    [Milestone("early", date(2026, 3, 2), 30)])  # fmt: skip
    facts = ProjectFacts(project="mturk:P1", forecast=forecast)
    (finding,) = evaluate_alerts([{"rule": "forecast_past_due"}], facts)
    assert finding.message == "milestone 'early' was due 2026-03-02 and was reached only after it"
    assert finding.evidence["probability"] == 0.0 and finding.evidence["done"] == 100


def test_a_forecast_without_history_trips_nothing() -> None:
    empty = pl.DataFrame(schema={"day": pl.Date, "units": pl.Int64})
    forecast = monte_carlo_forecast(empty, 10, date(2026, 3, 1))
    facts = ProjectFacts("p", due_on=date(2026, 3, 2), forecast=forecast)
    assert evaluate_alerts(ALL_RULES, facts) == []


def test_quality_under_target_names_the_metric_and_its_level() -> None:
    weeks = pl.DataFrame({"week": [date(2026, 3, 2), date(2026, 3, 9)], "value": [0.8, 0.7]})
    gates = [quality_gate(weeks, 0.9, "gold_accuracy"), quality_gate(weeks, 0.7, "agreement")]
    findings = evaluate_alerts(ALL_RULES, ProjectFacts("p", gates=gates))
    assert [f.message for f in findings] == [
        "gold_accuracy is 0.750 over the last 2 week(s), under the target 0.9 (trend falling)"
    ]
    assert findings[0].evidence["target"] == 0.9


def test_budget_overrun_beyond_the_tolerance() -> None:
    plan = Plan(1000.0, 100, date(2026, 1, 1), date(2026, 1, 10))
    ev = earned_value(plan, done=40, actual_cost=500.0, as_of=date(2026, 1, 5))  # EAC 1250
    facts = ProjectFacts("p", earned_value=ev)
    (finding,) = evaluate_alerts([{"rule": "budget_overrun"}], facts)
    assert (
        finding.message
        == "estimate at completion 1,250.00 is 25% over the budget 1,000.00 (CPI 0.80)"
    )
    assert finding.as_dict()["evidence"]["as_of"] == "2026-01-05"
    assert evaluate_alerts([{"rule": "budget_overrun", "tolerance": 0.25}], facts) == []


def reviews(rejected_recently: int) -> pl.DataFrame:
    days = [date(2026, 3, 1) + timedelta(days=i) for i in range(21)]
    rejected = [1] * 14 + [rejected_recently] * 7  # 1 in 20 before, then more
    return pl.DataFrame({"day": days, "reviewed": [20] * 21, "rejected": rejected})


def test_reject_spike_against_the_baseline() -> None:
    (finding,) = evaluate_alerts([{"rule": "reject_spike"}], ProjectFacts("p", reviews=reviews(2)))
    assert finding.evidence["recent_rate"] == pytest.approx(0.1)
    assert finding.evidence["baseline_rate"] == pytest.approx(0.05)
    assert finding.message.startswith("14 of 140 reviews rejected in the 7 days to 2026-03-21")
    calm = ProjectFacts("p", reviews=reviews(1))
    assert evaluate_alerts([{"rule": "reject_spike"}], calm) == []
    stricter = [{"rule": "reject_spike", "factor": 2.5}]
    assert evaluate_alerts(stricter, ProjectFacts("p", reviews=reviews(2))) == []


def test_overwork_finds_each_week_over_the_limit() -> None:
    weeks = [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 2)]
    hours = pl.DataFrame(
        {"worker_id": ["w1", "w1", "w2"], "week": weeks, "hours": [48.0, 52.25, 60.0]}
    )
    findings = evaluate_alerts([{"rule": "overwork"}], ProjectFacts("p", weekly_hours=hours))
    assert [(f.evidence["worker_id"], f.evidence["hours"]) for f in findings] == [
        ("w2", 60.0), ("w1", 52.25)
    ]  # fmt: skip
    assert (
        evaluate_alerts(
            [{"rule": "overwork", "max_hours": 60}], ProjectFacts("p", weekly_hours=hours)
        )
        == []
    )


def test_rules_are_checked_and_take_their_defaults() -> None:
    assert check_rules([{"rule": "overwork"}]) == [{"rule": "overwork", "max_hours": 48.0}]
    with pytest.raises(ValueError, match="'late' is not one of: forecast_past_due"):
        check_rules([{"rule": "late"}])
    with pytest.raises(ValueError, match="no parameter hours; it takes: max_hours"):
        check_rules([{"rule": "overwork", "hours": 40}])
