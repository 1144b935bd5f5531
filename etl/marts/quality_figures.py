"""The figures of one project's field for the quality marts, from its answers: the summary,
per-annotator counts, confusion with gold, the busiest pairs, the least agreed units and the
span and box agreement, and the columns each quality mart has (`SCHEMAS`). `etl.marts.quality`
gathers and writes them.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from metrics.agreement import (
    AGREEMENT_COLUMNS,
    encode_ratings,
    pairwise_agreement,
    unit_agreement,
)
from metrics.consensus import leave_one_out_agreement, majority_vote
from metrics.levels import FieldLevel
from metrics.quality import confusion_matrix, gold_accuracy, rejection_rate
from metrics.regions import Box, Span, parse_region, region_agreement

PAIRWISE_CODERS = 25  # a matrix larger than this cannot be read on a page
HOT_SPOTS = 500  # per field and week: more than anyone adjudicates in a week
WEEK_PLACES = 1 << 20  # days between a field's first and last week stay below this

# the columns metrics.agreement.agreement_by gives per group and coefficient, so the marts
# follow it (a constant: running Polars at import would start its thread pool in any process
# that imports the marts, and children forked from it, gunicorn's workers, would hang)
AGREEMENT: dict[str, pl.DataType] = dict(AGREEMENT_COLUMNS)
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "fields": {
        "kind": pl.String,
        "answers": pl.Int64,
        "units": pl.Int64,
        "coders": pl.Int64,
        "categories": pl.Int64,
        "first_week": pl.Date,
        "last_week": pl.Date,
        "level": pl.String,
        "level_source": pl.String,
        "level_note": pl.String,
        "bootstrap_samples": pl.Int64,
        "confidence": pl.Float64,
        "hot_spots_per_week": pl.Int64,
    },
    "agreement": AGREEMENT,
    "agreement_weekly": {"week": pl.Date, **AGREEMENT, "coders": pl.Int64},
    "confusion": {"week": pl.Date, "true": pl.String, "observed": pl.String, "count": pl.Int64},
    "annotators": {
        "week": pl.Date,
        "worker_id": pl.String,
        "answers": pl.Int64,
        "gold_answered": pl.Int64,
        "gold_correct": pl.Int64,
        "reviewed": pl.Int64,
        "rejected": pl.Int64,
        "consensus_compared": pl.Int64,
        "consensus_agree": pl.Int64,
    },
    "pairwise": {
        "coder_a": pl.String,
        "coder_b": pl.String,
        "n_shared_units": pl.Int64,
        "percent_agreement": pl.Float64,
        "cohen_kappa": pl.Float64,
    },
    "hot_spots": {
        "week": pl.Date,
        "unit": pl.String,
        "n_ratings": pl.Int64,
        "agreement": pl.Float64,
        "majority": pl.String,
        "answers": pl.String,
    },
    "regions": {
        "shapes": pl.String,
        "answers": pl.Int64,
        "units": pl.Int64,
        "coders": pl.Int64,
        "first_week": pl.Date,
        "last_week": pl.Date,
        "f1": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "n_units": pl.Int64,
        "n_regions": pl.Int64,
        "n_coder_pairs": pl.Int64,
        "n_unsupported_regions": pl.Int64,
        "undefined_reason": pl.String,
        "span_threshold": pl.Float64,
        "box_threshold": pl.Float64,
        "bootstrap_samples": pl.Int64,
        "confidence": pl.Float64,
    },
}


def field_summary(
    answers: pl.DataFrame, kind: str, options: dict[str, Any], level: FieldLevel | None = None
) -> pl.DataFrame:
    return answers.select(
        kind=pl.lit(kind),
        answers=pl.len(),
        units=pl.col("unit").n_unique(),
        coders=pl.col("coder").n_unique(),
        categories=pl.col("value").n_unique(),  # what guessing at random would score: 1/k
        first_week=pl.col("week").min(),
        last_week=pl.col("week").max(),
        level=pl.lit(level and level.level, pl.String),
        level_source=pl.lit(level and level.source, pl.String),
        level_note=pl.lit(level and level.note, pl.String),
        bootstrap_samples=pl.lit(options["bootstrap_samples"]),
        confidence=pl.lit(options["confidence"]),
        hot_spots_per_week=pl.lit(HOT_SPOTS),
    )


def region_summary(
    rows: pl.DataFrame, thresholds: tuple[float, float], options: dict[str, Any]
) -> pl.DataFrame:
    """A field of spans or boxes (`unit`, `coder`, `region` JSON, `week`): its counts and the
    pooled pairwise F1 of `metrics.regions.region_agreement`."""
    found = region_agreement(rows.select("unit", "coder", "region"), *thresholds, **options)
    counts = rows.select(
        answers=pl.len(),
        units=pl.col("unit").n_unique(),
        coders=pl.col("coder").n_unique(),
        first_week=pl.col("week").min(),
        last_week=pl.col("week").max(),
    )
    figures = found.as_dict() | {"undefined_reason": found.undefined_reason}
    return counts.with_columns(
        shapes=pl.lit(region_shapes(rows["region"])),
        **{name: pl.lit(figures[name]) for name in _REGION_FIGURES},
        span_threshold=pl.lit(thresholds[0], pl.Float64),
        box_threshold=pl.lit(thresholds[1], pl.Float64),
        bootstrap_samples=pl.lit(options["bootstrap_samples"]),
        confidence=pl.lit(options["confidence"]),
    )


_REGION_FIGURES = ("f1", "ci_low", "ci_high", "n_units", "n_regions", "n_coder_pairs",
                   "n_unsupported_regions", "undefined_reason")  # fmt: skip


def region_shapes(regions: pl.Series) -> str:
    """What a field's regions are: "spans", "boxes", "spans, boxes", plus "other" for shapes
    that are not compared (polygons, keypoints...)."""
    kinds = set()
    for raw in regions.drop_nulls():
        try:
            region = parse_region(raw)
        except ValueError:
            kinds.add("other")
            continue
        kinds.add({Span: "spans", Box: "boxes"}[type(region)] if region else "other")
    return ", ".join(k for k in ("spans", "boxes", "other") if k in kinds) or "none"


def annotator_counts(answers: pl.DataFrame) -> pl.DataFrame:
    """Per worker and week: additive counts of answers, gold, review and consensus."""
    by = ["coder", "week"]
    counts = answers.group_by(by).agg(answers=pl.len())
    gold = gold_accuracy(answers, by=by).select(
        *by, gold_answered="n_gold", gold_correct="n_correct"
    )
    review = rejection_rate(answers, by=by).select(
        *by, reviewed="n_reviewed", rejected="n_rejected"
    )
    return (
        counts.join(gold, on=by, how="left")
        .join(review, on=by, how="left")
        .join(consensus_counts(answers), on=by, how="left")
        .with_columns(pl.exclude(by).fill_null(0))
        .rename({"coder": "worker_id"})
    )


def consensus_counts(answers: pl.DataFrame) -> pl.DataFrame:
    """Each worker's ratings compared with the others' majority on the unit, split by week.

    The comparison looks only at the unit's other ratings, so counting a coder-week as its own
    coder splits the counts by week without changing them.
    """
    # A coder-week is one integer: the coder's code, then the week's place after the first
    # week (0 for a rating with no time: doccano, older Prodigy files; kept, weekless).
    days = pl.col("week").cast(pl.Int64)
    first = answers.select(days.min()).item() or 0
    place = (days - first + 1).fill_null(0)
    coder_week = pl.col("coder") * WEEK_PLACES + place
    per = leave_one_out_agreement(answers.select("unit", coder_week.alias("coder"), "value"))
    place = pl.col("coder") % WEEK_PLACES
    week = pl.when(place > 0).then(place + first - 1).cast(pl.Date)
    return per.select(
        (pl.col("coder") // WEEK_PLACES).cast(answers.schema["coder"]).alias("coder"),
        week.alias("week"),
        consensus_compared="n_compared",
        consensus_agree="n_agree",
    )


def weekly_confusion(answers: pl.DataFrame) -> pl.DataFrame:
    """Gold answer x answer given, counted per week of the rating."""
    graded = answers.filter(pl.col("gold").is_not_null())
    parts = [
        confusion_matrix(rows).with_columns(week=pl.lit(week))
        for (week,), rows in graded.group_by(["week"])
    ]
    return pl.concat(parts) if parts else pl.DataFrame(schema=SCHEMAS["confusion"])


def busiest_pairs(answers: pl.DataFrame) -> pl.DataFrame:
    """Cohen's kappa between every two of the field's busiest annotators (whole period)."""
    busiest = (
        answers.group_by("coder")
        .len()
        .sort(["len", "coder"], descending=[True, False])
        .head(PAIRWISE_CODERS)["coder"]
    )
    return pairwise_agreement(answers.filter(pl.col("coder").is_in(busiest.implode())))


def hot_spots(units: pl.DataFrame) -> pl.DataFrame:
    """The units an adjudicator gains most from, per unit week, with each answer's count and
    the majority.

    A unit's disagreement is the entropy (bits) of its answers times their number: a 3-2 split
    of five ratings (4.9) comes before a two-rating tie (2.0), which says little; then the
    lower agreement, then the unit; unanimous units are left out. The majority and the answer
    counts are worked out for the units kept, a few thousand of a field's hundreds of
    thousands.
    """
    weeks = units.group_by("unit").agg(pl.col("week").first())
    share = pl.col("len") / pl.col("len").sum()
    disagreement = (
        units.group_by("unit", "value")
        .len()
        .group_by("unit")
        .agg(disagreement=(-(share * share.log(2))).sum() * pl.col("len").sum())
    )
    ranked = ["disagreement", "agreement", "unit"]
    worst = (
        unit_agreement(encode_ratings(units.select("unit", "coder", "value")))
        .join(weeks, on="unit", how="left")
        .join(disagreement, on="unit", how="left")
        .filter(pl.col("disagreement") > 0)  # a unanimous unit needs no adjudicator
        .sort(ranked, descending=[True, False, False])
        .group_by("week", maintain_order=True)
        .head(HOT_SPOTS)
        .drop("disagreement")
    )
    kept = units.join(worst.select("unit"), on="unit", how="semi")
    counts = (
        kept.group_by("unit", "value")
        .len()
        .sort(["unit", "len", "value"], descending=[False, True, False])
        .group_by("unit", maintain_order=True)
        .agg(answers=pl.format("{}×{}", pl.col("value"), pl.col("len")).str.join(", "))
    )
    majority = majority_vote(kept.select("unit", "coder", "value")).select("unit", majority="label")
    return worst.join(majority, on="unit", how="left", maintain_order="left").join(
        counts, on="unit", how="left", maintain_order="left"
    )
