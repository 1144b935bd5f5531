"""Quality: Wilson intervals, gold accuracy, rejection, class error rates, crowd-kit metrics."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import metrics.quality
from metrics.consensus import agreement_with_consensus, dawid_skene, majority_vote
from metrics.project_quality import project_quality
from metrics.quality import (
    class_error_rates,
    confusion_matrix,
    consistency,
    counts_to_confusion,
    gold_accuracy,
    label_uncertainty,
    rejection_rate,
    wilson_interval,
)


def test_wilson_interval_known_values():
    # Newcombe (1998), table I: 0/10 -> (0, 0.2775); 1/29 -> (0.0061, 0.1718)
    low, high = wilson_interval(np.array([0, 1]), np.array([10, 29]))
    assert low == pytest.approx([0.0, 0.0061], abs=5e-5)
    assert high == pytest.approx([0.2775, 0.1718], abs=5e-5)
    nothing = wilson_interval(0, 0)
    assert np.isnan(nothing[0]) and np.isnan(nothing[1])


def test_gold_accuracy_and_rejection_by_coder():
    frame = pl.DataFrame(
        {"coder": ["a", "a", "a", "b", "b"], "value": ["x", "y", "x", "x", None],
         "gold": ["x", "x", None, "y", "x"],
         "status": ["approved", "rejected", "submitted", "rejected", "rejected"]}
    )  # fmt: skip
    gold = gold_accuracy(frame, by=["coder"])
    assert gold.select("coder", "n_gold", "n_correct").rows() == [("a", 2, 1), ("b", 1, 0)]
    assert gold["ci_low"][0] < 0.5 < gold["ci_high"][0]
    review = rejection_rate(frame, by=["coder"])
    assert review.select("coder", "n_reviewed", "n_rejected").rows() == [("a", 2, 1), ("b", 2, 2)]
    assert review["rejection_rate"].to_list() == [0.5, 1.0]
    empty = rejection_rate(frame.filter(pl.col("status") == "submitted"))
    assert empty["rejection_rate"][0] is None and empty["ci_low"][0] is None


def test_confusion_and_class_error_rates():
    frame = pl.DataFrame({"gold": ["cat", "cat", "cat", "dog", "dog"],
                          "value": ["cat", "dog", "cat", "dog", "dog"]})  # fmt: skip
    rates = class_error_rates(confusion_matrix(frame)).sort("class")
    # cat: 3 items, 1 missed; dog: never missed, named 3 times, 2 right
    assert rates["error_rate"].to_list() == pytest.approx([1 / 3, 0.0])
    assert rates["precision"].to_list() == pytest.approx([1.0, 2 / 3])
    from_counts = counts_to_confusion(np.array([[2.0, 1.0], [0.0, 2.0]]), ["cat", "dog"])
    assert class_error_rates(from_counts)["error_rate"].to_list() == pytest.approx([1 / 3, 0.0])


def test_crowdkit_consistency_and_uncertainty(shared_dir: Path):
    example = json.loads((shared_dir / "iaa" / "crowdkit_toy_ysda_aggregation.json").read_text())
    frame, expected = pl.DataFrame(example["data"]), example["expected"]
    mv = majority_vote(frame, ties="lowest")
    skills = agreement_with_consensus(frame, mv).select("coder", pl.col("agreement").alias("skill"))
    assert consistency(frame, skills, mv) == pytest.approx(expected["consistency_mv"], abs=1e-15)
    assert label_uncertainty(frame, skills) == pytest.approx(
        expected["uncertainty_mean_per_task_with_mv_skills"], abs=1e-15
    )


def test_uncertainty_of_plain_votes():
    frame = pl.DataFrame({"unit": ["x", "x", "y", "y"], "coder": list("abab"),
                          "value": ["yes", "no", "yes", "yes"]})  # fmt: skip
    assert label_uncertainty(frame) == pytest.approx(np.log(2) / 2)


def test_project_quality_falls_back_to_dawid_skene_without_gold():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 60)
    rows = []
    for coder, p in (("w1", 0.9), ("w2", 0.9), ("w3", 0.6)):
        value = np.where(rng.random(60) < p, truth, 1 - truth).astype(str)
        units = [f"i{u}" for u in range(60)]
        rows.append(pl.DataFrame({"unit": units, "coder": coder, "value": value}))
    answers = pl.concat(rows).with_columns(
        platform=pl.lit("mturk"), project_id=pl.lit("p"), field=pl.lit("label"),
        region=pl.lit(None, pl.String), gold=pl.lit(None, pl.String), ordinal=pl.lit(0),
        week=pl.lit("2024-01-01"),
    )  # fmt: skip
    work = answers.select("platform", "project_id", "coder", status=pl.lit("approved"))
    (project,) = project_quality(answers, work)
    (field,) = project["fields"]
    assert field["error_source"] == "dawid_skene"
    assert sum(c["count"] for c in field["confusion"]) == pytest.approx(180)
    people = {a["worker_id"]: a for a in project["annotators"]}
    assert people["w3"]["ds_accuracy"] < people["w1"]["ds_accuracy"]
    assert people["w3"]["gold_n_gold"] is None
    assert field["weeks"][0]["n_units"] == 60
    ds = dawid_skene(answers.select("unit", "coder", "value"))
    assert field["consensus"]["dawid_skene_iterations"] == ds.n_iter


def test_docstring_examples():
    result = doctest.testmod(metrics.quality)
    assert result.attempted > 0 and result.failed == 0


def test_single_rated_field_has_no_model_based_errors():
    answers = pl.DataFrame(
        {"platform": "mturk", "project_id": "survey", "field": "age_band", "unit": ["a", "b"],
         "coder": ["w1", "w2"], "value": ["18-24", "25-34"], "region": None, "gold": None,
         "ordinal": 0, "week": "2024-01-01"},
        schema_overrides={"region": pl.String, "gold": pl.String},
    )  # fmt: skip
    work = answers.select("platform", "project_id", "coder", status=pl.lit("approved"))
    (project,) = project_quality(answers, work)
    (field,) = project["fields"]
    assert field["error_source"] is None and field["class_errors"] == []
    assert field["agreement"]["percent_agreement"]["undefined_reason"]
    assert {a["ds_accuracy"] for a in project["annotators"]} == {None}
    low, high = wilson_interval(0, 3025)
    assert low == 0.0 and 0 < high < 0.01
