"""Consensus: majority vote tie rules, Wawa, Dawid-Skene against crowd-kit and planted workers."""

from __future__ import annotations

import doctest
import json
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metrics.consensus
from metrics.consensus import (
    agreement_with_consensus,
    dawid_skene,
    leave_one_out_agreement,
    majority_vote,
    vote_shares,
    wawa,
)


@pytest.fixture
def toy(shared_dir: Path) -> tuple[pl.DataFrame, dict]:
    example = json.loads((shared_dir / "iaa" / "crowdkit_toy_ysda_aggregation.json").read_text())
    return pl.DataFrame(example["data"]), example["expected"]


def as_dict(frame: pl.DataFrame, key: str, value: str) -> dict:
    return dict(zip(frame[key].to_list(), frame[value].to_list(), strict=True))


def test_dawid_skene_gives_crowdkit_labels(toy):
    frame, expected = toy
    assert as_dict(dawid_skene(frame).labels(), "unit", "label") == expected["dawid_skene_labels"]


def test_majority_vote_with_crowdkit_tie_rule(toy):
    frame, expected = toy
    mv = majority_vote(frame, ties="lowest")
    assert as_dict(mv, "unit", "label") == expected["majority_vote_labels_crowdkit"]
    shares = vote_shares(frame).filter(pl.col("label") == "yes")
    assert as_dict(shares, "unit", "share") == pytest.approx(expected["majority_vote_proba_yes"])
    skills = agreement_with_consensus(frame, mv)
    assert as_dict(skills, "coder", "agreement") == pytest.approx(
        expected["majority_vote_worker_skills"]
    )


def test_default_tie_rule_leaves_ties_unlabelled(toy):
    frame, _ = toy
    mv = majority_vote(frame).filter(pl.col("unit") == "t1")
    assert mv["tie"][0] and mv["label"][0] is None and mv["support"][0] == 0.5


def test_wawa_probabilities(toy):
    frame, expected = toy
    labels, skills = wawa(frame)
    assert as_dict(labels, "unit", "label") == expected["wawa_labels"]
    shares = vote_shares(frame, skills).filter(pl.col("label") == "yes")
    assert as_dict(shares, "unit", "share") == pytest.approx(expected["wawa_proba_yes"], abs=5e-7)


def test_random_tie_rule_picks_among_the_tied_reproducibly():
    rows = [(u, c, v) for u in range(40) for c, v in zip("abc", "xyz", strict=True)]
    frame = pl.DataFrame(rows, schema=["unit", "coder", "value"], orient="row")
    first = majority_vote(frame, ties="random", seed=4)["label"].to_list()
    assert first == majority_vote(frame, ties="random", seed=4)["label"].to_list()
    assert set(first) == {"x", "y", "z"}  # 40 three-way ties use all three
    with pytest.raises(ValueError, match="tie rule"):
        majority_vote(frame, ties="coin")


def test_leave_one_out_agreement_by_hand():
    # u1: a=x b=x c=y; u2: a=x b=y (a alone against b) ; u3: a=y b=y c=y
    frame = pl.DataFrame(
        {"unit": [1, 1, 1, 2, 2, 3, 3, 3], "coder": list("abcabab") + ["c"],
         "value": list("xxyxyyyy")}
    )  # fmt: skip
    table = leave_one_out_agreement(frame)
    # a: u1 others (x, y) tie -> skipped; u2 other y -> disagree; u3 others y,y -> agree
    a = table.filter(pl.col("coder") == "a").row(0, named=True)
    assert (a["n_compared"], a["n_agree"]) == (2, 1)
    # c: u1 others x,x -> disagree; u3 -> agree
    c = table.filter(pl.col("coder") == "c").row(0, named=True)
    assert (c["n_compared"], c["n_agree"]) == (2, 1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 8), st.integers(0, 5), st.sampled_from("abcde")),
        min_size=1,
        max_size=60,
    )
)
def test_leave_one_out_agreement_matches_counting_each_rating(rows):
    """Each rating against the plain majority of the unit's other ratings, counted one by one."""
    frame = pl.DataFrame(rows, schema=["unit", "coder", "value"], orient="row")
    expected: dict[int, list[int]] = {}
    for i, (unit, coder, value) in enumerate(rows):
        others = Counter(v for j, (u, _, v) in enumerate(rows) if u == unit and j != i)
        tally = expected.setdefault(coder, [0, 0])
        if others:
            best = max(others.values())
            leaders = [v for v, n in others.items() if n == best]
            if len(leaders) == 1:
                tally[0] += 1
                tally[1] += leaders[0] == value
    table = leave_one_out_agreement(frame)
    got = {r["coder"]: [r["n_compared"], r["n_agree"]] for r in table.iter_rows(named=True)}
    assert got == expected


def simulate(units: int, accuracy: list[float], k: int = 3, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, units)
    rows = []
    for coder, p in enumerate(accuracy):
        right = rng.random(units) < p
        wrong = (truth + rng.integers(1, k, units)) % k
        rows.append(pl.DataFrame({"unit": np.arange(units), "coder": f"w{coder}",
                                  "value": np.where(right, truth, wrong)}))  # fmt: skip
    return pl.concat(rows)


def test_dawid_skene_recovers_a_planted_spammer():
    frame = simulate(400, [0.9, 0.85, 0.9, 0.33])
    quality = dawid_skene(frame).worker_quality().sort("coder")
    accuracy = quality["accuracy"].to_list()
    assert accuracy[3] < 0.5 < min(accuracy[:3])
    assert accuracy[:3] == pytest.approx([0.9, 0.85, 0.9], abs=0.06)


def test_dawid_skene_matches_crowdkit_posteriors():
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    frame = simulate(300, [0.8, 0.7, 0.6, 0.9, 0.5, 0.75], k=4, seed=2)
    frame = frame.sample(fraction=0.8, seed=1)  # uneven ratings per unit
    ours = dawid_skene(frame, n_iter=15, tol=None)
    theirs = crowdkit.DawidSkene(n_iter=15, tol=-np.inf).fit(
        frame.rename({"unit": "task", "coder": "worker", "value": "label"}).to_pandas()
    )
    assert ours.n_iter == len(theirs.loss_history_) == 15
    probas = theirs.probas_.sort_index()
    probas = probas[sorted(probas.columns)]  # crowd-kit keeps labels in order of appearance
    mine = ours.posteriors[np.argsort(ours.unit_ids.to_numpy())]
    assert np.abs(mine - probas.to_numpy()).max() < 1e-6
    labels = theirs.labels_.sort_index()
    assert ours.labels().sort("unit")["label"].to_list() == labels.to_list()


def test_dawid_skene_outputs_are_distributions():
    result = dawid_skene(simulate(100, [0.8, 0.7, 0.9]))
    assert result.posteriors.sum(axis=1) == pytest.approx(np.ones(100))
    # each coder's confusion rows, over the labels they gave, sum to one
    assert result.confusion.sum(axis=2) == pytest.approx(np.ones((3, 3)))
    assert result.expected_counts.sum() == pytest.approx(300)
    assert result.posterior_frame().height == 300
    assert result.confusion_frame().height == 27


def test_docstring_examples():
    result = doctest.testmod(metrics.consensus)
    assert result.attempted > 0 and result.failed == 0
