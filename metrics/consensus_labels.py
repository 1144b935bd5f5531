"""One consensus label per unit, as data: the label a method gives, how sure it is, and how many
ratings it rests on (what `crowdmeter consensus` writes and the Quality page downloads).

Confidence is the winning label's vote share under majority vote and its posterior under
Dawid-Skene. The tie rule applies to both: `none` leaves a tied unit's label empty (its
confidence is then the share or posterior the tied labels have), `lowest` takes the first tied
category in sort order, `random` draws one tied category with a seed.

>>> import polars as pl
>>> frame = pl.DataFrame({"unit": ["t1", "t1", "t1", "t2", "t2"],
...                       "coder": ["a", "b", "c", "a", "b"],
...                       "value": ["yes", "yes", "no", "no", "yes"]})
>>> consensus_labels(frame).rows()
[('t1', 'yes', 0.6666666666666666, 3), ('t2', None, 0.5, 2)]
>>> consensus_labels(frame, ties="lowest")["label"].to_list()
['yes', 'no']
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import polars as pl

from metrics.consensus import TieRule, dawid_skene, majority_vote
from metrics.ratings import Ratings, encode_ratings

Method = Literal["majority", "dawid-skene"]
METHODS: tuple[str, ...] = get_args(Method)
TIE_RULES: tuple[str, ...] = get_args(TieRule)
# Posteriors this close (relatively) to a unit's highest count as tied with it: EM on symmetric
# ratings gives equal posteriors up to rounding, never a real preference.
POSTERIOR_TIE_RTOL = 1e-9
COLUMNS = ("unit", "label", "confidence", "n_ratings")


def consensus_labels(
    frame: pl.DataFrame | Ratings,
    method: Method = "majority",
    ties: TieRule = "none",
    seed: int = 0,
) -> pl.DataFrame:
    """One row per rated unit, sorted by unit: unit, label, confidence, n_ratings.

    `frame` is the long format (`unit`, `coder`, `value`); rows without a value are dropped.
    Dawid-Skene runs as `metrics.consensus.dawid_skene` does by default (100 rounds at most).
    """
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; use {' or '.join(METHODS)}.")
    if ties not in TIE_RULES:
        raise ValueError(f"Unknown tie rule {ties!r}; use {', '.join(TIE_RULES)}.")
    ratings = frame if isinstance(frame, Ratings) else encode_ratings(frame)
    if method == "majority":
        votes = majority_vote(ratings, ties=ties, seed=seed)
        return votes.select("unit", "label", confidence="support", n_ratings="n_ratings")
    return _dawid_skene_labels(ratings, ties, seed)


def _dawid_skene_labels(ratings: Ratings, ties: TieRule, seed: int) -> pl.DataFrame:
    posteriors = dawid_skene(ratings).posteriors
    best = posteriors.max(axis=1, keepdims=True)
    tied = np.isclose(posteriors, best, rtol=POSTERIOR_TIE_RTOL, atol=0.0)
    n_top = tied.sum(axis=1)
    # which of its tied categories each unit takes, counted in sort order: the first, or drawn
    nth = np.zeros(len(n_top), dtype=np.int64)
    if ties == "random":
        nth = np.floor(np.random.default_rng(seed).random(len(n_top)) * n_top).astype(np.int64)
    chosen = np.argmax(np.cumsum(tied, axis=1) > nth[:, None], axis=1)
    labels = pl.Series("label", ratings.categories).gather(chosen)
    if ties == "none":
        labels = labels.set(pl.Series(n_top > 1), None)
    return pl.DataFrame(
        {
            "unit": ratings.unit_ids,
            "label": labels,
            "confidence": best.ravel(),
            "n_ratings": np.bincount(ratings.unit, minlength=ratings.n_units).astype(np.int64),
        }
    ).sort("unit")
