"""Pay equity: hand-computed figures on tiny frames, Fairlearn's group metrics, a planted 10%
gap recovered by the adjusted gap, Holm against statsmodels, and the interval and test machinery
checked against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from fairlearn.metrics import MetricFrame
from statsmodels.stats.multitest import multipletests

from metrics.fairness.findings import FIELDS, AuditSettings, findings_frame, holm
from metrics.fairness.group_compare import compare_medians, compare_rates
from metrics.fairness.pay_equity import intersection, pay_equity
from metrics.resampling import percentile_interval, resample_indices


def by(findings, measure):
    return {f.group: f for f in findings if f.measure == measure}


def test_known_answer_medians_means_ratios_and_gaps():
    # m: wages 10, 12, 14, 20 (median 13, mean 14); f: 9, 10, 11 (median 10, mean 10)
    wages = {"m1": 10, "m2": 12, "m3": 14, "m4": 20, "f1": 9, "f2": 10, "f3": 11}
    cells = pl.DataFrame({"worker_id": list(wages), "earnings": [2.0 * w for w in wages.values()],
                          "hours": [2.0] * 7})  # fmt: skip
    people = pl.DataFrame({"worker_id": list(wages), "gender": [w[0] for w in wages]})
    found = pay_equity(cells, people, "gender", settings=AuditSettings(100, 100, min_group_size=3))
    assert by(found, "median_wage")["m"].estimate == 13
    assert by(found, "median_wage")["f"].estimate == 10
    assert by(found, "mean_wage")["m"].estimate == pytest.approx(14)
    assert by(found, "median_ratio")["f"].estimate == pytest.approx(10 / 13)
    assert by(found, "median_ratio")["f"].reference == "m"  # the largest group
    assert by(found, "mean_gap")["f"].estimate == pytest.approx(1 - 10 / 14)
    assert by(found, "median_gap")["f"].estimate == pytest.approx(3 / 13)
    assert "m" not in by(found, "mean_ratio")  # the reference is not compared with itself
    assert by(found, "mean_wage")["f"].n == 3
    assert findings_frame(found).columns == list(FIELDS)


def test_a_group_paid_nothing_is_beyond_the_four_fifths_rule():
    # an unpaid survey: every woman earned $0.00, so her group's ratio to the men's is 0
    wages = {f"m{i}": 10.0 + i for i in range(10)} | {f"f{i}": 0.0 for i in range(10)}
    cells = pl.DataFrame({"worker_id": list(wages), "earnings": list(wages.values()),
                          "hours": [1.0] * 20})  # fmt: skip
    people = pl.DataFrame({"worker_id": list(wages), "gender": [w[0] for w in wages]})
    settings = AuditSettings(200, 200, min_group_size=3)
    found = pay_equity(cells, people, "gender", "m", settings=settings)
    ratio = by(found, "median_ratio")["f"]
    assert ratio.estimate == 0 and ratio.flag == "four_fifths", ratio
    assert "four-fifths" in ratio.reason


def test_a_worker_without_an_answer_is_not_stated_and_the_reference_can_be_chosen():
    cells = pl.DataFrame(
        {"worker_id": list("abcd"), "earnings": [1.0, 2, 3, 4], "hours": [1.0] * 4}
    )
    people = pl.DataFrame({"worker_id": list("abc"), "age": ["young", None, "old"]})
    settings = AuditSettings(50, 50, min_group_size=1)
    found = pay_equity(cells, people, "age", "old", settings=settings)
    levels = by(found, "mean_wage")
    assert set(levels) == {"young", "old", "not stated"}
    assert levels["not stated"].n == 2 and levels["not stated"].estimate == 3
    assert {f.reference for f in found if f.reference} == {"old"}


def test_group_means_and_medians_equal_fairlearn_metric_frame():
    rng = np.random.default_rng(5)
    wage = rng.lognormal(2.5, 0.4, 300)
    group = rng.choice(["a", "b", "c"], 300, p=[0.5, 0.3, 0.2])
    frame = MetricFrame(
        metrics={"mean": lambda y, _: float(np.mean(y)),
                 "median": lambda y, _: float(np.median(y))},
        y_true=wage, y_pred=wage, sensitive_features=group,
    )  # fmt: skip
    means = compare_rates(wage, np.ones(300), group, settings=AuditSettings(10, 10))
    medians = compare_medians(wage, group, settings=AuditSettings(10, 10))
    expected = frame.by_group
    assert means.value == pytest.approx(expected["mean"].loc[means.groups].to_numpy())
    assert medians.value == pytest.approx(expected["median"].loc[medians.groups].to_numpy())
    ratio_to_a = expected["mean"] / expected["mean"]["a"]
    assert means.ratio == pytest.approx(ratio_to_a.loc[means.groups].to_numpy())
    difference = expected["mean"] - expected["mean"]["a"]
    assert means.difference == pytest.approx(difference.loc[means.groups].to_numpy())
    # Fairlearn's between-groups ratio (smallest / largest group) is the extreme of ours
    largest = means.groups[int(np.argmax(means.value))]
    ours = compare_rates(wage, np.ones(300), group, largest, settings=AuditSettings(10, 10))
    assert ours.ratio.min() == pytest.approx(frame.ratio()["mean"])


def planted_workforce(gap: float, seed: int, workers: int = 600) -> tuple[pl.DataFrame, ...]:
    """Workers in two groups on two task types; group f is paid `gap` less for the same work
    and does more of the low-paid task type, so its raw gap exceeds `gap`."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["m", "f"], workers)
    rows = []
    for i, g in enumerate(gender):
        for task, base in (("transcribe", 12.0), ("moderate", 20.0)):
            share = 0.8 if (task == "transcribe") == (g == "f") else 0.2
            hours = rng.gamma(4, 2.5) * share
            wage = base * (1 - gap if g == "f" else 1) * rng.lognormal(0, 0.15)
            rows.append((f"w{i}", task, "p1", float(hours), float(wage * hours)))
    cells = pl.DataFrame(rows, schema=["worker_id", "task_type", "project_id", "hours", "earnings"],
                         orient="row")  # fmt: skip
    people = pl.DataFrame({"worker_id": [f"w{i}" for i in range(workers)], "gender": gender})
    return cells, people


def test_a_planted_ten_percent_gap_is_recovered_by_the_adjusted_gap_and_flagged():
    cells, people = planted_workforce(0.10, seed=3)
    found = pay_equity(cells, people, "gender", "m", settings=AuditSettings(300, 300, 1))
    adjusted = by(found, "adjusted_gap")["f"]
    assert adjusted.ci_low < 0.10 < adjusted.ci_high
    assert adjusted.estimate == pytest.approx(0.10, abs=0.02)
    assert adjusted.p_adjusted < 0.01 and adjusted.flag == "pay_gap_5pct"
    raw = by(found, "mean_gap")["f"]
    assert raw.ci_low > 0.15  # the task mix widens the raw gap; the controls take it out
    assert raw.flag == "pay_gap_5pct"
    assert by(found, "median_ratio")["f"].flag == "four_fifths"
    assert "EU pay transparency" in adjusted.reason


def test_without_a_planted_gap_the_adjusted_gap_is_not_flagged():
    cells, people = planted_workforce(0.0, seed=4)
    found = pay_equity(cells, people, "gender", "m", settings=AuditSettings(200, 200, 2))
    adjusted = by(found, "adjusted_gap")["f"]
    assert adjusted.ci_low < 0 < adjusted.ci_high
    assert adjusted.flag is None and adjusted.p_adjusted > 0.05
    # the task mix alone still opens a raw gap: that is what the controls are for
    assert by(found, "mean_gap")["f"].flag == "pay_gap_5pct"


def test_holm_equals_statsmodels_multipletests():
    rng = np.random.default_rng(0)
    for size in (1, 2, 5, 17):
        p = rng.uniform(0, 0.2, size)
        p[0] = p[-1]  # a tie
        expected = multipletests(p, method="holm")[1]
        assert holm(p.tolist()) == pytest.approx(expected.tolist())
    assert holm([0.02, None, 0.04]) == pytest.approx([0.04, None, 0.04])


def test_permutation_p_value_of_a_median_difference_matches_full_enumeration():
    values = np.array([1.0, 2.5, 3.0, 4.0, 6.0, 7.0, 8.5])
    groups = ["a", "a", "a", "b", "b", "b", "b"]
    c = compare_medians(values, groups, "b", settings=AuditSettings(10, 20000, 7))
    observed = abs(np.median(values[:3]) - np.median(values[3:]))
    splits = list(itertools.combinations(range(7), 3))
    extreme = 0
    for a in splits:
        rest = [i for i in range(7) if i not in a]
        extreme += abs(np.median(values[list(a)]) - np.median(values[rest])) >= observed - 1e-12
    exact = extreme / len(splits)
    assert c.p_value[0] == pytest.approx(exact, abs=0.01)
    assert np.isnan(c.p_value[1])


def test_bootstrap_interval_of_a_median_equals_brute_force_on_the_same_draws():
    rng = np.random.default_rng(1)
    values = rng.lognormal(0, 1, 40)
    groups = np.array(["a"] * 25 + ["b"] * 15)
    c = compare_medians(values, groups.tolist(), "a", settings=AuditSettings(400, 10, 9))
    group_seeds = np.random.SeedSequence(9).spawn(2)[0].spawn(2)
    draws = np.stack([
        np.concatenate([np.array([np.median(values[groups == g][row]) for row in picks])
                        for picks in resample_indices((groups == g).sum(), 400, seed)])
        for g, seed in zip(("a", "b"), group_seeds, strict=True)
    ], axis=1)  # fmt: skip
    level = percentile_interval(draws[:, 1], 0.95)
    assert (c.value_low[1], c.value_high[1]) == pytest.approx(level)
    ratio = percentile_interval(draws[:, 1] / draws[:, 0], 0.95)
    assert (c.ratio_low[1], c.ratio_high[1]) == pytest.approx(ratio)


def test_results_depend_on_the_seed_only():
    cells, people = planted_workforce(0.05, seed=8, workers=80)
    first = pay_equity(cells, people, "gender", settings=AuditSettings(100, 100, 3))
    again = pay_equity(cells.sample(fraction=1.0, shuffle=True, seed=1), people, "gender",
                       settings=AuditSettings(100, 100, 3))  # fmt: skip
    assert first == again


def test_intersections_only_where_every_cell_is_large_enough():
    people = pl.DataFrame({"worker_id": [f"w{i}" for i in range(12)], "gender": ["m", "f"] * 6,
                           "age": ["young"] * 6 + ["old"] * 6})  # fmt: skip
    both = intersection(people, "gender", "age", min_group_size=3)
    assert sorted(set(both["gender x age"])) == ["f & old", "f & young", "m & old", "m & young"]
    assert intersection(people, "gender", "age", min_group_size=4) is None
    cells = pl.DataFrame({"worker_id": people["worker_id"], "earnings": np.arange(1.0, 13),
                          "hours": [1.0] * 12})  # fmt: skip
    settings = AuditSettings(50, 50, min_group_size=3)
    found = pay_equity(cells, both, "gender x age", settings=settings)
    assert {f.attribute for f in found} == {"gender x age"}
    assert by(found, "mean_wage")["f & young"].estimate == pytest.approx((2 + 4 + 6) / 3)
