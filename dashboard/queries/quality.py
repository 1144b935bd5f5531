"""The Quality page's figures, read from the mart_quality_* tables (etl/marts/quality.py).

They are kept by week, so a date range selects the whole weeks it touches; agreement over a
field's whole period is published as such, since coefficients do not add up over weeks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from dashboard.access import Where
from dashboard.data import ScopedData
from dashboard.url_state import FieldKey, Filters
from metrics.agreement import REGION_SAMPLE_NOUNS, small_sample_warning
from metrics.catalog import COEFFICIENTS, ORDERED_COEFFICIENTS, family
from metrics.quality import rate_with_interval

FAMILIES = {name: family(name) for name in COEFFICIENTS + ORDERED_COEFFICIENTS}
ORDER = {name: i for i, name in enumerate(COEFFICIENTS + ORDERED_COEFFICIENTS)}


def project_outcomes(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Gold accuracy and rejection rate per project with Wilson intervals."""
    where = data.scope(filters)
    frame = data.frame(
        "SELECT platform, project_id, count(DISTINCT worker_id)::BIGINT AS workers, "
        "sum(gold_answered)::BIGINT AS gold_answered, sum(gold_correct)::BIGINT AS gold_correct, "
        "sum(reviewed)::BIGINT AS reviewed, sum(rejected)::BIGINT AS rejected "
        f"FROM mart_activity_daily {where.sql} GROUP BY ALL ORDER BY platform, project_id",
        where.params,
    )
    return data.suppress_small_groups(_with_rates(frame))


def _with_rates(frame: pl.DataFrame) -> pl.DataFrame:
    out = rate_with_interval(frame, "gold_correct", "gold_answered", "gold_accuracy", "gold_")
    return rate_with_interval(out, "rejected", "reviewed", "rejection_rate", "rejection_")


def quality_fields(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Categorical fields of the projects in scope with answers in the chosen weeks, most
    answered first: their units, coders, weeks and the bootstrap behind their intervals."""
    where = _quality_projects(data, filters)
    if filters.start:
        where.add("last_week >= date_trunc('week', $start::DATE)", start=filters.start)
    if filters.end:
        where.add("first_week <= $end", end=filters.end)
    where.add("kind = 'categorical'")
    frame = data.frame(
        f"SELECT * FROM mart_quality_fields {where.sql} "
        "ORDER BY answers DESC, platform, project_id, field",
        where.params,
    )
    # one row per field: no total over fields is shown that the rows could be taken from
    return data.suppress_small_groups(frame, "coders", complementary=False)


def field_key(row: dict) -> FieldKey:
    """The field a `quality_fields` row is about."""
    return FieldKey(row["platform"], row["project_id"], row["field"])


def field_info(data: ScopedData, field: FieldKey) -> dict[str, Any] | None:
    """One row of `quality_fields` (whole period), or None when out of scope."""
    where = _quality_projects(data, Filters())
    _one_field(where, field)
    frame = data.frame(f"SELECT * FROM mart_quality_fields {where.sql}", where.params)
    frame = data.suppress_small_groups(frame, "coders")
    return frame.row(0, named=True) if frame.height else None


def field_agreement(data: ScopedData, field: FieldKey) -> pl.DataFrame:
    """Every coefficient of one field over its whole period, with its interval."""
    where = _field_aggregate(data, field, Filters())
    return data.frame(
        "SELECT coefficient, n_units, n_pairable_units, n_pairable_values, value, ci_low, "
        f"ci_high, undefined_reason FROM mart_quality_agreement {where.sql} ORDER BY coefficient",
        where.params,
    )


def coefficient_table(data: ScopedData, filters: Filters, field: FieldKey) -> pl.DataFrame:
    """The field's coefficients over its whole period, raw, chance-corrected and robust, each
    with the small-sample warning when too few units or ratings are behind it."""
    rows = field_agreement(data, field)
    rank = pl.col("coefficient").replace_strict(ORDER, default=len(ORDER), return_dtype=pl.Int64)
    rows = with_small_sample_warning(data, rows, ("n_pairable_units", "n_pairable_values"))
    return rows.sort(rank).select(
        "coefficient",
        pl.col("coefficient")
        .replace_strict(FAMILIES, default="", return_dtype=pl.String)
        .alias("family"),
        "value",
        "ci_low",
        "ci_high",
        "warning",
        "n_units",
        "n_pairable_units",
        "n_pairable_values",
        "undefined_reason",
    )


def with_small_sample_warning(
    data: ScopedData,
    frame: pl.DataFrame,
    counts: tuple[str, str],
    nouns: tuple[str, str] | None = None,
) -> pl.DataFrame:
    """`frame` with a `warning` column: `metrics.agreement.small_sample_warning` of each row's
    `counts` (units, ratings) under `[agreement] min_units` and `min_ratings`."""
    settings = data.settings.agreement
    limits = (settings.min_units, settings.min_ratings, *((nouns,) if nouns else ()))
    warnings = [
        small_sample_warning(units, ratings, *limits)
        for units, ratings in frame.select(counts).iter_rows()
    ]
    return frame.with_columns(warning=pl.Series("warning", warnings, dtype=pl.String))


def region_fields(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Span and box agreement of the fields with regions in scope (whole period; the date
    range picks the fields with answers in its weeks), with the small-sample warning."""
    where = _quality_projects(data, filters)
    if filters.start:
        where.add("last_week >= date_trunc('week', $start::DATE)", start=filters.start)
    if filters.end:
        where.add("first_week <= $end", end=filters.end)
    frame = data.frame(
        "SELECT platform, project_id, field, shapes, f1, ci_low, ci_high, n_units, n_regions, "
        "n_coder_pairs, n_unsupported_regions, coders, undefined_reason "
        f"FROM mart_quality_regions {where.sql} ORDER BY n_regions DESC, platform, project_id, "
        "field",
        where.params,
    )
    frame = with_small_sample_warning(data, frame, ("n_units", "n_regions"), REGION_SAMPLE_NOUNS)
    columns = ["platform", "project_id", "field", "shapes", "f1", "ci_low", "ci_high", "warning"]
    frame = frame.select(*columns, pl.exclude(columns))
    return data.suppress_small_groups(frame, "coders", complementary=False)


def field_weekly_agreement(data: ScopedData, field: FieldKey, filters: Filters) -> pl.DataFrame:
    """Coefficients per week of the units' first rating, in the chosen weeks."""
    where = _field(data, field, filters)
    frame = data.frame(
        "SELECT week, coefficient, n_units, n_pairable_values, coders, value, ci_low, "
        f"ci_high, undefined_reason FROM mart_quality_agreement_weekly {where.sql} "
        "ORDER BY week, coefficient",
        where.params,
    )
    return data.suppress_small_groups(frame, "coders")


def field_confusion(data: ScopedData, field: FieldKey, filters: Filters) -> pl.DataFrame:
    """Gold answer x answer given (`true`, `observed`, `count`) summed over the weeks."""
    where = _field_aggregate(data, field, filters)
    return data.frame(
        'SELECT "true", observed, sum("count")::BIGINT AS "count" '
        f"FROM mart_quality_confusion {where.sql} GROUP BY ALL ORDER BY ALL",
        where.params,
    )


def field_hot_spots(data: ScopedData, field: FieldKey, filters: Filters) -> pl.DataFrame:
    """The least agreed units first in the chosen weeks (each week keeps its worst
    `HOT_SPOTS`, so the worst of any range of weeks are among them)."""
    info = field_info(data, field)
    where = _field_aggregate(data, field, filters)
    return data.frame(
        "SELECT unit, week, n_ratings, agreement, majority, answers "
        f"FROM mart_quality_hot_spots {where.sql} "
        "ORDER BY agreement, n_ratings DESC, unit LIMIT $hot_spots",
        {**where.params, "hot_spots": info["hot_spots_per_week"] if info else 0},
    )


def field_annotators(data: ScopedData, field: FieldKey, filters: Filters) -> pl.DataFrame:
    """Per annotator of one field (per-worker rows, not for auditors): answers, gold answered
    and right, reviewed and rejected assignments, ratings compared with the others' majority
    and agreeing with it, summed over the chosen weeks."""
    data.ensure("per-worker-rows")
    where = _field(data, field, filters, worker="worker_id")
    return data.frame(
        "SELECT worker_id, sum(answers)::BIGINT AS answers, "
        "sum(gold_answered)::BIGINT AS gold_answered, "
        "sum(gold_correct)::BIGINT AS gold_correct, sum(reviewed)::BIGINT AS reviewed, "
        "sum(rejected)::BIGINT AS rejected, "
        "sum(consensus_compared)::BIGINT AS consensus_compared, "
        "sum(consensus_agree)::BIGINT AS consensus_agree "
        f"FROM mart_quality_annotators {where.sql} GROUP BY worker_id "
        "ORDER BY answers DESC, worker_id",
        where.params,
    )


def annotator_table(data: ScopedData, filters: Filters, field: FieldKey) -> pl.DataFrame:
    """Per annotator of the field: gold accuracy, rejection rate and agreement with the
    others' majority, over the chosen weeks."""
    counts = field_annotators(data, field, filters)
    info = field_info(data, field) or {}
    chance = 1 / info["categories"] if info.get("categories") else None
    rated = _with_rates(counts).with_columns(
        consensus_agreement=pl.when(pl.col("consensus_compared") > 0).then(
            pl.col("consensus_agree") / pl.col("consensus_compared")
        ),
        # credibly below chance: even the interval's top is under what random answers score
        below_chance=pl.lit(False)
        if chance is None
        else pl.col("gold_ci_high").is_not_null() & (pl.col("gold_ci_high") < chance),
    )
    # the rates first, where the eye lands; the counts behind them after
    rates = ["gold_accuracy", "gold_ci_low", "gold_ci_high", "below_chance", "rejection_rate"]
    rates += ["rejection_ci_low", "rejection_ci_high", "consensus_agreement"]
    return rated.select("worker_id", "answers", *rates, pl.exclude("worker_id", "answers", *rates))


def field_pairs(data: ScopedData, field: FieldKey) -> pl.DataFrame:
    """Cohen's kappa between the field's busiest annotators, whole period (per-worker)."""
    data.ensure("per-worker-rows")
    where = _field(data, field, Filters())
    if data.scope_kind == "workers":
        where.add(
            "list_contains($scope_workers::VARCHAR[], coder_a) "
            "AND list_contains($scope_workers::VARCHAR[], coder_b)",
            scope_workers=list(data.viewer.workers),
        )
    return data.frame(
        "SELECT coder_a, coder_b, n_shared_units, percent_agreement, cohen_kappa "
        f"FROM mart_quality_pairwise {where.sql} ORDER BY coder_a, coder_b",
        where.params,
    )


def field_coders(data: ScopedData, field: FieldKey, filters: Filters) -> int:
    """Distinct annotators of one field in the chosen weeks (in the viewer's scope)."""
    where = _field(data, field, filters)
    found = data.frame(
        "SELECT count(DISTINCT worker_id)::BIGINT AS coders "
        f"FROM mart_quality_annotators {where.sql}",
        where.params,
    )
    return int(found["coders"][0])


def field_suppressed(data: ScopedData, field: FieldKey, filters: Filters) -> bool:
    """For viewers who see aggregates only, whether fewer than `min_group_size` annotators are
    behind the figures."""
    if not data.suppresses_small_groups:
        return False
    return field_coders(data, field, filters) < data.min_group_size


def detail_table(
    builder: Callable[[ScopedData, Filters, FieldKey], pl.DataFrame],
) -> Callable[[ScopedData, Filters], pl.DataFrame]:
    """A download builder for the field in focus (the URL's, else the most answered one)."""

    def build(data: ScopedData, filters: Filters) -> pl.DataFrame:
        field = FieldKey.from_focus(filters.focus)
        if field is None:
            fields = quality_fields(data, filters)
            field = field_key(fields.row(0, named=True)) if fields.height else None
        return builder(data, filters, field) if field else pl.DataFrame()

    return build


def _quality_projects(data: ScopedData, filters: Filters) -> Where:
    data.ensure("quality")
    return data.scope(filters, day=None, worker=None)


def _field(data: ScopedData, field: FieldKey, filters: Filters, worker: str | None = None) -> Where:
    """The viewer's scope, one field and the weeks the date range touches."""
    if worker is None:
        where = _quality_projects(data, filters)
    else:
        where = data.scope(filters, day=None, worker=worker)
    _one_field(where, field)
    if filters.start:
        where.add("week >= date_trunc('week', $start::DATE)", start=filters.start)
    if filters.end:
        where.add("week <= $end", end=filters.end)
    return where


def _one_field(where: Where, field: FieldKey) -> None:
    where.add(
        "platform = $platform AND project_id = $project_id AND field = $field",
        platform=field.platform,
        project_id=field.project_id,
        field=field.field,
    )


def _field_aggregate(data: ScopedData, field: FieldKey, filters: Filters) -> Where:
    """`_field`, matching no row when the viewer would see a group that is too small."""
    where = _field(data, field, filters)
    if field_suppressed(data, field, filters):
        where.add("false")
    return where
