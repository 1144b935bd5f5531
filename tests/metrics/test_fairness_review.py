"""Review fairness: hand-counted rates, Fairlearn's selection rate by group, and a planted
biased reviewer found among fair ones."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from fairlearn.metrics import MetricFrame, selection_rate

from metrics.fairness.findings import AuditSettings, Finding
from metrics.fairness.review import _flag_and_explain, review_fairness

FAST = AuditSettings(samples=200, permutations=200, seed=1)


def by(findings, measure):
    return {f.group: f for f in findings if f.measure == measure}


def test_known_answer_rates_overall_and_among_gold_correct_work():
    # x: a has 4 reviews (2 rejected, one of them gold-correct), b has 2 (0 rejected)
    # y: c has 3 reviews (1 rejected, not gold), d has 1 (approved); 'submitted' does not count
    reviews = pl.DataFrame({
        "worker_id": list("aaaabbcccde"),
        "reviewer_id": ["r"] * 11,
        "status": ["rejected", "rejected", "approved", "approved", "approved", "approved",
                   "rejected", "approved", "approved", "approved", "submitted"],
        "gold_correct": [True, False, True, None, True, True, None, True, True, True, True],
    })  # fmt: skip
    people = pl.DataFrame({"worker_id": list("abcde"), "team": list("xxyyy")})
    found = review_fairness(reviews, people, "team", "y", settings=replace(FAST, min_group_size=1))
    assert by(found, "rejection_rate")["x"].estimate == pytest.approx(2 / 6)
    assert by(found, "rejection_rate")["y"].estimate == pytest.approx(1 / 4)
    assert by(found, "rejection_rate")["x"].n == 2
    assert by(found, "rejection_rate_difference")["x"].estimate == pytest.approx(2 / 6 - 1 / 4)
    # gold-correct: x 1 rejected of 4 (a: 2, b: 2); y 0 of 3 (c: 2, d: 1)
    assert by(found, "rejection_rate_gold_correct")["x"].estimate == pytest.approx(1 / 4)
    assert by(found, "rejection_rate_gold_correct")["y"].estimate == 0
    assert "y" not in by(found, "rejection_rate_difference")


def test_group_rejection_rates_equal_fairlearn_selection_rate():
    rng = np.random.default_rng(2)
    workers = [f"w{i}" for i in range(60)]
    team = dict(zip(workers, rng.choice(["a", "b", "c"], 60), strict=True))
    worker = rng.choice(workers, 2000)
    rejected = rng.random(2000) < np.where([team[w] == "b" for w in worker], 0.2, 0.1)
    reviews = pl.DataFrame({"worker_id": worker, "reviewer_id": "r",
                            "status": np.where(rejected, "rejected", "approved"),
                            "gold_correct": None})  # fmt: skip
    people = pl.DataFrame({"worker_id": list(team), "team": list(team.values())})
    found = review_fairness(reviews, people, "team", "a", settings=replace(FAST, min_group_size=1))
    frame = MetricFrame(metrics=selection_rate, y_true=rejected, y_pred=rejected,
                        sensitive_features=[team[w] for w in worker])  # fmt: skip
    for group, rate in frame.by_group.items():
        assert by(found, "rejection_rate")[group].estimate == pytest.approx(rate)
    difference = frame.by_group - frame.by_group["a"]
    for group in ("b", "c"):
        expected = difference[group]
        assert by(found, "rejection_rate_difference")[group].estimate == pytest.approx(expected)


def biased_reviews(seed: int, bias: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Three reviewers; r2 rejects gold-correct work of group f with probability 0.05 + bias."""
    rng = np.random.default_rng(seed)
    workers = [f"w{i}" for i in range(120)]
    gender = rng.choice(["m", "f"], 120)
    rows = []
    for _ in range(6000):
        i = int(rng.integers(120))
        reviewer = f"r{rng.integers(3)}"
        correct = bool(rng.random() < 0.8)
        p = 0.05 if correct else 0.6
        if correct and reviewer == "r2" and gender[i] == "f":
            p += bias
        rows.append((workers[i], reviewer, "rejected" if rng.random() < p else "approved", correct))
    reviews = pl.DataFrame(rows, schema=["worker_id", "reviewer_id", "status", "gold_correct"],
                           orient="row")  # fmt: skip
    return reviews, pl.DataFrame({"worker_id": workers, "gender": gender})


def test_a_biased_reviewer_is_flagged_and_fair_ones_are_not():
    reviews, people = biased_reviews(seed=5, bias=0.25)
    # four tests in the family (all reviews, three reviewers): Holm needs p < 0.0025, so more
    # permutations than the smallest p-value they can give, 1 / (1 + permutations)
    found = review_fairness(reviews, people, "gender", "m", settings=AuditSettings(200, 1000))
    flagged = {f.measure for f in found if f.flag == "reviewer_bias"}
    assert "rejection_rate_gold_correct_difference@reviewer=r2" in flagged
    assert not {m for m in flagged if m.endswith(("r0", "r1"))}
    r2 = by(found, "rejection_rate_gold_correct_difference@reviewer=r2")["f"]
    assert r2.p_adjusted < 0.01 and r2.ci_low < 0.25 < r2.ci_high
    assert "reviewer-bias" in r2.reason


def test_without_bias_no_reviewer_is_flagged():
    reviews, people = biased_reviews(seed=6, bias=0.0)
    found = review_fairness(reviews, people, "gender", "m", settings=FAST)
    assert not [f for f in found if f.flag == "reviewer_bias"]


def test_reviewers_with_few_gold_correct_reviews_are_not_audited_alone():
    reviews, people = biased_reviews(seed=7, bias=0.0)
    found = review_fairness(reviews, people, "gender", settings=FAST,
                            min_reviewer_reviews=10_000)  # fmt: skip
    assert not [f for f in found if "@reviewer=" in f.measure]


@pytest.mark.parametrize(
    ("measure", "estimate", "says"),
    [
        ("rejection_rate_gold_correct_difference", 0.2, "correct work rejected more often"),
        ("rejection_rate_gold_correct_difference", -0.2, "correct work rejected less often"),
        ("rejection_rate_difference", 0.1, "; work rejected more often"),
        ("rejection_rate_difference", -0.1, "; work rejected less often"),
    ],
)
def test_a_flagged_difference_says_which_way_it_goes(measure, estimate, says):
    found = Finding("review", "gender", "woman", "man", measure, estimate, estimate - 0.05,
                    estimate + 0.05, 0.001, 0.002, 300, None, "")  # fmt: skip
    explained = _flag_and_explain(found, alpha=0.05)
    assert explained.flag == ("reviewer_bias" if "gold_correct" in measure else "rejection_gap")
    assert says in explained.reason
    assert explained.reason.endswith("a reviewer-bias signal") == ("gold_correct" in measure)
