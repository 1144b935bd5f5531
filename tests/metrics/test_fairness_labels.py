"""Label bias: Fairlearn's group error rates, differences and ratios; hand-counted label rates;
a planted disparity found; the chi-square of label distributions against scipy, and not fooled
by one eccentric annotator."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
)
from scipy.stats import chi2_contingency
from sklearn.metrics import accuracy_score

from metrics.fairness.findings import ALL_GROUPS, AuditSettings, group_table
from metrics.fairness.labels import (
    error_rates,
    label_distribution,
    label_rates,
    majority_agreement,
    others_majority,
)

FAST = AuditSettings(200, 200, seed=1, min_group_size=1)


def by(findings, measure):
    return {f.group: f for f in findings if f.measure == measure}


def subject_answers(seed: int, fpr_bias: float, items: int = 1500) -> pl.DataFrame:
    """Three answers per item; items of group d with a negative gold answer are labelled
    positive with probability 0.1 + `fpr_bias` (others 0.1); positives found with 0.85."""
    rng = np.random.default_rng(seed)
    skin = rng.choice(["d", "l", "m"], items, p=[0.3, 0.5, 0.2])
    gold = rng.random(items) < 0.4
    rows = []
    for i in range(items):
        for w in rng.choice(40, 3, replace=False):
            p = 0.85 if gold[i] else 0.1 + (fpr_bias if skin[i] == "d" else 0.0)
            rows.append((i, f"w{w}", "1" if rng.random() < p else "0", "1" if gold[i] else "0",
                         skin[i]))  # fmt: skip
    return pl.DataFrame(rows, schema=["item_id", "worker_id", "value", "gold", "skin"],
                        orient="row")  # fmt: skip


def test_error_rates_differences_and_ratios_equal_fairlearn():
    answers = subject_answers(seed=1, fpr_bias=0.1)
    found = error_rates(answers, "skin", "1", "l", settings=FAST)
    y_true, y_pred = answers["gold"] == "1", answers["value"] == "1"
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "false_positive_rate": false_positive_rate,
                 "false_negative_rate": false_negative_rate, "accuracy": accuracy_score},
        y_true=y_true.to_numpy(), y_pred=y_pred.to_numpy(),
        sensitive_features=answers["skin"].to_numpy(),
    )  # fmt: skip
    for measure in ("selection_rate", "false_positive_rate", "false_negative_rate", "accuracy"):
        expected = frame.by_group[measure]
        for group in ("d", "l", "m"):
            assert by(found, measure)[group].estimate == pytest.approx(expected[group])
        for group in ("d", "m"):
            difference = by(found, f"{measure}_difference")[group].estimate
            assert difference == pytest.approx(expected[group] - expected["l"])
            ratio = by(found, f"{measure}_ratio")[group].estimate
            assert ratio == pytest.approx(expected[group] / expected["l"])
    assert by(found, "false_positive_rate")["d"].n == (answers["skin"] == "d").sum() // 3


def test_a_planted_false_positive_disparity_is_flagged():
    found = error_rates(subject_answers(seed=2, fpr_bias=0.15), "skin", "1", "l",
                        settings=AuditSettings(300, 1000, seed=2))  # fmt: skip
    fpr = by(found, "false_positive_rate_ratio")["d"]
    assert fpr.flag == "disparity" and fpr.p_adjusted < 0.01
    assert fpr.ci_low < 2.5 < fpr.ci_high  # 0.25 / 0.10
    assert not by(found, "false_positive_rate_ratio")["m"].flag
    unbiased = error_rates(subject_answers(seed=3, fpr_bias=0.0), "skin", "1", "l", settings=FAST)
    assert not [f for f in unbiased if f.flag]


def test_the_positive_label_must_be_named_when_there_are_more_than_two():
    answers = pl.DataFrame({"item_id": [1, 2, 3], "worker_id": "w", "value": list("abc"),
                            "gold": list("abc"), "skin": list("xyz")})  # fmt: skip
    with pytest.raises(ValueError, match="Name the positive label"):
        error_rates(answers, "skin", settings=FAST)
    assert by(error_rates(answers, "skin", "a", "x", settings=FAST), "accuracy")["y"].estimate == 1


def test_label_rates_by_hand():
    # group s: items 1, 2 with answers cat, cat, dog; group t: item 3 with dog, dog
    answers = pl.DataFrame({"item_id": [1, 1, 2, 3, 3], "worker_id": list("abacd"),
                            "value": ["cat", "cat", "dog", "dog", "dog"], "gold": None,
                            "subject": list("ssstt")})  # fmt: skip
    found = label_rates(answers, "subject", "s", settings=FAST)
    assert by(found, "label_rate@label=cat")["s"].estimate == pytest.approx(2 / 3)
    assert by(found, "label_rate@label=cat")["t"].estimate == 0
    assert by(found, "label_rate_difference@label=dog")["t"].estimate == pytest.approx(2 / 3)
    assert by(found, "label_rate_ratio@label=dog")["t"].estimate == pytest.approx(3.0)
    assert by(found, "label_rate@label=dog")["s"].n == 2  # items


def annotator_answers(seed: int, shift: float, eccentric: bool = False) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    team = {f"w{i}": ("a" if i < 30 else "b") for i in range(60)}
    rows = []
    for item in range(600):
        for w in rng.choice(list(team), 3, replace=False):
            p = [0.5, 0.3, 0.2]
            if team[w] == "b":
                p = [0.5 - shift, 0.3 + shift, 0.2]
            if eccentric and w in ("w0", "w1"):
                p = [0.0, 0.0, 1.0]
            rows.append((item, w, str(rng.choice(["x", "y", "z"], p=p)), team[w]))
    return pl.DataFrame(rows, schema=["item_id", "worker_id", "value", "team"], orient="row")


def test_label_distribution_statistic_is_pearsons_chi_square():
    answers = annotator_answers(seed=4, shift=0.1)
    (finding,) = label_distribution(answers, "team", settings=FAST)
    table = answers.group_by("team", "value").len().pivot("value", index="team", values="len")
    counts = table.sort("team").select("x", "y", "z").to_numpy()
    statistic = chi2_contingency(counts, correction=False).statistic
    assert finding.estimate == pytest.approx(np.sqrt(statistic / counts.sum()))
    assert finding.group == ALL_GROUPS and finding.n == 60
    assert finding.flag == "label_distribution_differs" and finding.p_value < 0.01


def test_one_eccentric_annotator_does_not_make_a_group_differ():
    answers = annotator_answers(seed=5, shift=0.0, eccentric=True)
    (finding,) = label_distribution(answers, "team", settings=FAST)
    assert "asymptotic p" in finding.reason
    counts = (answers.group_by("team", "value").len().pivot("value", index="team", values="len")
              .sort("team").select("x", "y", "z").to_numpy())  # fmt: skip
    assert chi2_contingency(counts).pvalue < 0.01  # the naive test would flag it
    assert finding.flag is None and finding.p_value > 0.05


def test_majority_agreement_by_annotator_group():
    # items have a true label; team a gives it with probability 0.8, team b with 0.55
    rng = np.random.default_rng(6)
    team = {f"w{i}": ("a" if i < 30 else "b") for i in range(60)}
    rows = []
    for item in range(600):
        truth = str(rng.choice(["x", "y", "z"]))
        for w in rng.choice(list(team), 5, replace=False):
            right = rng.random() < (0.8 if team[w] == "a" else 0.55)
            value = truth if right else str(rng.choice([v for v in "xyz" if v != truth]))
            rows.append((item, w, value, team[w]))
    answers = pl.DataFrame(rows, schema=["item_id", "worker_id", "value", "team"], orient="row")
    found = majority_agreement(answers, "team", "a", settings=FAST)
    levels = by(found, "majority_agreement")
    assert levels["b"].estimate < levels["a"].estimate - 0.15
    assert by(found, "majority_agreement_difference")["b"].p_adjusted < 0.01
    assert levels["a"].n == 30


def test_the_group_table_of_audit_labels():
    found = error_rates(subject_answers(seed=1, fpr_bias=0.1), "skin", "1", "l", settings=FAST)
    table = group_table(found)
    assert table["group"].to_list() == ["d", "l", "m"]
    assert table.columns[:8] == ["audit", "attribute", "group", "n", "selection_rate",
                                 "selection_rate_ci_low", "selection_rate_ci_high",
                                 "selection_rate_difference"]  # fmt: skip
    d = table.row(0, named=True)
    fpr = by(found, "false_positive_rate_ratio")["d"]
    assert d["false_positive_rate_ratio"] == fpr.estimate
    assert d["false_positive_rate_ratio_p_adjusted"] == fpr.p_adjusted
    assert table.row(1, named=True)["false_positive_rate_ratio"] is None  # the reference
    assert "accuracy_p_adjusted" not in table.columns  # levels are not tested


def test_others_majority_equals_counting_the_other_answers_one_by_one():
    rng = np.random.default_rng(8)
    answers = pl.DataFrame({"item_id": rng.integers(0, 150, 600),
                            "value": rng.choice(list("abc"), 600).tolist()})  # fmt: skip
    fast = {(i, v): (c, a) for i, v, c, a in others_majority(answers).rows()}
    for item, values in answers.group_by("item_id").agg("value").rows():
        for own in set(values):
            others = list(values)
            others.remove(own)
            tally = {v: others.count(v) for v in set(others)}
            top = max(tally.values(), default=0)
            leaders = [v for v, c in tally.items() if c == top]
            counted = top > 0 and len(leaders) == 1
            assert fast[(item, own)] == (counted, counted and leaders[0] == own), (item, values)
