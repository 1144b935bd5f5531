"""Label quality: gold accuracy with Wilson intervals, review rejection, class error rates, and the
per-project quality summary behind `crowdmeter quality` (pure Polars, no database).

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

from metrics.agreement import agreement_report
from metrics.breakdowns import category_agreement
from metrics.consensus import dawid_skene, leave_one_out_agreement, majority_vote
from metrics.ratings import encode_ratings
from metrics.regions import region_agreement

REVIEWED = ("approved", "rejected")


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


def _with_wilson(frame: pl.DataFrame, hits: str, trials: str, confidence: float) -> pl.DataFrame:
    low, high = wilson_interval(frame[hits].to_numpy(), frame[trials].to_numpy(), confidence)
    return frame.with_columns(
        pl.Series("ci_low", low).fill_nan(None), pl.Series("ci_high", high).fill_nan(None)
    )


def gold_accuracy(
    frame: pl.DataFrame, by: list[str] | None = None, confidence: float = 0.95
) -> pl.DataFrame:
    """Correct gold answers / gold answered, with a Wilson interval, per `by` group.

    `frame` has `value` and `gold` (rows without a gold answer are ignored).
    Columns: by..., n_gold, n_correct, accuracy, ci_low, ci_high.
    """
    by = by or []
    graded = frame.filter(pl.col("gold").is_not_null() & pl.col("value").is_not_null())
    correct = pl.col("value").cast(pl.String) == pl.col("gold").cast(pl.String)
    aggs = [
        pl.len().cast(pl.Int64).alias("n_gold"),
        correct.sum().cast(pl.Int64).alias("n_correct"),
    ]
    table = graded.group_by(by).agg(aggs) if by else graded.select(aggs)
    table = table.with_columns(
        accuracy=pl.when(pl.col("n_gold") > 0).then(pl.col("n_correct") / pl.col("n_gold"))
    )
    table = _with_wilson(table, "n_correct", "n_gold", confidence)
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
    table = table.with_columns(
        rejection_rate=pl.when(pl.col("n_reviewed") > 0).then(
            pl.col("n_rejected") / pl.col("n_reviewed")
        )
    )
    table = _with_wilson(table, "n_rejected", "n_reviewed", confidence)
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


# ---------------------------------------------------------------------------------------------
# The per-project summary


def project_quality(
    answers: pl.DataFrame,
    assignments: pl.DataFrame,
    *,
    bootstrap_samples: int = 0,
    confidence: float = 0.95,
    seed: int = 20181204,
    span_threshold: float = 0.5,
    box_threshold: float = 0.5,
) -> list[dict[str, Any]]:
    """Agreement, gold accuracy and rejection per project and field, and per annotator.

    `answers`: one row per answer of a submitted assignment, with platform, project_id, field,
    unit, coder, value, region (JSON or null), gold (or null), ordinal and week.
    `assignments`: platform, project_id, coder, status.
    """
    options = {"bootstrap_samples": bootstrap_samples, "confidence": confidence, "seed": seed}
    thresholds = (span_threshold, box_threshold)
    projects = []
    keys = ["platform", "project_id"]
    for (platform, project_id), work in assignments.group_by(keys, maintain_order=True):
        rows = answers.filter(
            (pl.col("platform") == platform) & (pl.col("project_id") == project_id)
        )
        fields, per_coder = [], []
        for (field,), field_rows in rows.group_by(["field"], maintain_order=True):
            summary, coders = field_quality(field_rows, thresholds, options)
            fields.append({"field": field} | summary)
            per_coder.append(coders)
        projects.append(
            {
                "platform": platform,
                "project_id": project_id,
                "n_assignments": work.height,
                "n_annotators": work["coder"].n_unique(),
                "review": _first_row(rejection_rate(work, confidence=confidence)),
                "gold": _first_row(gold_accuracy(_first_answers(rows), confidence=confidence)),
                "fields": sorted(fields, key=lambda f: str(f["field"])),
                "annotators": annotator_quality(rows, work, per_coder, confidence),
            }
        )
    return projects


def field_quality(
    rows: pl.DataFrame, thresholds: tuple[float, float], options: dict[str, Any]
) -> tuple[dict[str, Any], pl.DataFrame | None]:
    """One field's figures, and its per-coder consensus table (None for region fields)."""
    if rows["region"].drop_nulls().len():
        agreement = region_agreement(rows, *thresholds, **options)
        return {"kind": "regions", "agreement": agreement.as_dict()}, None
    single = _first_answers(rows).filter(pl.col("value").is_not_null())
    distinct = single["value"].n_unique()
    if distinct > 50 and distinct > single.height / 2:
        return {"kind": "free_text", "skipped": "free text: too many distinct answers"}, None
    if single.is_empty():
        return {"kind": "categorical", "skipped": "no answers"}, None
    report = agreement_report(single, "nominal", **options)
    # with one rating per item there is nothing for Dawid-Skene to learn coders' errors from
    ds = dawid_skene(single) if report.n_pairable_units else None
    graded = single.filter(pl.col("gold").is_not_null())
    if not graded.is_empty():
        confusion, source = confusion_matrix(graded), "gold"
    elif ds is not None:
        confusion, source = counts_to_confusion(ds.expected_counts, ds.categories), "dawid_skene"
    else:
        confusion, source = confusion_matrix(graded), None
    mv = majority_vote(single)
    summary = {
        "kind": "categorical",
        "multi_valued": bool((rows["ordinal"] > 0).any()),
        "agreement": report.as_dict(),
        "gold": _first_row(gold_accuracy(single, confidence=options["confidence"])),
        "classes": category_agreement(single).to_dicts(),
        "error_source": source,
        "class_errors": class_error_rates(confusion).to_dicts(),
        "confusion": confusion.to_dicts(),
        "consensus": {
            "majority_ties": int(mv["tie"].sum()),
            "dawid_skene_mean_posterior": ds and float(ds.labels()["posterior"].mean()),
            "dawid_skene_iterations": ds and ds.n_iter,
        },
        "weeks": weekly_agreement(single),
    }
    coders = leave_one_out_agreement(single)
    if ds is None:
        return summary, coders.with_columns(ds_accuracy=pl.lit(None, pl.Float64))
    quality = ds.worker_quality().select("coder", pl.col("accuracy").alias("ds_accuracy"))
    return summary, coders.join(quality, on="coder")


def weekly_agreement(single: pl.DataFrame) -> list[dict[str, Any]]:
    """Percent agreement and Krippendorff's alpha per week (point estimates)."""
    weeks = []
    for (week,), rows in single.group_by(["week"], maintain_order=True):
        report = agreement_report(rows, coefficients=("percent_agreement", "krippendorff_alpha"))
        entry = {"week": week, "n_units": report.n_units}
        entry["n_pairable_values"] = report.n_pairable_values
        for name, coef in report.coefficients.items():
            entry[name] = coef.value
        weeks.append(entry)
    return sorted(weeks, key=lambda w: str(w["week"]))


def annotator_quality(
    rows: pl.DataFrame,
    work: pl.DataFrame,
    per_field: list[pl.DataFrame | None],
    confidence: float = 0.95,
) -> list[dict[str, Any]]:
    """Per annotator: assignments, gold accuracy, rejection rate (Wilson intervals), agreement
    with the other annotators' majority and Dawid-Skene accuracy, pooled over fields."""
    counts = work.group_by("coder").agg(pl.len().cast(pl.Int64).alias("n_assignments"))
    gold = gold_accuracy(_first_answers(rows), by=["coder"], confidence=confidence)
    review = rejection_rate(work, by=["coder"], confidence=confidence)
    table = counts.join(_prefixed(gold, "gold_"), on="coder", how="left").join(
        _prefixed(review, "review_"), on="coder", how="left"
    )
    tables = [t for t in per_field if t is not None]
    if tables:
        pooled = (
            pl.concat(tables)
            .group_by("coder")
            .agg(
                pl.col("n_compared").sum().alias("consensus_n_compared"),
                pl.col("n_agree").sum().alias("consensus_n_agree"),
                (pl.col("ds_accuracy") * pl.col("n_ratings")).sum().alias("ds_weighted"),
                pl.col("n_ratings").filter(pl.col("ds_accuracy").is_not_null()).sum().alias("ds_n"),
            )
            .with_columns(
                consensus_agreement=pl.when(pl.col("consensus_n_compared") > 0).then(
                    pl.col("consensus_n_agree") / pl.col("consensus_n_compared")
                ),
                ds_accuracy=pl.when(pl.col("ds_n") > 0).then(
                    pl.col("ds_weighted") / pl.col("ds_n")
                ),
            )
            .drop("ds_weighted", "ds_n")
        )
        table = table.join(pooled, on="coder", how="left")
    return table.rename({"coder": "worker_id"}).sort("worker_id").to_dicts()


def _prefixed(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    return frame.rename({c: prefix + c for c in frame.columns if c != "coder"})


def _first_answers(rows: pl.DataFrame) -> pl.DataFrame:
    """One answer per assignment and field (the first of a multi-valued field)."""
    return rows.filter(pl.col("ordinal") == 0) if "ordinal" in rows.columns else rows


def _first_row(frame: pl.DataFrame) -> dict[str, Any]:
    return frame.to_dicts()[0] if frame.height else {}
