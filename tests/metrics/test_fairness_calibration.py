"""All four audits on one simulated workforce: planted effects found with p_adjusted < 0.01, no
more flags than METRICS.md promises over 20 seeds without effects, and every measure they
report named in the catalog."""

from __future__ import annotations

import pytest

from metrics.catalog import CATALOG
from metrics.fairness.findings import AuditSettings, Finding, measure_name
from metrics.fairness.labels import error_rates, label_distribution, label_rates, majority_agreement
from metrics.fairness.pay_equity import pay_equity
from metrics.fairness.review import review_fairness
from metrics.fairness.workload import workload
from tests.metrics.fairness_data import answers, pay_cells, people, reviews, work


def audit_everything(seed: int, effects: bool, settings: AuditSettings) -> list[Finding]:
    workers = people(150, seed)
    found: list[Finding] = []
    cells = pay_cells(workers, seed, gap=0.15 if effects else 0.0)
    reviewed = reviews(workers, seed, bias=0.3 if effects else 0.0)
    labelled = answers(workers, seed, fpr_bias=0.2 if effects else 0.0)
    labelled = labelled.join(workers.select("worker_id", "age"), on="worker_id")
    tasks = work(workers, seed, overwork=3.0 if effects else 0.0)
    for attribute in ("gender", "age"):
        found += pay_equity(cells, workers, attribute, settings=settings)
        found += review_fairness(reviewed, workers, attribute, settings=settings)
        found += workload(tasks, workers, attribute, sensitive_task_types=["moderation"],
                          settings=settings)  # fmt: skip
        found += label_distribution(labelled, attribute, settings=settings)
        found += majority_agreement(labelled, attribute, settings=settings)
    found += error_rates(labelled, "skin", "1", "l", settings=settings)
    found += label_rates(labelled, "skin", "l", settings=settings)
    return found


def flagged(found: list[Finding], audit: str, attribute: str, measure: str, group: str):
    (finding,) = [f for f in found if (f.audit, f.attribute, f.measure, f.group)
                  == (audit, attribute, measure, group)]  # fmt: skip
    return finding


@pytest.fixture(scope="module")
def planted() -> list[Finding]:
    # the largest family (three reviewers and all reviews, three groups each) has 12 tests:
    # p_adjusted < 0.01 needs p < 0.01 / 12, so 2000 permutations
    return audit_everything(seed=1, effects=True, settings=AuditSettings(300, 2000, seed=1))


@pytest.mark.parametrize(
    ("audit", "attribute", "measure", "group", "flag"),
    [
        ("pay_equity", "gender", "adjusted_gap", "f", "pay_gap_5pct"),
        ("review_fairness", "gender", "rejection_rate_gold_correct_difference@reviewer=r2", "f",
         "reviewer_bias"),
        ("label_bias", "skin", "false_positive_rate_ratio", "d", "disparity"),
        ("workload", "gender", "average_weekly_hours_difference", "f", "workload_gap"),
    ],
)  # fmt: skip
def test_planted_effects_are_found(planted, audit, attribute, measure, group, flag):
    finding = flagged(planted, audit, attribute, measure, group)
    assert finding.flag == flag and finding.p_adjusted < 0.01, finding.reason


def test_no_fair_reviewer_is_flagged(planted):
    biased = {f.measure for f in planted if f.flag == "reviewer_bias" and "@" in f.measure}
    assert biased == {"rejection_rate_gold_correct_difference@reviewer=r2"}


def test_every_measure_reported_has_a_catalog_entry(planted):
    for name in {measure_name(f.measure) for f in planted}:
        base = name if name in CATALOG else name.removesuffix("_difference").removesuffix("_ratio")
        assert base in CATALOG, name


@pytest.mark.slow
def test_without_effects_at_most_five_percent_of_tests_are_flagged():
    tests = flags = 0
    for seed in range(100, 120):
        found = audit_everything(seed, effects=False, settings=AuditSettings(100, 200, seed=seed))
        tested = [f for f in found if f.p_adjusted is not None]
        tests += len(tested)
        flags += sum(f.flag is not None for f in tested)
    assert tests > 1500
    assert flags / tests <= 0.05


def test_no_data_gives_no_findings_rather_than_an_error():
    settings = AuditSettings(10, 10)
    workers = people(3, seed=0)
    found = {
        "pay": pay_equity(pay_cells(workers, 0).clear(), workers, "gender", settings=settings),
        "review": review_fairness(
            reviews(workers, 0).clear(), workers, "gender", settings=settings
        ),  # fmt: skip
        "labels": error_rates(answers(workers, 0, items=1).clear(), "skin", "1", settings=settings),
        "distribution": label_distribution(
            answers(workers, 0, items=1).clear(), "gender", settings=settings
        ),  # fmt: skip
        "workload": workload(work(workers, 0).clear(), workers, "gender", settings=settings),
    }
    assert found == dict.fromkeys(found, [])
