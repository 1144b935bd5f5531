"""Consensus labels as data: golden cases by hand, tie rules, and crowd-kit's MajorityVote and
DawidSkene on real crowd samples with gold (skipped when ../shared is absent)."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import metrics.consensus_labels
from cli.commands.agreement import read_long_format
from metrics.consensus import dawid_skene
from metrics.consensus_labels import consensus_labels


def ratings(rows: str) -> pl.DataFrame:
    """'u1 a x, u1 b y' -> unit, coder, value rows."""
    triples = [r.split() for r in rows.split(",")]
    return pl.DataFrame(triples, schema=["unit", "coder", "value"], orient="row")


def test_docstring_examples_hold():
    assert doctest.testmod(metrics.consensus_labels).failed == 0


def test_majority_labels_and_vote_shares_by_hand():
    frame = ratings("u1 a x, u1 b x, u1 c y, u2 a y, u2 b y, u2 c y, u2 d x, u3 a z")
    rows = consensus_labels(frame).rows()
    assert rows == [("u1", "x", 2 / 3, 3), ("u2", "y", 3 / 4, 4), ("u3", "z", 1.0, 1)]


def test_tie_rules_by_hand():
    # u1: x and y tie 2-2; u2: a three-way tie; u3: no tie
    frame = ratings(
        "u1 a y, u1 b x, u1 c y, u1 d x, u2 a q, u2 b p, u2 c r, u3 a x, u3 b x, u3 c y"
    )
    none = consensus_labels(frame, ties="none")
    assert none["label"].to_list() == [None, None, "x"]
    assert none["confidence"].to_list() == pytest.approx([0.5, 1 / 3, 2 / 3])
    lowest = consensus_labels(frame, ties="lowest")
    assert lowest["label"].to_list() == ["x", "p", "x"]  # first tied label in sort order
    drawn = consensus_labels(frame, ties="random", seed=7)
    assert (
        drawn["label"].to_list()
        == consensus_labels(frame, ties="random", seed=7)["label"].to_list()
    )
    assert drawn["label"][0] in ("x", "y") and drawn["label"][1] in ("p", "q", "r")
    assert drawn["label"][2] == "x"
    assert drawn["confidence"].to_list() == none["confidence"].to_list()


def test_random_ties_use_every_tied_label_across_units():
    frame = pl.DataFrame(
        [(u, c, v) for u in range(60) for c, v in zip("ab", "xy", strict=True)],
        schema=["unit", "coder", "value"],
        orient="row",
    )
    for method in ("majority", "dawid-skene"):
        labels = consensus_labels(frame, method, ties="random", seed=1)["label"]
        assert set(labels.to_list()) == {"x", "y"}, method


def test_dawid_skene_confidence_is_the_labels_posterior():
    frame = ratings(
        "t1 a yes, t1 b yes, t1 c no, t2 a no, t2 b no, t2 c no, t3 a yes, t3 b no, t3 c yes"
    )
    rows = consensus_labels(frame, "dawid-skene")
    fitted = dawid_skene(frame)
    posteriors = fitted.posterior_frame()
    expected = posteriors.join(rows.select("unit", "label"), on=["unit", "label"])
    assert rows["confidence"].to_list() == pytest.approx(expected.sort("unit")["posterior"])
    assert rows["label"].to_list() == fitted.labels()["label"].to_list()
    assert rows["n_ratings"].to_list() == [3, 3, 3]


def test_dawid_skene_ties_follow_the_rule():
    # two coders who always disagree: every posterior is 1/2, every unit a tie
    frame = ratings("u1 a x, u1 b y, u2 a y, u2 b x")
    assert consensus_labels(frame, "dawid-skene")["label"].to_list() == [None, None]
    lowest = consensus_labels(frame, "dawid-skene", ties="lowest")
    assert lowest["label"].to_list() == ["x", "x"]
    assert lowest["confidence"].to_list() == pytest.approx([0.5, 0.5])


def test_integer_values_keep_their_type_and_numeric_order():
    frame = pl.DataFrame({"unit": [1, 1, 2, 2], "coder": ["a", "b"] * 2, "value": [10, 9, 3, 3]})
    labels = consensus_labels(frame, ties="lowest")
    assert labels["label"].to_list() == [9, 3] and labels["label"].dtype == pl.Int64


def test_unknown_method_or_tie_rule_is_refused():
    frame = ratings("u1 a x, u1 b x")
    with pytest.raises(ValueError, match="method"):
        consensus_labels(frame, "glad")
    with pytest.raises(ValueError, match="tie rule"):
        consensus_labels(frame, ties="coin")


# Real crowd samples: (file, unit, coder, value, gold column or None)
TOLOKA = (
    "toloka/uhh-lt_cam-arg-relevance__assignments_from_pool_42774131__05-02-2024.first200.tsv",
    "ASSIGNMENT:task_id",
    "ASSIGNMENT:worker_id",
    "OUTPUT:R-4",
    "GOLDEN:R-4",
)
FIGURE_EIGHT = (
    "appen_crowdflower/kliegr_rule-length-project__V1Guidelines_f791490.first200.csv",
    "_unit_id",
    "_worker_id",
    "which_of_the_rules_do_you_find_as_more_plausible",
    None,
)


def sample(shared_dir: Path, spec: tuple) -> tuple[pl.DataFrame, dict]:
    path, unit, coder, value, gold = spec
    raw = read_long_format(shared_dir / "samples" / path, text_columns=[unit, coder])
    frame = raw.select(
        unit=pl.col(unit), coder=pl.col(coder), value=pl.col(value).cast(pl.String)
    ).filter(pl.col("value").is_not_null())
    truth = {}
    if gold:
        graded = raw.filter(pl.col(gold).is_not_null())
        truth = dict(graded.group_by(unit).agg(pl.col(gold).cast(pl.String).first()).rows())
    return frame, truth


def crowdkit_labels(model, frame: pl.DataFrame) -> dict:
    answers = frame.rename({"unit": "task", "coder": "worker", "value": "label"}).to_pandas()
    return model.fit_predict(answers).to_dict()


def accuracy(labels: dict, truth: dict) -> int:
    return sum(labels.get(unit) == gold for unit, gold in truth.items())


@pytest.mark.parametrize("spec", [TOLOKA, FIGURE_EIGHT], ids=["toloka", "figure-eight"])
def test_majority_vote_equals_crowdkit_on_untied_units(shared_dir, spec):
    aggregation = pytest.importorskip("crowdkit.aggregation")
    frame, truth = sample(shared_dir, spec)
    ours = consensus_labels(frame)
    theirs = crowdkit_labels(aggregation.MajorityVote(), frame)
    untied = ours.filter(pl.col("label").is_not_null())
    assert untied.height >= 20
    assert {u: theirs[u] for u in untied["unit"]} == dict(untied.select("unit", "label").rows())
    if truth:
        # with ties left empty a tied unit is never right; crowd-kit breaks them
        ours_right = accuracy(dict(ours.select("unit", "label").rows()), truth)
        lowest = dict(consensus_labels(frame, ties="lowest").select("unit", "label").rows())
        assert ours_right <= accuracy(theirs, truth)
        print(f"gold {len(truth)}: ours {ours_right} (ties lowest {accuracy(lowest, truth)}), "
              f"crowd-kit {accuracy(theirs, truth)}")  # fmt: skip


@pytest.mark.parametrize("spec", [TOLOKA, FIGURE_EIGHT], ids=["toloka", "figure-eight"])
def test_dawid_skene_equals_crowdkit_run_as_many_rounds(shared_dir, spec):
    aggregation = pytest.importorskip("crowdkit.aggregation")
    frame, truth = sample(shared_dir, spec)
    ours = consensus_labels(frame, "dawid-skene")
    rounds = dawid_skene(frame).n_iter  # crowd-kit's own stopping rule differs (METRICS.md)
    theirs = crowdkit_labels(aggregation.DawidSkene(n_iter=rounds, tol=-np.inf), frame)
    untied = ours.filter(pl.col("label").is_not_null())
    assert untied.height >= 20
    assert {u: theirs[u] for u in untied["unit"]} == dict(untied.select("unit", "label").rows())
    if truth:
        default = crowdkit_labels(aggregation.DawidSkene(), frame)
        ours_right = accuracy(dict(ours.select("unit", "label").rows()), truth)
        assert ours_right == accuracy(theirs, truth)
        print(f"gold {len(truth)}: ours {ours_right} in {rounds} rounds, "
              f"crowd-kit default {accuracy(default, truth)}")  # fmt: skip
