"""Pay equity per attribute: effective wage by group, ratio and gap to a reference group, the
gap left after controls, with worker-level intervals, permutation tests and Holm's correction.

Input: `cells`, pay-ledger rows at any grain finer than the worker (worker x platform x project
x task type is the usual one) with `worker_id`, `earnings`, `hours` and the controls present
among `CONTROLS`; and `attributes`, one row per worker with `worker_id` and one column per
attribute (missing answers are the group "not stated").

>>> cells = pl.DataFrame({"worker_id": list("abcdefgh"), "earnings": [10., 12, 11, 9, 8, 9,
...                       10, 7], "hours": [1.0] * 8, "task_type": ["t", "u"] * 4})
>>> people = pl.DataFrame({"worker_id": list("abcdefgh"), "gender": list("mmmmffff")})
>>> found = pay_equity(cells, people, "gender", "m",
...                    settings=AuditSettings(200, 200, min_group_size=2))
>>> [(f.group, round(f.estimate, 3)) for f in found if f.measure == "mean_gap"]
[('f', 0.19)]
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import polars as pl
import statsmodels.api as sm

from metrics.fairness.findings import (
    AuditSettings,
    Finding,
    group_labels,
    interval_text,
    rounded,
    with_groups,
)
from metrics.fairness.group_compare import (
    compare_medians,
    compare_rates,
    comparison_findings,
    finite,
)
from metrics.fairness.privacy import published

AUDIT = "pay_equity"
# Controls of the adjusted gap: categories (one indicator per level but the first) ...
CATEGORICAL_CONTROLS = ("platform", "task_type", "project_id")
# ... and numbers (days since the worker's first task; share of time in fragmented sessions).
NUMERIC_CONTROLS = ("tenure_days", "fragmented_share")
CONTROLS = CATEGORICAL_CONTROLS + NUMERIC_CONTROLS
# Four-fifths rule (US EEOC Uniform Guidelines, 1978): a ratio under 0.8 is adverse impact.
FOUR_FIFTHS = 0.8
# EU Pay Transparency Directive (2023/970) art. 10: a gap of 5% or more not justified by
# objective, gender-neutral criteria calls for a joint pay assessment.
GAP_THRESHOLD = 0.05
RATIOS = {"median_ratio": "median_gap", "mean_ratio": "mean_gap"}


def worker_wages(cells: pl.DataFrame) -> pl.DataFrame:
    """Per worker with hours: earnings, hours and effective wage = earnings / hours.

    >>> worker_wages(pl.DataFrame({"worker_id": ["a", "a", "b"], "earnings": [3.0, 1.0, 2.0],
    ...                            "hours": [1.0, 1.0, 0.0]})).rows()
    [('a', 4.0, 2.0, 2.0)]
    """
    return (
        cells.group_by("worker_id")
        .agg(pl.col("earnings").sum(), pl.col("hours").sum())
        .filter(pl.col("hours") > 0)
        .with_columns(effective_wage=pl.col("earnings") / pl.col("hours"))
        .sort("worker_id")
    )


def pay_equity(
    cells: pl.DataFrame,
    attributes: pl.DataFrame,
    attribute: str,
    reference: str | None = None,
    *,
    settings: AuditSettings = AuditSettings(),
    controls: tuple[str, ...] = CONTROLS,
) -> list[Finding]:
    """Findings of one attribute: per group `median_wage` and `mean_wage`; per group other than
    the reference `median_ratio`, `mean_ratio`, `median_gap`, `mean_gap` (raw gap = 1 - ratio)
    and `adjusted_gap`; p-values Holm-adjusted across the groups, flags set, small groups
    suppressed."""
    # Sums and the regression in one row order, so that results depend on the seed only.
    cells = cells.sort(cells.columns)
    wages = with_groups(worker_wages(cells), attributes, attribute)
    wage, group = wages["effective_wage"].to_numpy(), wages["group"].to_list()
    medians = compare_medians(wage, group, reference, settings)
    means = compare_rates(wage, np.ones(len(wage)), group, reference, settings)
    found = comparison_findings(medians, AUDIT, attribute, "median_wage", ratio="median_ratio")
    found += comparison_findings(means, AUDIT, attribute, "mean_wage", ratio="mean_ratio")
    found += [_gap(f) for f in found if f.measure in RATIOS]
    used = [c for c in controls if c in cells.columns]
    groups = wages.select("worker_id", "group")
    found += adjusted_gaps(cells, groups, attribute, medians.reference, used, settings.confidence)
    return published(found, settings, _flag_and_explain)


def adjusted_gaps(
    cells: pl.DataFrame,
    groups: pl.DataFrame,
    attribute: str,
    reference: str,
    controls: list[str],
    confidence: float = 0.95,
) -> list[Finding]:
    """`adjusted_gap` of each group but the reference: `1 - exp(b_g)`, `b_g` the group's
    coefficient in a weighted least-squares regression of log(earnings / hours) of each cell on
    group indicators and `controls`, weighted by hours, with standard errors clustered by
    worker (t with clusters - 1 degrees of freedom). Cells without earnings (log undefined) and
    with a missing control take no part."""
    rows = cells.join(groups, on="worker_id", how="inner").filter(
        (pl.col("hours") > 0) & (pl.col("earnings") > 0)
    )
    rows = rows.drop_nulls([c for c in controls if c in NUMERIC_CONTROLS])
    levels = sorted(set(rows["group"].to_list()) - {reference})
    if not levels or reference not in rows["group"].to_list():
        return []
    group = rows["group"].to_numpy()
    columns = [np.ones(rows.height)] + [(group == g).astype(np.float64) for g in levels]
    for name in controls:
        if name in NUMERIC_CONTROLS:
            columns.append(rows[name].cast(pl.Float64).to_numpy())
        else:
            _, codes = np.unique(
                rows[name].cast(pl.String).fill_null("").to_numpy(), return_inverse=True
            )
            columns += [(codes == k).astype(np.float64) for k in range(1, codes.max() + 1)]
    y = np.log(rows["earnings"].to_numpy() / rows["hours"].to_numpy())
    clusters = np.unique(rows["worker_id"].to_numpy(), return_inverse=True)[1]
    with warnings.catch_warnings():  # a group of one worker has no variance: NaN, said below
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = sm.WLS(y, np.column_stack(columns), weights=rows["hours"].to_numpy()).fit(
            cov_type="cluster", cov_kwds={"groups": clusters}, use_t=True
        )
        bounds = fit.conf_int(alpha=1 - confidence)
    workers = rows.group_by("group").agg(pl.col("worker_id").n_unique())
    n = dict(workers.iter_rows())
    out = []
    for j, g in enumerate(levels, start=1):
        low, high = 1 - np.exp(bounds[j, 1]), 1 - np.exp(bounds[j, 0])
        out.append(
            Finding(
                AUDIT,
                attribute,
                g,
                reference,
                "adjusted_gap",
                *finite(1 - np.exp(fit.params[j]), low, high, fit.pvalues[j]),
                None,
                int(n[g]),
                None,
                "",
            )
        )
    return out


def intersection(
    attributes: pl.DataFrame, first: str, second: str, min_group_size: int = 5
) -> pl.DataFrame | None:
    """`attributes` with the intersection of two attributes as a column `first x second`
    (groups like `f & 30-39`), or None when a cell has fewer than `min_group_size` workers.

    >>> people = pl.DataFrame({"worker_id": list("abcd"), "g": list("mmff"), "a": list("yoyo")})
    >>> intersection(people, "g", "a", min_group_size=1)["g x a"].to_list()
    ['m & y', 'm & o', 'f & y', 'f & o']
    >>> intersection(people, "g", "a", min_group_size=2) is None
    True
    """
    name = f"{first} x {second}"
    both = attributes.with_columns(
        pl.concat_str(
            group_labels(attributes[first]), pl.lit(" & "), group_labels(attributes[second])
        ).alias(name)
    )
    smallest = both.group_by(name).agg(pl.col("worker_id").n_unique())["worker_id"].min()
    return both if smallest is not None and smallest >= min_group_size else None


def _gap(ratio: Finding) -> Finding:
    """The raw gap of a ratio finding: 1 - ratio, its interval turned round."""
    flip = [None if x is None else 1 - x for x in (ratio.estimate, ratio.ci_high, ratio.ci_low)]
    return replace(
        ratio, measure=RATIOS[ratio.measure], estimate=flip[0], ci_low=flip[1], ci_high=flip[2]
    )


def _flag_and_explain(f: Finding, alpha: float) -> Finding:
    """Flag a significant ratio beyond the four-fifths rule (either way round) or a significant
    gap of 5% or more (either way), and say what the figure is in one line."""
    significant = f.p_adjusted is not None and f.p_adjusted < alpha
    what = f.measure.replace("_", " ")
    if f.reference is None:
        kind = "median" if f.measure == "median_wage" else "mean"
        return replace(
            f,
            reason=f"{kind} effective wage of '{f.group}': {rounded(f.estimate)} "
            f"per hour over {f.n} workers {interval_text(f)}",
        )
    flag = None
    if f.estimate is not None and significant:
        if f.measure in RATIOS and not FOUR_FIFTHS <= f.estimate <= 1 / FOUR_FIFTHS:
            flag = "four_fifths"
        elif f.measure not in RATIOS and abs(f.estimate) >= GAP_THRESHOLD:
            flag = "pay_gap_5pct"
    reason = f"{what} of '{f.group}' to '{f.reference}': {rounded(f.estimate)} {interval_text(f)}"
    if flag == "four_fifths":
        reason += f"; beyond the four-fifths rule ({FOUR_FIFTHS})"
    elif flag:
        reason += f"; {GAP_THRESHOLD:.0%} or more (EU pay transparency directive)"
    return replace(f, flag=flag, reason=reason)
