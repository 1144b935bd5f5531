"""Majority vote on tied units against crowd-kit's `MajorityVote`: the same label wherever a
unit has one most frequent value; on ties ours takes the lowest tied category in sort order,
whatever the row order, while crowd-kit takes the tied label that comes first in its input."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest

from metrics.consensus import majority_vote

crowdkit = pytest.importorskip("crowdkit.aggregation")


def crowdkit_labels(frame: pl.DataFrame) -> dict:
    data = frame.rename({"unit": "task", "coder": "worker", "value": "label"}).to_pandas()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # crowd-kit's pandas deprecation warnings
        return crowdkit.MajorityVote().fit_predict(data).to_dict()


def ratings(seed: int) -> pl.DataFrame:
    """300 units rated twice or three times from five labels: many two-way ties."""
    rng = np.random.default_rng(seed)
    rows = [
        (f"u{u:03d}", f"c{c}", str(rng.choice(["cat", "dog", "Bird", "10", "9"])))
        for u in range(300)
        for c in range(2 + u % 2)
    ]
    return pl.DataFrame(rows, schema=["unit", "coder", "value"], orient="row")


def test_untied_units_get_crowdkits_label_and_tied_units_the_lowest_tied_label():
    frame = ratings(1)
    ours = majority_vote(frame, ties="lowest")
    theirs = crowdkit_labels(frame)
    untied = ours.filter(~pl.col("tie"))
    assert untied.height > 100 and ours["tie"].sum() > 50
    assert all(theirs[u] == label for u, label in untied.select("unit", "label").iter_rows())
    counts = frame.group_by("unit", "value").len()
    top = counts.filter(pl.col("len") == pl.col("len").max().over("unit"))
    lowest = dict(top.group_by("unit").agg(pl.col("value").min()).iter_rows())
    first_seen = {v: i for i, v in enumerate(frame["value"].unique(maintain_order=True))}
    differ = 0
    for unit, label in ours.filter(pl.col("tie")).select("unit", "label").iter_rows():
        tied = top.filter(pl.col("unit") == unit)["value"].to_list()
        assert label == lowest[unit]  # ours: the lowest tied category (byte order for text)
        # crowd-kit: the tied label that appears first anywhere in its input frame
        assert theirs[unit] == min(tied, key=first_seen.__getitem__)
        differ += theirs[unit] != label
    assert differ > 0  # the two rules are not the same


def test_crowdkits_tie_break_follows_the_row_order_and_ours_does_not():
    frame = pl.DataFrame(
        {"unit": ["t1", "t1", "t2", "t2"], "coder": ["a", "b", "a", "b"],
         "value": ["yes", "no", "no", "yes"]}
    )  # fmt: skip
    backwards = frame[[1, 0, 3, 2]]  # each unit's two rows swapped: "no" comes first
    assert crowdkit_labels(frame) == {"t1": "yes", "t2": "yes"}
    assert crowdkit_labels(backwards) == {"t1": "no", "t2": "no"}
    for rows in (frame, backwards):
        assert majority_vote(rows, ties="lowest")["label"].to_list() == ["no", "no"]
    # sorted by value first, the first-seen label is the lowest: the two rules then agree
    ordered = frame.sort("value")
    mv = majority_vote(ordered, ties="lowest").select("unit", "label").iter_rows()
    assert dict(mv) == crowdkit_labels(ordered)
