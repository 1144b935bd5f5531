"""Review fairness: rejection rate by annotator group, overall and among submissions whose gold
answer was correct, and the same within each reviewer's reviews.

A group rejected more often overall may simply do worse work; a group rejected more often for
work that was *correct on gold* is what reviewer bias looks like. Units are workers: a group's
rate is its rejected / reviewed submissions, intervals resample workers within groups, and the
tests shuffle group labels across workers (so one prolific worker cannot make a group).

Input: `reviews`, one row per reviewed assignment with `worker_id`, `reviewer_id`, `status`
(`approved` or `rejected`; other statuses are not reviewed and take no part) and `gold_correct`
(true or false where the assignment answered gold, else null); a row may stand for `count`
such assignments (`metrics.fairness.findings.COUNT`); `attributes` as for pay equity.

>>> reviews = pl.DataFrame({"worker_id": list("aabbcd"), "reviewer_id": ["r"] * 6,
...     "status": ["rejected", "approved", "approved", "approved", "rejected", "approved"],
...     "gold_correct": [True, True, None, True, False, True]})
>>> people = pl.DataFrame({"worker_id": list("abcd"), "team": list("xxyy")})
>>> found = review_fairness(reviews, people, "team", "y",
...                         settings=AuditSettings(50, 50, min_group_size=1))
>>> [(f.group, f.estimate) for f in found if f.measure == "rejection_rate_gold_correct"]
[('x', 0.3333333333333333), ('y', 0.0)]
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from metrics.fairness.findings import (
    COUNT,
    AuditSettings,
    Finding,
    counted,
    interval_text,
    measure_name,
    measure_scope,
    rounded,
    with_groups,
)
from metrics.fairness.group_compare import Comparison, compare_unit_rates, comparison_findings
from metrics.fairness.privacy import published

AUDIT = "review_fairness"
REVIEWED = ("approved", "rejected")
# A reviewer is audited on their own when they reviewed at least this many gold-correct
# submissions (fewer cannot show a difference between groups, only noise).
MIN_REVIEWER_REVIEWS = 20


def review_fairness(
    reviews: pl.DataFrame,
    attributes: pl.DataFrame,
    attribute: str,
    reference: str | None = None,
    *,
    settings: AuditSettings = AuditSettings(),
    min_reviewer_reviews: int = MIN_REVIEWER_REVIEWS,
) -> list[Finding]:
    """Findings of one attribute: per group `rejection_rate` and `rejection_rate_gold_correct`,
    with each group's `..._difference` to the reference (rate minus the reference's rate); then
    the gold-correct rate and difference within each reviewer's reviews
    (`rejection_rate_gold_correct@reviewer=R`), Holm-adjusted over all reviewers and groups."""
    # counts per reviewer, worker and gold-correctness first: every comparison below sums them
    counts = (
        with_groups(
            counted(reviews.filter(pl.col("status").is_in(REVIEWED))), attributes, attribute
        )
        .group_by(
            pl.col("reviewer_id").cast(pl.String),
            "worker_id",
            "group",
            pl.col("gold_correct").fill_null(False),
        )
        .agg(
            rejected=((pl.col("status") == "rejected").cast(pl.Int64) * pl.col(COUNT)).sum(),
            reviewed=pl.col(COUNT).sum(),
        )
    )
    rejected, reviewed = pl.col("rejected"), pl.col("reviewed")

    def compare(rows: pl.DataFrame, ref: str | None) -> Comparison:
        return compare_unit_rates(rows, "worker_id", "group", rejected, reviewed, ref, settings)

    overall = compare(counts, reference)
    found = comparison_findings(
        overall, AUDIT, attribute, "rejection_rate", difference="rejection_rate_difference"
    )
    correct, ref = counts.filter(pl.col("gold_correct")), overall.reference
    if correct.height:
        level = "rejection_rate_gold_correct"
        difference = f"{level}_difference"
        found += comparison_findings(compare(correct, ref), AUDIT, attribute, level, difference)
    by_reviewer = correct.group_by("reviewer_id").agg(reviewed.sum())
    chosen = by_reviewer.filter(reviewed >= min_reviewer_reviews)["reviewer_id"]
    for reviewer in sorted(chosen.to_list()):
        mine = correct.filter(pl.col("reviewer_id") == reviewer)
        if ref not in mine["group"].to_list() or mine["group"].n_unique() < 2:
            continue
        level = f"rejection_rate_gold_correct@reviewer={reviewer}"
        difference = f"rejection_rate_gold_correct_difference@reviewer={reviewer}"
        found += comparison_findings(compare(mine, ref), AUDIT, attribute, level, difference)
    return published(found, settings, _flag_and_explain)


def _flag_and_explain(f: Finding, alpha: float) -> Finding:
    """Flag a significant difference in rejection rates: among gold-correct work it is named a
    reviewer-bias signal, overall a rejection gap."""
    name, scope = measure_name(f.measure), measure_scope(f.measure)
    where = f" by {scope.replace('=', ' ')}" if scope else ""
    among = " of gold-correct work" if "gold_correct" in name else ""
    if f.reference is None:
        reason = f"rejection rate{among}{where} of '{f.group}': {rounded(f.estimate)} over {f.n} "
        return replace(f, reason=reason + f"workers {interval_text(f)}")
    flag = None
    if f.estimate is not None and f.p_adjusted is not None and f.p_adjusted < alpha:
        flag = "reviewer_bias" if among else "rejection_gap"
    reason = (
        f"rejection rate{among}{where} of '{f.group}' minus '{f.reference}': "
        f"{rounded(f.estimate)} {interval_text(f)}"
    )
    way = "more" if f.estimate is not None and f.estimate > 0 else "less"
    if flag == "reviewer_bias":
        reason += f"; correct work rejected {way} often than the reference's: "
        reason += "a reviewer-bias signal"
    elif flag:
        reason += f"; work rejected {way} often than the reference's"
    return replace(f, flag=flag, reason=reason)
