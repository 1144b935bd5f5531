"""Label quality: gold accuracy with Wilson intervals, review rejection, class error rates, and
the rules that say which answers they count (pure Polars, no database).

>>> import polars as pl
>>> gold = pl.DataFrame({"coder": ["a", "a", "b"], "value": ["x", "y", "x"], "gold": ["x"] * 3})
>>> gold_accuracy(gold, by=["coder"]).select("coder", "n_gold", "accuracy").rows()
[('a', 2, 0.5), ('b', 1, 1.0)]
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl

from metrics.ratings import encode_ratings

# Assignment statuses whose answers count as submitted work (returned, abandoned, skipped and
# expired work carries no answers to score).
ANSWERED = ("submitted", "approved", "rejected")
# Statuses of reviewed work: the denominator of the rejection rate.
REVIEWED = ("approved", "rejected")
# A field with more distinct answers than this, and than half its answers, is free text, where
# category agreement and gold accuracy mean nothing.
FREE_TEXT_DISTINCT = 50


def first_answers(rows: pl.DataFrame) -> pl.DataFrame:
    """One answer per assignment and field (the first of a multi-valued field, `ordinal` 0)."""
    return rows.filter(pl.col("ordinal") == 0) if "ordinal" in rows.columns else rows


def gold_answers(answers: pl.DataFrame) -> pl.DataFrame:
    """The answers gold accuracy counts: the one selection rule behind every gold figure.

    A gold answer is the first answer (`ordinal` 0) to a field, of a submitted, approved or
    rejected assignment (`ANSWERED`), that has a `value`, where the item's field has a gold
    answer (`gold`, the warehouse's `annotations.gold_value`; an assignment's `is_gold` flag
    plays no part). It is correct when `value` equals `gold` compared as text. Rows are
    filtered on `status` and `ordinal` only where the frame has those columns (the marts and
    `crowdmeter quality` select them in SQL). Its week is the UTC week (from Monday) of the
    assignment's `submitted_at`, else its `started_at`. `sql/marts/10_activity_daily.sql`
    applies the same rule in SQL.

    >>> import polars as pl
    >>> rows = pl.DataFrame({"value": ["x", "y", None, "x"], "gold": ["x", "x", "x", None],
    ...                      "status": ["approved", "returned", "submitted", "approved"]})
    >>> gold_answers(rows).height
    1
    """
    graded = first_answers(answers)
    if "status" in graded.columns:
        graded = graded.filter(pl.col("status").is_in(ANSWERED))
    return graded.filter(pl.col("gold").is_not_null() & pl.col("value").is_not_null())


def is_free_text(values: pl.Series) -> bool:
    """Whether a field's answers are free text: more than `FREE_TEXT_DISTINCT` distinct values
    and more than half as many distinct values as answers.

    >>> import polars as pl
    >>> is_free_text(pl.Series([str(i) for i in range(60)])), is_free_text(pl.Series(["a"] * 60))
    (True, False)
    """
    distinct = values.n_unique()
    return distinct > FREE_TEXT_DISTINCT and distinct > values.len() / 2


def unit_weeks(answers: pl.DataFrame) -> pl.DataFrame:
    """`answers` with each unit's `week` the week of its first rating, so that weekly agreement
    never splits a unit between weeks."""
    return answers.with_columns(week=pl.col("week").min().over("unit"))


def wilson_interval(
    successes: np.ndarray | float, trials: np.ndarray | float, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson (1927) score interval for a proportion; NaN where there are no trials.

    >>> low, high = wilson_interval(8, 10)
    >>> round(float(low), 4), round(float(high), 4)
    (0.4902, 0.9433)
    """
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = s / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # at p = 0 or 1 the bound is exactly 0 or 1; clip the rounding error around it
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def rate_with_interval(
    frame: pl.DataFrame,
    hits: str,
    trials: str,
    rate: str,
    prefix: str = "",
    confidence: float = 0.95,
) -> pl.DataFrame:
    """`frame` with `rate` = hits / trials (null without trials) and its Wilson interval in
    `{prefix}ci_low`, `{prefix}ci_high`: gold accuracy or rejection rate from summed counts.

    >>> import polars as pl
    >>> counts = pl.DataFrame({"gold_correct": [8, 0], "gold_answered": [10, 0]})
    >>> rate_with_interval(counts, "gold_correct", "gold_answered", "gold_accuracy", "gold_").row(1)
    (0, 0, None, None, None)
    """
    low, high = wilson_interval(frame[hits].to_numpy(), frame[trials].to_numpy(), confidence)
    return frame.with_columns(
        pl.when(pl.col(trials) > 0).then(pl.col(hits) / pl.col(trials)).alias(rate),
        pl.Series(f"{prefix}ci_low", low).fill_nan(None),
        pl.Series(f"{prefix}ci_high", high).fill_nan(None),
    )


def gold_accuracy(
    frame: pl.DataFrame, by: list[str] | None = None, confidence: float = 0.95
) -> pl.DataFrame:
    """Gold accuracy = correct gold answers / gold answered, with a Wilson interval, per `by`.

    `frame` has `value` and `gold`; the answers counted are those of `gold_answers`.
    Columns: by..., n_gold, n_correct, accuracy, ci_low, ci_high.
    """
    by = by or []
    graded = gold_answers(frame)
    correct = pl.col("value").cast(pl.String) == pl.col("gold").cast(pl.String)
    aggs = [
        pl.len().cast(pl.Int64).alias("n_gold"),
        correct.sum().cast(pl.Int64).alias("n_correct"),
    ]
    table = graded.group_by(by).agg(aggs) if by else graded.select(aggs)
    table = rate_with_interval(table, "n_correct", "n_gold", "accuracy", confidence=confidence)
    return table.sort(by) if by else table


def rejection_rate(
    frame: pl.DataFrame, by: list[str] | None = None, confidence: float = 0.95
) -> pl.DataFrame:
    """Rejected / reviewed (approved + rejected) assignments, with a Wilson interval.

    `frame` has `status`. Columns: by..., n_reviewed, n_rejected, rejection_rate, ci_low, ci_high.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"status": ["approved", "rejected", "submitted", "approved"]})
    >>> rejection_rate(frame).select("n_reviewed", "n_rejected", "rejection_rate").row(0)
    (3, 1, 0.3333333333333333)
    """
    by = by or []
    status = pl.col("status")
    aggs = [
        status.is_in(REVIEWED).sum().cast(pl.Int64).alias("n_reviewed"),
        (status == "rejected").sum().cast(pl.Int64).alias("n_rejected"),
    ]
    table = frame.group_by(by).agg(aggs) if by else frame.select(aggs)
    table = rate_with_interval(
        table, "n_rejected", "n_reviewed", "rejection_rate", confidence=confidence
    )
    return table.sort(by) if by else table


def confusion_matrix(
    frame: pl.DataFrame, truth: str = "gold", answer: str = "value"
) -> pl.DataFrame:
    """Counts of (true class, answered class): columns true, observed, count."""
    return (
        frame.filter(pl.col(truth).is_not_null() & pl.col(answer).is_not_null())
        .group_by(
            pl.col(truth).cast(pl.String).alias("true"),
            pl.col(answer).cast(pl.String).alias("observed"),
        )  # fmt: skip
        .agg(pl.len().cast(pl.Float64).alias("count"))
        .sort("true", "observed")
    )


def class_error_rates(confusion: pl.DataFrame) -> pl.DataFrame:
    """Per class, from a (true, observed, count) table: how often it is missed and misused.

    error_rate = 1 - recall (answers on items of the class that name another class);
    precision = correct / answers naming the class.

    >>> import polars as pl
    >>> conf = pl.DataFrame({"true": ["a", "a", "b"], "observed": ["a", "b", "b"],
    ...                      "count": [3.0, 1.0, 4.0]})
    >>> class_error_rates(conf).select("class", "error_rate", "precision").rows()
    [('a', 0.25, 1.0), ('b', 0.0, 0.8)]
    """
    correct = confusion.filter(pl.col("true") == pl.col("observed")).select(
        pl.col("true").alias("class"), pl.col("count").alias("n_correct")
    )
    n_true = confusion.group_by(pl.col("true").alias("class")).agg(
        pl.col("count").sum().alias("n_true")
    )
    n_observed = confusion.group_by(pl.col("observed").alias("class")).agg(
        pl.col("count").sum().alias("n_observed")
    )
    return (
        n_true.join(n_observed, on="class", how="full", coalesce=True)
        .join(correct, on="class", how="left")
        .with_columns(pl.col("n_true", "n_observed", "n_correct").fill_null(0.0))
        .with_columns(
            error_rate=pl.when(pl.col("n_true") > 0).then(
                1 - pl.col("n_correct") / pl.col("n_true")
            ),
            precision=pl.when(pl.col("n_observed") > 0).then(
                pl.col("n_correct") / pl.col("n_observed")
            ),
        )
        .sort("class")
    )


def counts_to_confusion(counts: np.ndarray, categories: list[Any]) -> pl.DataFrame:
    """A (K true x K observed) count matrix, e.g. Dawid-Skene's expected counts, as a table."""
    k = len(categories)
    true, observed = np.divmod(np.arange(k * k), k)
    labels = pl.Series([str(c) for c in categories])
    return pl.DataFrame(
        {"true": labels.gather(true), "observed": labels.gather(observed), "count": counts.ravel()}
    )


def consistency(frame: pl.DataFrame, skills: pl.DataFrame, consensus: pl.DataFrame) -> float:
    """Mean posterior of each unit's consensus label under a one-coin model of coder skill.

    A coder of skill s gives the true label with probability s and each other label with
    (1 - s) / (K - 1), as crowd-kit's `consistency`. `skills`: coder, skill; `consensus`:
    unit, label.
    """
    log_p, units, categories = _one_coin_log_likelihood(frame, skills)
    top = log_p.max(axis=1, keepdims=True)
    # perfect coders who disagree make every label impossible: posterior 0, as crowd-kit
    likelihood = np.exp(log_p - np.where(np.isfinite(top), top, 0.0))
    total = likelihood.sum(axis=1, keepdims=True)
    posterior = np.divide(likelihood, total, out=np.zeros_like(likelihood), where=total > 0)
    lookup = dict(zip(consensus["unit"].to_list(), consensus["label"].to_list(), strict=True))
    index = {c: k for k, c in enumerate(categories)}
    picked = [posterior[i, index[lookup[u]]] for i, u in enumerate(units) if u in lookup]
    return float(np.mean(picked))


def label_uncertainty(frame: pl.DataFrame, skills: pl.DataFrame | None = None) -> float:
    """Mean entropy (nats) of each unit's skill-weighted label distribution (crowd-kit's
    `uncertainty`); with no skills, the entropy of the plain vote shares."""
    ratings = encode_ratings(frame)
    q = ratings.n_categories
    s = _skill_per_rating(ratings, skills)
    for_label = np.where(
        ratings.category[:, None] == np.arange(q)[None, :],
        s[:, None],
        ((1 - s) / max(q - 1, 1))[:, None],
    )
    mass = np.zeros((ratings.n_units, q))
    np.add.at(mass, ratings.unit, for_label)
    p = mass / mass.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return float(entropy.mean())


def _skill_per_rating(ratings: Any, skills: pl.DataFrame | None) -> np.ndarray:
    if skills is None:
        return np.ones(len(ratings.coder))
    lookup = dict(zip(skills["coder"].to_list(), skills["skill"].to_list(), strict=True))
    per_coder = np.array([lookup.get(c, np.nan) for c in ratings.coder_ids.to_list()])
    if np.isnan(per_coder).any():
        raise ValueError("Every coder needs a skill; some coders are missing from `skills`.")
    return per_coder[ratings.coder]


def _one_coin_log_likelihood(
    frame: pl.DataFrame, skills: pl.DataFrame
) -> tuple[np.ndarray, list[Any], list[Any]]:
    ratings = encode_ratings(frame)
    q = ratings.n_categories
    s = _skill_per_rating(ratings, skills)
    with np.errstate(divide="ignore"):
        hit, miss = np.log(s), np.log((1 - s) / max(q - 1, 1))
    per_rating = np.where(
        ratings.category[:, None] == np.arange(q)[None, :], hit[:, None], miss[:, None]
    )
    log_p = np.zeros((ratings.n_units, q))
    np.add.at(log_p, ratings.unit, per_rating)
    return log_p, ratings.unit_ids.to_list(), ratings.categories
