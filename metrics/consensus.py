"""Consensus labels from several annotators: majority vote, Wawa, and Dawid-Skene EM.

Input is the long format of `metrics.ratings` (`unit`, `coder`, `value`). Dawid-Skene follows
crowd-kit's `DawidSkene` step for step (majority-vote start, M-step, E-step), on sparse matrices.

>>> import polars as pl
>>> frame = pl.DataFrame({"unit": ["t1", "t1", "t1", "t2", "t2"],
...                       "coder": ["a", "b", "c", "a", "b"],
...                       "value": ["yes", "yes", "no", "no", "yes"]})
>>> majority_vote(frame).select("unit", "label", "tie").rows()
[('t1', 'yes', False), ('t2', None, True)]
>>> majority_vote(frame, ties="lowest")["label"].to_list()
['yes', 'no']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
import scipy.sparse as sp

from metrics.ratings import (
    DENSE_TALLY_CELLS,
    Ratings,
    UnitTallies,
    analysed_positions,
    encode_ratings,
    unit_tallies,
)

TieRule = Literal["none", "lowest", "random"]
# crowd-kit's floor for probabilities before taking logs
EPS = 1e-10


def _ratings(frame: pl.DataFrame | Ratings) -> Ratings:
    return frame if isinstance(frame, Ratings) else encode_ratings(frame)


# ---------------------------------------------------------------------------------------------
# Majority vote


def majority_vote(
    frame: pl.DataFrame | Ratings, ties: TieRule = "none", seed: int = 0
) -> pl.DataFrame:
    """The most frequent value of each unit.

    Tie rule: `none` leaves a tied unit without a label (`tie` is true); `lowest` takes the
    first tied category in sort order, whatever the row order (crowd-kit 1.4 on pandas 3
    takes the tied label seen first in its input instead: docs/METRICS.md); `random` draws one
    tied category with `seed`. Columns: unit, label, support (share of the unit's ratings),
    n_ratings, tie.
    """
    if ties not in ("none", "lowest", "random"):
        raise ValueError(f"Unknown tie rule {ties!r}; use none, lowest or random.")
    ratings = _ratings(frame)
    t = unit_tallies(ratings, "chance")
    order, first, n_top = _ranked_cells(t)
    pick = first.copy()
    if ties == "random":
        pick += np.floor(np.random.default_rng(seed).random(len(first)) * n_top).astype(np.int64)
    chosen = order[pick]
    tie = n_top > 1
    labels = [ratings.categories[k] for k in t.cell_category[chosen]]
    if ties == "none":
        labels = [None if tied else label for label, tied in zip(labels, tie, strict=True)]
    return pl.DataFrame(
        {
            "unit": ratings.unit_ids.gather(t.unit_index),
            "label": pl.Series("label", labels, dtype=_label_dtype(ratings)),
            "support": t.cell_count[chosen] / t.ratings,
            "n_ratings": t.ratings.astype(np.int64),
            "tie": tie,
        }
    ).sort("unit")


def _label_dtype(ratings: Ratings) -> pl.DataType:
    return pl.Series(ratings.categories).dtype


def _ranked_cells(t: UnitTallies) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells ordered by unit, count (descending) and category; each unit's first position in
    that order; and how many of its categories share the top count (they come first)."""
    order = np.lexsort((t.cell_category, -t.cell_count, t.cell_unit))
    first = np.searchsorted(t.cell_unit[order], np.arange(t.n_units))
    best = t.cell_count[order[first]]
    n_top = np.bincount(t.cell_unit, t.cell_count == best[t.cell_unit], minlength=t.n_units)
    return order, first, n_top.astype(np.int64)


def vote_shares(frame: pl.DataFrame | Ratings, weights: pl.DataFrame | None = None) -> pl.DataFrame:
    """Share of each unit's (weighted) votes per category: unit, label, share.

    `weights` (coder, weight) weighs each coder's votes, as Wawa does with coder skills.
    """
    ratings = _ratings(frame)
    w = _coder_weights(ratings, weights)
    q = ratings.n_categories
    votes = np.bincount(
        ratings.unit * q + ratings.category, w[ratings.coder], minlength=ratings.n_units * q
    ).reshape(ratings.n_units, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = votes / votes.sum(axis=1, keepdims=True)
    unit, cat = np.nonzero(np.ones_like(shares, dtype=bool))
    return pl.DataFrame(
        {
            "unit": ratings.unit_ids.gather(unit),
            "label": pl.Series([ratings.categories[k] for k in range(q)]).gather(cat),
            "share": shares[unit, cat],
        }
    ).sort("unit", "label")


def _coder_weights(ratings: Ratings, weights: pl.DataFrame | None) -> np.ndarray:
    if weights is None:
        return np.ones(ratings.n_coders)
    lookup = dict(zip(weights["coder"].to_list(), weights["weight"].to_list(), strict=True))
    missing = [c for c in ratings.coder_ids.to_list() if c not in lookup]
    if missing:
        raise ValueError(f"No weight for coders {missing[:5]}; give every coder a weight.")
    return np.array([lookup[c] for c in ratings.coder_ids.to_list()], dtype=np.float64)


def agreement_with_consensus(
    frame: pl.DataFrame | Ratings, consensus: pl.DataFrame
) -> pl.DataFrame:
    """Per coder: ratings on units with a consensus label, and the share equal to it.

    `consensus` has columns unit and label (null labels, e.g. ties, are skipped). With a
    majority-vote consensus that includes the coder, this is crowd-kit's majority-vote skill.
    """
    ratings = _ratings(frame)
    known = consensus.filter(pl.col("label").is_not_null())
    lookup = dict(zip(known["unit"].to_list(), known["label"].to_list(), strict=True))
    category_of = {label: k for k, label in enumerate(ratings.categories)}
    per_unit = np.array(
        [category_of.get(lookup.get(u), -2) if u in lookup else -1 for u in ratings.unit_ids],
        dtype=np.int64,
    )
    target = per_unit[ratings.unit]
    compared = target != -1
    agree = compared & (target == ratings.category)
    return _per_coder(ratings, compared, agree)


def leave_one_out_agreement(frame: pl.DataFrame | Ratings) -> pl.DataFrame:
    """Per coder: share of ratings equal to the majority of the *other* coders on the unit.

    Counting the coder's own vote would inflate agreement (with three ratings a unit's majority
    is a third the coder's own), so each rating is compared with the rest; units where the other
    ratings tie, or where the coder is alone, are skipped.
    """
    ratings = _ratings(frame)
    t = unit_tallies(ratings, "chance")  # every rated unit; its cells in category order
    count = t.cell_count.astype(np.int64)
    first = np.flatnonzero(np.r_[True, t.cell_unit[1:] != t.cell_unit[:-1]])
    # per unit: the top count and how many categories have it, the next count below it
    # (0 if none) and how many have that: enough to know the others' majority for any rating
    top = np.maximum.reduceat(count, first)
    n_top = np.bincount(t.cell_unit, count == top[t.cell_unit], minlength=t.n_units)
    second = np.maximum.reduceat(np.where(count < top[t.cell_unit], count, 0), first)
    unit = analysed_positions(t.unit_index, ratings.n_units)[ratings.unit]
    own = _same_cell_counts(unit * ratings.n_categories + ratings.category)
    top, n_top, second = top[unit], n_top[unit], second[unit]
    # Without the rating, its category has one vote less. If it alone had the top count, it
    # keeps the majority when still above every other category (and agrees); it ties with
    # the next ones when level with them. If it shared the top with one other category, that
    # one is the majority now; with more, they tie. If it was below the top, a unique top
    # category stays the majority.
    sole_top = (own == top) & (n_top == 1)
    agree = sole_top & (top - 1 > second)
    compared = np.where(own == top, agree | (n_top == 2), n_top == 1)
    return _per_coder(ratings, compared, agree)


def _same_cell_counts(key: np.ndarray) -> np.ndarray:
    """For each entry, how many entries share its key."""
    if key.size and key.max() < DENSE_TALLY_CELLS:
        return np.bincount(key)[key]
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inverse]


def _per_coder(ratings: Ratings, compared: np.ndarray, agree: np.ndarray) -> pl.DataFrame:
    g = ratings.n_coders
    n = np.bincount(ratings.coder, minlength=g)
    n_compared = np.bincount(ratings.coder, compared, minlength=g)
    n_agree = np.bincount(ratings.coder, agree, minlength=g)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n_compared > 0, n_agree / n_compared, np.nan)
    return (
        pl.DataFrame(
            {
                "coder": ratings.coder_ids,
                "n_ratings": n.astype(np.int64),
                "n_compared": n_compared.astype(np.int64),
                "n_agree": n_agree.astype(np.int64),
                "agreement": share,
            }
        )
        .with_columns(pl.col("agreement").fill_nan(None))
        .sort("coder")
    )


def wawa(frame: pl.DataFrame | Ratings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Worker Agreement With Aggregate: votes weighted by each coder's majority-vote skill.

    Returns (labels: unit, label, share; skills: coder, weight). The skills come from majority
    vote with `ties="lowest"` (crowd-kit's Wawa breaks ties as its `MajorityVote` does, so
    skills can differ on tied units).
    """
    ratings = _ratings(frame)
    mv = majority_vote(ratings, ties="lowest")
    skills = agreement_with_consensus(ratings, mv).select(
        "coder", pl.col("agreement").fill_null(0.0).alias("weight")
    )
    shares = vote_shares(ratings, skills)
    labels = (
        shares.sort(["unit", "share", "label"], descending=[False, True, False])
        .group_by("unit", maintain_order=True)
        .first()
    )
    return labels, skills


# ---------------------------------------------------------------------------------------------
# Dawid-Skene


@dataclass(frozen=True)
class DawidSkeneResult:
    """Fitted Dawid-Skene model: item posteriors, class priors, coder confusion matrices."""

    unit_ids: pl.Series
    coder_ids: pl.Series
    categories: list[Any]
    posteriors: np.ndarray  # (units, K): P(true class | ratings)
    priors: np.ndarray  # (K,)
    confusion: np.ndarray  # (coders, K true, K observed): P(coder says observed | true)
    ratings_per_coder: np.ndarray
    loss_history: list[float]
    expected_counts: np.ndarray  # (K true, K observed) posterior-weighted rating counts

    @property
    def n_iter(self) -> int:
        return len(self.loss_history)

    def labels(self) -> pl.DataFrame:
        """unit, label (most probable class, first in sort order on a tie), posterior."""
        best = self.posteriors.argmax(axis=1)
        return pl.DataFrame(
            {
                "unit": self.unit_ids,
                "label": pl.Series([self.categories[k] for k in best]),
                "posterior": self.posteriors[np.arange(len(best)), best],
            }
        ).sort("unit")

    def posterior_frame(self) -> pl.DataFrame:
        """Long frame: unit, label, posterior."""
        n, k = self.posteriors.shape
        return pl.DataFrame(
            {
                "unit": self.unit_ids.gather(np.repeat(np.arange(n), k)),
                "label": pl.Series(self.categories).gather(np.tile(np.arange(k), n)),
                "posterior": self.posteriors.ravel(),
            }
        ).sort("unit", "label")

    def worker_quality(self) -> pl.DataFrame:
        """Per coder: ratings and estimated accuracy sum_c prior_c * P(says c | true c)."""
        diagonal = np.diagonal(self.confusion, axis1=1, axis2=2)
        return pl.DataFrame(
            {
                "coder": self.coder_ids,
                "n_ratings": self.ratings_per_coder.astype(np.int64),
                "accuracy": diagonal @ self.priors,
            }
        ).sort("coder")

    def confusion_frame(self) -> pl.DataFrame:
        """Long frame: coder, true, observed, probability."""
        g, k, _ = self.confusion.shape
        coder, true, observed = np.unravel_index(np.arange(g * k * k), (g, k, k))
        labels = pl.Series(self.categories)
        return pl.DataFrame(
            {
                "coder": self.coder_ids.gather(coder),
                "true": labels.gather(true),
                "observed": labels.gather(observed),
                "probability": self.confusion.ravel(),
            }
        )


def dawid_skene(
    frame: pl.DataFrame | Ratings, n_iter: int = 100, tol: float | None = 1e-5
) -> DawidSkeneResult:
    """Dawid and Skene (1979) EM over coder confusion matrices.

    Starts from majority-vote shares; each round runs the E-step (posteriors from priors and
    confusion matrices, in logs), then the M-step (priors, confusion matrices from posterior-
    weighted counts, floored at 1e-10 for ratings a coder gave). Stops after `n_iter` rounds or
    when the evidence lower bound per rating improves by less than `tol` (None: never early).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"unit": ["t1", "t1", "t1", "t2", "t2", "t2"],
    ...                       "coder": ["a", "b", "c"] * 2,
    ...                       "value": ["yes", "yes", "no", "no", "no", "no"]})
    >>> dawid_skene(frame).labels()["label"].to_list()
    ['yes', 'no']
    """
    ratings = _ratings(frame)
    q, g, n = ratings.n_categories, ratings.n_coders, ratings.n_units
    coder_label = ratings.coder * q + ratings.category
    # answers[t, w*q + l] counts how often coder w said l on unit t
    answers = sp.csr_matrix(
        (np.ones(len(coder_label)), (ratings.unit, coder_label)), shape=(n, g * q)
    )
    answers.sum_duplicates()
    by_coder = answers.T.tocsr()
    said = np.asarray(by_coder.sum(axis=1)).ravel().reshape(g, q) > 0
    votes = np.bincount(ratings.unit * q + ratings.category, minlength=n * q).reshape(n, q)
    # posteriors are kept class-major (K x units): per-unit maxima and sums then run over K
    # contiguous rows instead of along short rows, several times faster in numpy
    posteriors = np.ascontiguousarray((votes / votes.sum(axis=1, keepdims=True)).T)
    priors = posteriors.mean(axis=1)
    errors = _m_step(by_coder, posteriors, said)
    # log P(class) + sum of log P(rating | class): the E-step of the next round and the
    # bound of this one share it, so it is computed once per round
    joint = _log_joint(answers, priors, errors)
    history: list[float] = []
    loss = -np.inf
    for _ in range(n_iter):
        posteriors, entropy = _e_step(joint)
        priors = posteriors.mean(axis=1)
        errors = _m_step(by_coder, posteriors, said)
        joint = _log_joint(answers, priors, errors)
        # evidence lower bound: E_q[log p(ratings, classes)] + H(q), the prior once per unit
        new_loss = (float(np.vdot(posteriors, joint)) + entropy) / len(coder_label)
        history.append(new_loss)
        if tol is not None and new_loss - loss < tol:
            break
        loss = new_loss
    posteriors = np.ascontiguousarray(posteriors.T)
    expected = np.asarray(by_coder @ posteriors).reshape(g, q, q).sum(axis=0).T
    return DawidSkeneResult(
        unit_ids=ratings.unit_ids,
        coder_ids=ratings.coder_ids,
        categories=ratings.categories,
        posteriors=posteriors,
        priors=priors,
        confusion=errors.transpose(0, 2, 1),
        ratings_per_coder=np.bincount(ratings.coder, minlength=g),
        loss_history=history,
        expected_counts=expected,
    )


def _m_step(by_coder: sp.csr_matrix, posteriors: np.ndarray, said: np.ndarray) -> np.ndarray:
    """errors[w, observed, true] = P(w says observed | true), over the labels w ever gave."""
    g, q = said.shape
    counts = np.asarray(by_coder @ posteriors.T).reshape(g, q, q)
    counts = np.where(said[:, :, None], np.maximum(counts, EPS), 0.0)
    return counts / counts.sum(axis=1, keepdims=True)


def _log_joint(answers: sp.csr_matrix, priors: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """log P(class) + sum over a unit's ratings of log P(rating | class), class-major."""
    g, q, _ = errors.shape
    # labels a coder never gave are never looked up; 1 keeps their log finite
    log_errors = np.log(np.where(errors > 0, errors, 1.0)).reshape(g * q, q)
    joint = np.ascontiguousarray((answers @ log_errors).T)
    joint += np.log(np.maximum(priors, EPS))[:, None]
    return joint


def _e_step(joint: np.ndarray) -> tuple[np.ndarray, float]:
    """Posteriors from the joint log-likelihood, and their entropy.

    With p = exp(joint - m) / S per unit, log p = joint - m - log S, so the entropy needs no
    further logarithms: H = sum(m + log S) - sum(p * joint).
    """
    top = joint.max(axis=0)
    posteriors = np.exp(joint - top)
    total = posteriors.sum(axis=0)
    posteriors /= total
    entropy = float((top + np.log(total)).sum() - np.vdot(posteriors, joint))
    return posteriors, entropy
