"""Agreement broken down: per unit, per category, per pair of coders (with two-coder tables).

>>> import polars as pl
>>> frame = pl.DataFrame({"unit": [1, 1, 2, 2], "coder": ["a", "b"] * 2, "value": [1, 1, 1, 2]})
>>> unit_agreement(frame)["agreement"].to_list()
[1.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from metrics.coefficients import agreement_weights
from metrics.ratings import Ratings, encode_ratings, plain, unit_tallies


def unit_agreement(frame: pl.DataFrame | Ratings) -> pl.DataFrame:
    """Per pairable unit: ratings and the share of agreeing coder pairs (Fleiss' P_i).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"unit": ["x"] * 3, "coder": ["a", "b", "c"], "value": [1, 1, 2]})
    >>> unit_agreement(frame).row(0)
    ('x', 3, 0.3333333333333333)
    """
    ratings = frame if isinstance(frame, Ratings) else encode_ratings(frame)
    t = unit_tallies(ratings, "ignore")
    r = t.ratings
    agree = (np.bincount(t.cell_unit, t.cell_count**2, minlength=t.n_units) - r) / (r * (r - 1))
    return pl.DataFrame(
        {
            "unit": ratings.unit_ids.gather(t.unit_index),
            "n_ratings": r.astype(np.int64),
            "agreement": agree,
        }
    )


def category_agreement(frame: pl.DataFrame | Ratings) -> pl.DataFrame:
    """Per category: how often it is used and how reliably, on pairable units.

    `specific_agreement` is the share of a category's ratings whose fellow ratings on the same
    unit agree with it (Fleiss 1971; Uebersax's proportion of specific agreement);
    `alpha` is Krippendorff's alpha of the category against all others (binary collapse).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "coder": ["a", "b"] * 3,
    ...                       "value": ["cat", "cat", "dog", "dog", "cat", "dog"]})
    >>> category_agreement(frame).select("category", "specific_agreement").rows()
    [('cat', 0.6666666666666666), ('dog', 0.6666666666666666)]
    """
    ratings = frame if isinstance(frame, Ratings) else encode_ratings(frame)
    t = unit_tallies(ratings, "ignore")
    q, r = t.n_categories, t.ratings
    c, k, rc = t.cell_count, t.cell_category, r[t.cell_unit]
    n_k = np.bincount(k, c, minlength=q)
    n = n_k.sum()
    same = np.bincount(k, c * (c - 1) / (rc - 1), minlength=q)
    other = np.bincount(k, c * (rc - c) / (rc - 1), minlength=q)
    with np.errstate(divide="ignore", invalid="ignore"):
        specific = np.where(n_k > 0, same / n_k, np.nan)
        alpha = 1.0 - (n - 1) * other / (n_k * (n - n_k))
    return pl.DataFrame(
        {
            "category": [plain(x) for x in ratings.categories],
            "n_ratings": n_k.astype(np.int64),
            "prevalence": n_k / n if n else np.full(q, np.nan),
            "specific_agreement": specific,
            "alpha": np.where(np.isfinite(alpha), alpha, np.nan),
        },
        strict=False,
    ).with_columns(pl.col("specific_agreement", "alpha").fill_nan(None))


@dataclass(frozen=True)
class TwoCoderKappa:
    """Cohen's kappa of one contingency table with its asymptotic standard error."""

    kappa: float | None
    standard_error: float | None
    observed_agreement: float
    chance_agreement: float
    n: int


def two_coder_kappa(
    table: np.ndarray, weights: str = "identity", scores: np.ndarray | None = None
) -> TwoCoderKappa:
    """Cohen's (weighted) kappa and its ASE (Fleiss, Cohen and Everitt 1969), as SAS prints it.

    `table[i, j]` counts units coder A put in category i and coder B in j. Weights: identity,
    linear, quadratic (Cicchetti-Allison spacing on `scores`, default 0..q-1).

    >>> k = two_coder_kappa(np.array([[20, 5], [10, 15]]))
    >>> round(k.kappa, 4), round(k.standard_error, 4)
    (0.4, 0.127)
    """
    table = np.asarray(table, dtype=np.float64)
    n = table.sum()
    p = table / n
    w = agreement_weights(np.arange(len(p), dtype=float) if scores is None else scores, weights)
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    p_o, p_e = float((w * p).sum()), float(rows @ w @ cols)
    if p_e >= 1.0:
        return TwoCoderKappa(None, None, p_o, p_e, int(n))
    kappa = (p_o - p_e) / (1 - p_e)
    w_row, w_col = w @ cols, rows @ w
    spread = (p * (w - (w_row[:, None] + w_col[None, :]) * (1 - kappa)) ** 2).sum()
    variance = (spread - (kappa - p_e * (1 - kappa)) ** 2) / (n * (1 - p_e) ** 2)
    return TwoCoderKappa(kappa, float(np.sqrt(max(variance, 0.0))), p_o, p_e, int(n))


def contingency_table(
    frame: pl.DataFrame, coder_a: Any, coder_b: Any, categories: list[Any] | None = None
) -> tuple[np.ndarray, list[Any]]:
    """Cross-tabulate two coders over the units both rated: rows coder_a, columns coder_b."""
    ratings = encode_ratings(frame, "nominal", categories)
    ids = ratings.coder_ids.to_list()
    for who in (coder_a, coder_b):
        if who not in ids:
            raise ValueError(f"Coder {who!r} has no ratings; coders present: {ids[:10]}.")
    a, b = ids.index(coder_a), ids.index(coder_b)
    q = ratings.n_categories
    first = np.full((2, ratings.n_units), -1, dtype=np.int64)
    for slot, code in enumerate((a, b)):
        mine = ratings.coder == code
        first[slot, ratings.unit[mine]] = ratings.category[mine]
    both = (first >= 0).all(axis=0)
    table = np.bincount(first[0, both] * q + first[1, both], minlength=q * q).reshape(q, q)
    return table, ratings.categories


def pairwise_agreement(frame: pl.DataFrame, min_shared_units: int = 1) -> pl.DataFrame:
    """One row per pair of coders who rated common units: shared units, agreement, Cohen's kappa.

    Light's (1971) kappa is the mean of `cohen_kappa` over the pairs. Repeated ratings of one
    unit by one coder count once (the first).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "coder": ["a", "b"] * 3,
    ...                       "value": ["y", "y", "n", "n", "y", "n"]})
    >>> pairwise_agreement(frame).select("coder_a", "coder_b", "percent_agreement").row(0)
    ('a', 'b', 0.6666666666666666)
    """
    one = frame.select("unit", "coder", "value").drop_nulls()
    one = one.unique(["unit", "coder"], keep="first")
    pairs = (
        one.join(one, on="unit", suffix="_b")
        .filter(pl.col("coder").cast(pl.String) < pl.col("coder_b").cast(pl.String))
        .rename({"coder": "coder_a", "value": "value_a"})
    )
    keys = ["coder_a", "coder_b"]
    shared = pairs.group_by(keys).agg(
        n_shared_units=pl.len(), percent_agreement=(pl.col("value_a") == pl.col("value_b")).mean()
    )
    share_a = pairs.group_by([*keys, pl.col("value_a").alias("v")]).len("n_a")
    share_b = pairs.group_by([*keys, pl.col("value_b").alias("v")]).len("n_b")
    chance = (
        share_a.join(share_b, on=[*keys, "v"])
        .group_by(keys)
        .agg(products=(pl.col("n_a") * pl.col("n_b")).sum())
    )
    return (
        shared.filter(pl.col("n_shared_units") >= min_shared_units)
        .join(chance, on=keys, how="left")
        .with_columns(
            chance_agreement=pl.col("products").fill_null(0) / pl.col("n_shared_units") ** 2
        )
        .with_columns(
            cohen_kappa=pl.when(pl.col("chance_agreement") < 1)
            .then(
                (pl.col("percent_agreement") - pl.col("chance_agreement"))
                / (1 - pl.col("chance_agreement"))
            )
            .otherwise(None)
        )
        .drop("products")
        .sort(keys)
    )
