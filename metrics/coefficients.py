"""The agreement coefficients, one function each with its formula and source, and `REGISTRY`.

Each function reads totals of per-unit sums (`metrics.unit_sums`: every array has a leading
batch axis, one row per bootstrap resample, a single row for the point estimate) and returns
(value, observed agreement p_o, chance agreement p_e), each of shape (batch,). Notation as in
docs/METRICS.md: `c_ik` ratings of unit i in category k, `r_i` ratings of unit i (pairable when
two or more), `n'` pairable units, `q` categories, `w_kl` agreement weights.

>>> s = {"agree": np.array([[1.5]]), "pairable": np.array([[2.0]]),
...      "shares": np.array([[1.0, 1.0]]), "units": np.array([[2.0]])}
>>> [float(x[0]) for x in fleiss_kappa(s, None)]
[0.5, 0.75, 0.5]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from metrics.ratings import Ratings, UnitTallies

Sums = dict[str, np.ndarray]
Parts = tuple[np.ndarray, np.ndarray, np.ndarray]  # value, p_o, p_e

# ---------------------------------------------------------------------------------------------
# Weights and distances


def agreement_weights(scores: np.ndarray, kind: str) -> np.ndarray:
    """Agreement weights w[k, l] in [0, 1] (1 on the diagonal), after Gwet (2014, ch. 3).

    kind: identity, linear, quadratic, ordinal (Gwet's rank weights) or ratio.

    >>> agreement_weights(np.array([1.0, 2.0, 3.0]), "linear").tolist()
    [[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]]
    """
    q = len(scores)
    if kind == "identity" or q < 2:
        return np.eye(q)
    diff = scores[:, None] - scores[None, :]
    spread = scores.max() - scores.min()
    if kind == "linear":
        return 1.0 - np.abs(diff) / spread
    if kind == "quadratic":
        return 1.0 - diff**2 / spread**2
    if kind == "ordinal":
        ranks = np.arange(q)
        steps = np.abs(ranks[:, None] - ranks[None, :]) + 1
        pairs_between = steps * (steps - 1) / 2.0
        return 1.0 - pairs_between / pairs_between.max()
    if kind == "ratio":
        total = scores[:, None] + scores[None, :]
        ratio = np.divide(diff, total, out=np.zeros_like(diff), where=total != 0) ** 2
        top = scores.max() + scores.min()
        return 1.0 - ratio / ((spread / top) ** 2 if top else 1.0)
    raise ValueError(f"Unknown weights {kind!r}.")


# Gwet's AC2 weights for each level (the level's own metric).
LEVEL_WEIGHTS = {
    "nominal": "identity",
    "ordinal": "ordinal",
    "interval": "quadratic",
    "ratio": "ratio",
}


def alpha_distances(scores: np.ndarray, level: str) -> np.ndarray:
    """Krippendorff's metric differences delta^2[k, l] for nominal, interval and ratio levels.

    Ordinal distances depend on the marginal counts: see `ordinal_distances`.
    """
    diff = scores[:, None] - scores[None, :]
    if level == "nominal":
        return 1.0 - np.eye(len(scores))
    if level == "interval":
        return diff**2
    if level == "ratio":
        total = scores[:, None] + scores[None, :]
        return np.divide(diff, total, out=np.zeros_like(diff), where=total != 0) ** 2
    raise ValueError(f"No fixed distances for level {level!r}.")


def ordinal_distances(n_k: np.ndarray) -> np.ndarray:
    """Krippendorff's ordinal delta^2[k, l] = (sum_{g=k..l} n_g - (n_k + n_l)/2)^2, which is the
    squared gap between the categories' mid-ranks."""
    mid = np.cumsum(n_k, axis=-1) - n_k / 2.0
    return (mid[..., :, None] - mid[..., None, :]) ** 2


# ---------------------------------------------------------------------------------------------
# The terms the coefficients share


def observed_agreement(s: Sums) -> np.ndarray:
    """p_o = (1/n') sum_i sum_k c_ik (c_ik - 1) / (r_i (r_i - 1)): the share of agreeing coder
    pairs of each pairable unit, averaged over units (Fleiss 1971, `P-bar`)."""
    return s["agree"][:, 0] / s["pairable"][:, 0]


def weighted_observed_agreement(s: Sums, kind: str) -> np.ndarray:
    """p_o with weights: (1/n') sum_i sum_k c_ik (c*_ik - 1) / (r_i (r_i - 1)),
    c*_ik = sum_l w_kl c_il (Gwet 2014, ch. 3)."""
    return s[f"agree_{kind}"][:, 0] / s["pairable"][:, 0]


def classification_shares(s: Sums) -> np.ndarray:
    """pi_k = (1/N) sum_i c_ik / r_i: each unit weighs the same (Fleiss, Gwet)."""
    return s["shares"] / s["units"]


def pooled_shares(s: Sums) -> np.ndarray:
    """p_k = sum_i c_ik / sum_i r_i: each rating weighs the same (Scott)."""
    return s["values"] / s["values"].sum(axis=1, keepdims=True)


def chance_corrected(p_o: np.ndarray, p_e: np.ndarray) -> Parts:
    """(p_o - p_e) / (1 - p_e), NaN where chance agreement is total; with its two terms."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(p_e < 1.0, (p_o - p_e) / (1.0 - p_e), np.nan)
    return value, p_o, p_e


def conger_chance(s: Sums, w: np.ndarray, n_coders: int) -> np.ndarray:
    """Conger's (1980) chance agreement in Gwet's (2014) form for missing ratings, each coder
    keeping their own marginals: p_e = sum_kl w_kl (pbar_k pbar_l - s2_kl / R), with
    p_gk = n_gk / n_g, pbar_k their mean over the R coders and
    s2_kl = (sum_g p_gk p_gl - R pbar_k pbar_l) / (R - 1)."""
    q = w.shape[0]
    counts = s["coder"].reshape(len(s["coder"]), n_coders, q)
    per_coder = counts.sum(axis=2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(per_coder > 0, counts / per_coder, 0.0)
        r = (per_coder[..., 0] > 0).sum(axis=1).astype(np.float64)[:, None, None]
        mean = p.sum(axis=1) / r[:, :, 0]
        outer = mean[:, :, None] * mean[:, None, :]
        s2 = (np.einsum("bgk,bgl->bkl", p, p) - r * outer) / (r - 1)
        pe = (w * (outer - s2 / r)).sum(axis=(1, 2))
    return np.where(r[:, 0, 0] >= 2, pe, np.nan)


# ---------------------------------------------------------------------------------------------
# The coefficients


def percent_agreement(s: Sums, r: Ratings) -> Parts:
    """Percent agreement = p_o (raw, no chance term). Fleiss (1971) `P-bar`; Gwet (2014)."""
    p_o = observed_agreement(s)
    return p_o, p_o, np.full_like(p_o, np.nan)


def fleiss_kappa(s: Sums, r: Ratings) -> Parts:
    """Fleiss' kappa: p_e = sum_k pi_k^2. Fleiss (1971); Gwet (2014) for varying r_i (irrCAC
    `fleiss.kappa.raw`)."""
    return chance_corrected(observed_agreement(s), (classification_shares(s) ** 2).sum(axis=1))


def scott_pi(s: Sums, r: Ratings) -> Parts:
    """Scott's pi: p_e = sum_k p_k^2. Scott (1955); equals Fleiss' kappa when every unit has the
    same number of ratings."""
    return chance_corrected(observed_agreement(s), (pooled_shares(s) ** 2).sum(axis=1))


def cohen_kappa(s: Sums, r: Ratings) -> Parts:
    """Cohen's kappa: two coders p_e = sum_k p_Ak p_Bk; more coders Conger's chance term with
    identity weights. Cohen (1960); Conger (1980)."""
    return chance_corrected(
        observed_agreement(s), conger_chance(s, np.eye(r.n_categories), r.n_coders)
    )


def cohen_kappa_linear(s: Sums, r: Ratings) -> Parts:
    """Weighted Cohen's kappa, linear weights 1 - |v_k - v_l| / (v_max - v_min) (on ranks for
    ordinal data): weighted p_o, Conger's weighted p_e. Cohen (1968); Cicchetti & Allison (1971)."""
    return _weighted_kappa(s, r, "linear")


def cohen_kappa_quadratic(s: Sums, r: Ratings) -> Parts:
    """Weighted Cohen's kappa, quadratic weights 1 - (v_k - v_l)^2 / (v_max - v_min)^2:
    weighted p_o, Conger's weighted p_e. Cohen (1968); SAS PROC FREQ."""
    return _weighted_kappa(s, r, "quadratic")


def _weighted_kappa(s: Sums, r: Ratings, kind: str) -> Parts:
    w = agreement_weights(r.scores, kind)
    return chance_corrected(weighted_observed_agreement(s, kind), conger_chance(s, w, r.n_coders))


def krippendorff_alpha(s: Sums, r: Ratings) -> Parts:
    """Krippendorff's alpha = 1 - (n - 1) sum_kl o_kl d2_kl / sum_kl n_k n_l d2_kl over the
    coincidences o_kl = sum_i (c_ik c_il - [k = l] c_ik) / (r_i - 1) of pairable units, with
    the level's metric differences d2. Krippendorff (2011, 2019). For nominal data p_o and p_e
    are Gwet's (2014) reading of alpha as (p_o - p_e) / (1 - p_e), p_e = sum_k (n_k / n)^2."""
    if "coincidence" in s:  # ordinal: the distances need each resample's marginals
        q = r.n_categories
        alpha = alpha_from_coincidences(s["coincidence"].reshape(-1, q, q), r.scores, "ordinal")
    else:
        alpha = _alpha_from_disagreement(s, r)
    if r.level != "nominal":
        nothing = np.full_like(alpha, np.nan)
        return alpha, nothing, nothing
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = s["pair_values"] / s["pair_values"].sum(axis=1, keepdims=True)
    p_e = (pi**2).sum(axis=1)
    return alpha, p_e + alpha * (1 - p_e), p_e


def gwet_ac1(s: Sums, r: Ratings) -> Parts:
    """Gwet's AC1: p_e = sum_k pi_k (1 - pi_k) / (q - 1). Gwet (2008)."""
    pi = classification_shares(s)
    q = r.n_categories
    return chance_corrected(observed_agreement(s), (pi * (1 - pi)).sum(axis=1) / max(q - 1, 0))


def gwet_ac2(s: Sums, r: Ratings) -> Parts:
    """Gwet's AC2, with the level's weights: weighted p_o,
    p_e = T_w / (q (q - 1)) sum_k pi_k (1 - pi_k), T_w = sum_kl w_kl. Gwet (2014, ch. 3)."""
    kind = LEVEL_WEIGHTS[r.level]
    w = agreement_weights(r.scores, kind)
    pi = classification_shares(s)
    q = r.n_categories
    p_e = w.sum() * (pi * (1 - pi)).sum(axis=1) / (q * max(q - 1, 0))
    return chance_corrected(weighted_observed_agreement(s, kind), p_e)


def brennan_prediger(s: Sums, r: Ratings) -> Parts:
    """Brennan-Prediger: p_e = 1 / q. Brennan & Prediger (1981); Bennett et al.'s S (1954)."""
    p_o = observed_agreement(s)
    return chance_corrected(p_o, np.full_like(p_o, 1.0 / r.n_categories))


# ---------------------------------------------------------------------------------------------
# Krippendorff's alpha from coincidences or disagreement sums


def alpha_from_coincidences(o: np.ndarray, scores: np.ndarray, level: str) -> np.ndarray:
    """Krippendorff's alpha = 1 - (n - 1) sum(o * d) / sum(n_k n_l d) from coincidence matrices.

    `o` has shape (..., q, q); the result has the leading shape, NaN where nothing varies.
    """
    n_k = o.sum(axis=-1)
    n = n_k.sum(axis=-1)
    delta = ordinal_distances(n_k) if level == "ordinal" else alpha_distances(scores, level)
    observed = (o * delta).sum(axis=(-2, -1))
    expected = (n_k[..., :, None] * n_k[..., None, :] * delta).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1.0 - (n - 1) * observed / expected, np.nan)


def _alpha_from_disagreement(s: Sums, r: Ratings) -> np.ndarray:
    # sum_kl o_kl d2_kl summed unit by unit (`alpha_disagree`): no q x q matrix per resample
    n_k = s["pair_values"]
    delta = alpha_distances(r.scores, r.level)
    expected = np.einsum("bk,bl,kl->b", n_k, n_k, delta)
    n = n_k.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1.0 - (n - 1) * s["alpha_disagree"][:, 0] / expected, np.nan)


def nominal_alpha(t: UnitTallies) -> float:
    """Nominal alpha from the tallies alone, as it needs only the coincidence diagonal and the
    marginals: alpha = 1 - (n - 1) (n - sum o_kk) / (n^2 - sum n_k^2)."""
    pairable = t.pairable[t.cell_unit]
    ck, cc = t.cell_category[pairable], t.cell_count[pairable]
    n_k = np.bincount(ck, cc, minlength=t.n_categories)
    n = n_k.sum()
    agreeing = (cc * (cc - 1) / (t.ratings[t.cell_unit[pairable]] - 1)).sum()
    expected = n * n - (n_k**2).sum()
    return 1.0 - (n - 1) * (n - agreeing) / expected if expected > 0 else float("nan")


# ---------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True)
class Definition:
    """A coefficient's function, the per-unit sums it needs beyond the shared ones (see
    `metrics.unit_sums.unit_sums`), and whether it is defined for ordered categories only."""

    compute: Callable[[Sums, Ratings], Parts]
    sums: frozenset[str] = frozenset()
    ordered_only: bool = False


_WEIGHTED = frozenset({"weighted_agreement"})

REGISTRY: dict[str, Definition] = {
    "percent_agreement": Definition(percent_agreement),
    "cohen_kappa": Definition(cohen_kappa, frozenset({"coder"})),
    "scott_pi": Definition(scott_pi),
    "fleiss_kappa": Definition(fleiss_kappa),
    "krippendorff_alpha": Definition(krippendorff_alpha, frozenset({"alpha"})),
    "gwet_ac1": Definition(gwet_ac1),
    "brennan_prediger": Definition(brennan_prediger),
    "cohen_kappa_linear": Definition(cohen_kappa_linear, _WEIGHTED | {"coder"}, True),
    "cohen_kappa_quadratic": Definition(cohen_kappa_quadratic, _WEIGHTED | {"coder"}, True),
    "gwet_ac2": Definition(gwet_ac2, _WEIGHTED, True),
}


def definition(name: str) -> Definition:
    """The registry entry of `name`; an unknown name is an error that lists the known ones."""
    if name not in REGISTRY:
        raise ValueError(f"Unknown coefficient {name!r}; known: {', '.join(REGISTRY)}.")
    return REGISTRY[name]


def coefficient_values(s: Sums, names: list[str], ratings: Ratings) -> dict[str, Parts]:
    """name -> (value, observed agreement, chance agreement), each of shape (batch,)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return {name: definition(name).compute(s, ratings) for name in names}
