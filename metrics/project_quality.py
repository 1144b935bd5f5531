"""The per-project quality summary behind `crowdmeter quality`: agreement, gold accuracy and
rejection per project and field, and per annotator (pure Polars, no database)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from metrics.agreement import agreement_report
from metrics.breakdowns import category_agreement
from metrics.consensus import dawid_skene, leave_one_out_agreement, majority_vote
from metrics.levels import field_level
from metrics.quality import (
    class_error_rates,
    confusion_matrix,
    counts_to_confusion,
    first_answers,
    gold_accuracy,
    is_free_text,
    rejection_rate,
    unit_weeks,
)
from metrics.regions import region_agreement


def project_quality(
    answers: pl.DataFrame,
    assignments: pl.DataFrame,
    *,
    bootstrap_samples: int = 0,
    confidence: float = 0.95,
    seed: int = 20181204,
    span_threshold: float = 0.5,
    box_threshold: float = 0.5,
    levels: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Agreement, gold accuracy and rejection per project and field, and per annotator.

    `answers`: one row per answer of a submitted assignment, with platform, project_id, field,
    unit, coder, value, region (JSON or null), gold (or null), ordinal and week.
    `assignments`: platform, project_id, coder, status. `levels`: the `[agreement] levels`
    setting; a field it does not name gets the level its values suggest (`metrics.levels`).
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
            key = (platform, project_id, field)
            summary, coders = field_quality(field_rows, thresholds, options, levels or {}, key)
            fields.append({"field": field} | summary)
            per_coder.append(coders)
        projects.append(
            {
                "platform": platform,
                "project_id": project_id,
                "n_assignments": work.height,
                "n_annotators": work["coder"].n_unique(),
                "review": _first_row(rejection_rate(work, confidence=confidence)),
                "gold": _first_row(gold_accuracy(first_answers(rows), confidence=confidence)),
                "fields": sorted(fields, key=lambda f: str(f["field"])),
                "annotators": annotator_quality(rows, work, per_coder, confidence),
            }
        )
    return projects


def field_quality(
    rows: pl.DataFrame,
    thresholds: tuple[float, float],
    options: dict[str, Any],
    levels: Mapping[str, str] | None = None,
    key: tuple[str, str, str] = ("", "", ""),
) -> tuple[dict[str, Any], pl.DataFrame | None]:
    """One field's figures, and its per-coder consensus table (None for region fields); `key`
    (platform, project, field) picks the field's level from `levels`."""
    if rows["region"].drop_nulls().len():
        agreement = region_agreement(rows, *thresholds, **options)
        return {"kind": "regions", "agreement": agreement.as_dict()}, None
    single = first_answers(rows).filter(pl.col("value").is_not_null())
    if is_free_text(single["value"]):
        return {"kind": "free_text", "skipped": "free text: too many distinct answers"}, None
    if single.is_empty():
        return {"kind": "categorical", "skipped": "no answers"}, None
    level = field_level(levels or {}, *key, single["value"])
    report = agreement_report(single, level.level, **options)
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
        "level": level.level,
        "level_source": level.source,
        "level_note": level.note,
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
        "weeks": weekly_agreement(single, level.level),
    }
    coders = leave_one_out_agreement(single)
    if ds is None:
        return summary, coders.with_columns(ds_accuracy=pl.lit(None, pl.Float64))
    quality = ds.worker_quality().select("coder", pl.col("accuracy").alias("ds_accuracy"))
    return summary, coders.join(quality, on="coder")


def weekly_agreement(single: pl.DataFrame, level: str = "nominal") -> list[dict[str, Any]]:
    """Percent agreement and Krippendorff's alpha (at `level`) per week (point estimates), each
    unit in the week of its first rating (`unit_weeks`), as on the Quality page."""
    weeks = []
    names = ("percent_agreement", "krippendorff_alpha")
    for (week,), rows in unit_weeks(single).group_by(["week"], maintain_order=True):
        report = agreement_report(rows, level, coefficients=names)
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
    gold = gold_accuracy(first_answers(rows), by=["coder"], confidence=confidence)
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


def _first_row(frame: pl.DataFrame) -> dict[str, Any]:
    return frame.to_dicts()[0] if frame.height else {}
