"""Label bias: how labels differ by the group of the data subject (an item's attributes) and by
the group of the annotator, against gold where there is gold.

Input: `answers`, one row per answer with `item_id`, `worker_id`, `value`, `gold` (where the item
has a gold answer, else null) and the group column named by `attribute`; a row may stand for
`count` identical answers (`metrics.fairness.findings.COUNT`). For data-subject groups
the unit of resampling and of permutation is the item; for annotator groups it is the worker.
Error rates are Aequitas' (Saleiro et al. 2018): each group's rate, its difference and its
ratio (disparity) to the reference group, a disparity outside [0.8, 1.25] being unfair.

>>> answers = pl.DataFrame({"item_id": [1, 2, 3, 4], "worker_id": list("wwww"),
...     "value": ["y", "y", "n", "y"], "gold": ["y", "n", "n", "n"], "skin": list("ddll")})
>>> found = error_rates(answers, "skin", "y", "l", settings=AuditSettings(20, 20, min_group_size=1))
>>> [(f.group, f.estimate) for f in found if f.measure == "false_positive_rate"]
[('d', 1.0), ('l', 0.5)]
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
from scipy.stats import chi2

from metrics.fairness.findings import (
    ALL_GROUPS,
    COUNT,
    AuditSettings,
    Finding,
    counted,
    group_labels,
    interval_text,
    measure_name,
    rounded,
)
from metrics.fairness.group_compare import (
    compare_rates,
    compare_unit_rates,
    comparison_findings,
    group_sums,
    unit_sums,
)
from metrics.fairness.privacy import published
from metrics.resampling import permuted_labels

AUDIT = "label_bias"
# Aequitas' default fairness threshold: a disparity in [0.8, 1/0.8] is fair.
DISPARITY_THRESHOLD = 0.8
# Error rates against gold: numerator and denominator per answer, from `pred` (the answer names
# the positive label) and `true` (gold does).
PRED, TRUE = pl.col("value") == pl.col("positive"), pl.col("gold") == pl.col("positive")
ERROR_RATES = {
    "selection_rate": (PRED, pl.lit(True)),
    "false_positive_rate": (PRED & ~TRUE, ~TRUE),
    "false_negative_rate": (~PRED & TRUE, TRUE),
    "accuracy": (PRED == TRUE, pl.lit(True)),
}


def error_rates(
    answers: pl.DataFrame,
    attribute: str,
    positive: str | None = None,
    reference: str | None = None,
    *,
    unit: str = "item_id",
    settings: AuditSettings = AuditSettings(),
) -> list[Finding]:
    """Per group, over answers with gold: `selection_rate` (answers naming `positive`),
    `false_positive_rate` (FP / gold negatives), `false_negative_rate` (FN / gold positives)
    and `accuracy`; for each other group `..._difference` and `..._ratio` to the reference.
    Values compare as text; `positive` defaults to the last of two labels sorted."""
    graded = _grouped(answers, attribute).filter(
        pl.col("gold").is_not_null() & pl.col("value").is_not_null()
    )
    graded = graded.with_columns(pl.col("value", "gold").cast(pl.String))
    positive = positive if positive is not None else _positive(graded)
    graded = graded.with_columns(positive=pl.lit(str(positive)))
    sums = {f"{name}/{part}": _weighted(expr) for name, pair in ERROR_RATES.items()
            for part, expr in zip(("num", "den"), pair, strict=True)}  # fmt: skip
    per_unit = unit_sums(graded, unit, "group", sums)
    groups = per_unit["group"].cast(pl.String).to_list()
    found: list[Finding] = []
    for name in ERROR_RATES:
        num, den = (per_unit[f"{name}/{part}"].to_numpy() for part in ("num", "den"))
        c = compare_rates(num, den, groups, reference, settings)
        reference = c.reference
        found += comparison_findings(
            c, AUDIT, attribute, name, f"{name}_difference", f"{name}_ratio"
        )
    return published(found, settings, _flag_and_explain)


def label_rates(
    answers: pl.DataFrame,
    attribute: str,
    reference: str | None = None,
    *,
    unit: str = "item_id",
    settings: AuditSettings = AuditSettings(),
) -> list[Finding]:
    """Per group and label L: `label_rate@label=L`, the share of answers naming L, with each
    other group's difference and ratio to the reference (Holm over all labels and groups)."""
    rows = _grouped(answers, attribute).with_columns(pl.col("value").cast(pl.String))
    labels = sorted(rows["value"].drop_nulls().unique().to_list())
    hits = {f"hits/{label}": _weighted((pl.col("value") == label).fill_null(False))
            for label in labels}  # fmt: skip
    per_unit = unit_sums(rows, unit, "group", {**hits, "answers": pl.col(COUNT)})
    groups, answered = per_unit["group"].cast(pl.String).to_list(), per_unit["answers"].to_numpy()
    found: list[Finding] = []
    for label in labels:
        c = compare_rates(per_unit[f"hits/{label}"].to_numpy(), answered, groups, reference,
                          settings)  # fmt: skip
        reference = c.reference
        name = f"label_rate@label={label}"
        found += comparison_findings(
            c,
            AUDIT,
            attribute,
            name,
            name.replace("@", "_difference@"),
            name.replace("@", "_ratio@"),
        )
    return published(found, settings, _flag_and_explain)


def majority_agreement(
    answers: pl.DataFrame,
    attribute: str,
    reference: str | None = None,
    *,
    settings: AuditSettings = AuditSettings(),
) -> list[Finding]:
    """Per annotator group: `majority_agreement`, the share of answers equal to the majority of
    the *other* answers on the item, and each other group's difference and ratio to the
    reference. Answers on items with no other answer, or whose other answers tie, do not count.

    >>> answers = pl.DataFrame({"item_id": [1, 1, 1, 2, 2, 2], "worker_id": list("abcabc"),
    ...                         "value": list("xxyxxx"), "team": list("ppqppq")})
    >>> found = majority_agreement(answers, "team", "p", settings=AuditSettings(
    ...     10, 10, min_group_size=1))
    >>> [(f.group, f.estimate) for f in found if f.measure == "majority_agreement"]
    [('p', 1.0), ('q', 0.5)]
    """
    rows = _grouped(answers, attribute).with_columns(pl.col("value").cast(pl.String))
    rows = rows.filter(pl.col("value").is_not_null())
    scored = rows.join(others_majority(rows), on=["item_id", "value"], how="left")
    agree, scored_answers = _weighted(pl.col("agree")), _weighted(pl.col("counted"))
    c = compare_unit_rates(scored, "worker_id", "group", agree, scored_answers, reference, settings)
    found = comparison_findings(
        c,
        AUDIT,
        attribute,
        "majority_agreement",
        "majority_agreement_difference",
        "majority_agreement_ratio",
    )
    return published(found, settings, _flag_and_explain)


def others_majority(answers: pl.DataFrame) -> pl.DataFrame:
    """Per item and label: whether an answer with that label is `counted` (its item's other
    answers have one most frequent label) and whether it `agree`s with them.

    From the item's label counts alone: the others of an answer with label `L` count `c_L - 1`
    for `L` and `c_K` for every other label. With `top` the highest count, `n_top` the labels
    that have it and `second` the highest below it: an answer of the one top label agrees when
    `top - 1 > second` (when equal, the others tie, or there are none); an answer of one of two
    top labels disagrees with the other one; any other answer disagrees when one label is on
    top, and the others tie when several are.

    >>> answers = pl.DataFrame({"item_id": [1, 1, 1, 2], "value": ["x", "x", "y", "x"]})
    >>> others_majority(answers).sort("item_id", "value").rows()
    [(1, 'x', False, False), (1, 'y', True, False), (2, 'x', False, False)]
    """
    counts = counted(answers).group_by("item_id", "value").agg(pl.col(COUNT).sum())
    count, top = pl.col("count"), pl.col("top")
    # the top count first, as a column: a window nested in another's filter is slow
    ranked = counts.with_columns(top=count.max().over("item_id")).with_columns(
        n_top=(count == top).sum().over("item_id"),
        second=pl.when(count < top).then(count).max().over("item_id").fill_null(0),
    )
    own_top, single = count == top, pl.col("n_top") == 1
    beyond_second = top - 1 > pl.col("second")
    return ranked.select(
        "item_id",
        "value",
        counted=pl.when(own_top & single)
        .then(beyond_second)
        .when(own_top)
        .then(pl.col("n_top") == 2)
        .otherwise(single),
        agree=own_top & single & beyond_second,
    )


def label_distribution(
    answers: pl.DataFrame, attribute: str, *, settings: AuditSettings = AuditSettings()
) -> list[Finding]:
    """One finding: whether the distribution of labels differs between annotator groups.

    `estimate` is Cramer's V of the group x label table, `sqrt(X^2 / (N (min(G, L) - 1)))`,
    `X^2` Pearson's chi-square; `p_value` is a permutation test of `X^2` shuffling groups across
    workers (the asymptotic chi-square test treats answers as independent, and one worker's
    answers are not: it would flag a group for one eccentric member).
    """
    rows = _grouped(answers, attribute).with_columns(pl.col("value").cast(pl.String))
    per_worker = (
        rows.filter(pl.col("value").is_not_null())
        .group_by("worker_id", "group", "value")
        .agg(len=pl.col(COUNT).sum())
        .pivot("value", index=["worker_id", "group"], values="len")
        .fill_null(0)
        .sort("worker_id")
    )
    labels = sorted(c for c in per_worker.columns if c not in ("worker_id", "group"))
    if not labels:
        return []
    counts = per_worker.select(labels).to_numpy().astype(np.float64)
    groups, codes = np.unique(per_worker["group"].to_numpy().astype(str), return_inverse=True)
    table = np.stack([np.bincount(codes, counts[:, k], len(groups)) for k in range(len(labels))], 1)
    statistic = _chi_square(table[None])[0]
    hits = 0
    for permuted in permuted_labels(codes, settings.permutations, settings.seed):
        tables = np.stack(
            [group_sums(permuted, counts[:, k], len(groups)) for k in range(len(labels))], axis=2
        )
        hits += int((_chi_square(tables) >= statistic * (1 - 1e-9)).sum())
    p = (1 + hits) / (1 + settings.permutations)
    dof = (len(groups) - 1) * (len(labels) - 1)
    smaller = min(len(groups), len(labels)) - 1
    v = float(np.sqrt(statistic / (table.sum() * smaller))) if smaller > 0 else None
    asymptotic = float(chi2.sf(statistic, dof)) if dof > 0 else None
    reason = (
        f"label distribution across {len(groups)} annotator groups: chi-square "
        f"{rounded(statistic)} on {dof} df (asymptotic p {rounded(asymptotic, 2)}), "
        f"Cramer's V {rounded(v)}"
    )
    finding = Finding(
        AUDIT,
        attribute,
        ALL_GROUPS,
        None,
        "label_distribution",
        v,
        None,
        None,
        p,
        None,
        len(codes),
        None,
        reason,
    )
    return published([finding], settings, _flag_distribution)


def _chi_square(tables: np.ndarray) -> np.ndarray:
    """Pearson's X^2 of each table of a stack (tables x groups x labels); empty cells of the
    expected table take no part."""
    total = tables.sum(axis=(1, 2), keepdims=True)
    expected = tables.sum(axis=2, keepdims=True) * tables.sum(axis=1, keepdims=True) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(expected > 0, (tables - expected) ** 2 / expected, 0.0)
    return cells.sum(axis=(1, 2))


def _grouped(answers: pl.DataFrame, attribute: str) -> pl.DataFrame:
    """`answers` with their `group` and their `count`."""
    return counted(answers).with_columns(group_labels(answers[attribute]).alias("group"))


def _weighted(per_answer: pl.Expr) -> pl.Expr:
    """A per-answer number (or truth) times the answers a row stands for."""
    return per_answer.cast(pl.Int64) * pl.col(COUNT)


def _positive(graded: pl.DataFrame) -> str:
    labels = sorted(set(graded["value"].drop_nulls()) | set(graded["gold"].drop_nulls()))
    if len(labels) != 2:
        raise ValueError(
            f"Name the positive label: the answers have {len(labels)} labels "
            f"({labels[:10]}), error rates need one of them as positive."
        )
    return labels[1]


def _flag_distribution(f: Finding, alpha: float) -> Finding:
    if f.p_adjusted is not None and f.p_adjusted < alpha:
        return replace(
            f,
            flag="label_distribution_differs",
            reason=f.reason + f" (p_adj {rounded(f.p_adjusted, 2)}): the groups label differently",
        )
    return replace(f, reason=f.reason + f" (p_adj {rounded(f.p_adjusted, 2)})")


def _flag_and_explain(f: Finding, alpha: float) -> Finding:
    """Flag a significant disparity (ratio to the reference) outside Aequitas' fair band."""
    name, label = measure_name(f.measure), f.measure.partition("label=")[2]
    what = name.replace("_", " ").replace("label rate", f"rate of label '{label}'")
    if f.reference is None:
        return replace(
            f, reason=f"{what} for '{f.group}': {rounded(f.estimate)} over {f.n} {interval_text(f)}"
        )
    flag = None
    significant = f.p_adjusted is not None and f.p_adjusted < alpha
    if name.endswith("_ratio") and significant and f.estimate is not None:
        band = (DISPARITY_THRESHOLD, 1 / DISPARITY_THRESHOLD)
        flag = None if band[0] <= f.estimate <= band[1] else "disparity"
    reason = f"{what} of '{f.group}' to '{f.reference}': {rounded(f.estimate)} {interval_text(f)}"
    if flag:
        reason += f"; outside the fair band {DISPARITY_THRESHOLD} to {1 / DISPARITY_THRESHOLD:g}"
    return replace(f, flag=flag, reason=reason)
