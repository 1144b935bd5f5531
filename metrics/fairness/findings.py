"""A finding of a fairness audit, the shape of every `crowdmeter audit --json` object, and the
steps every audit shares: groups named, the reference chosen, Holm's correction applied.

>>> f = Finding("pay_equity", "gender", "f", "m", "median_ratio", 0.9, 0.8, 1.0, 0.04, None, 12,
...             None, "")
>>> [x.p_adjusted for x in holm_within([f, replace(f, group="x", p_value=0.01)])]
[0.04, 0.02]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields, replace

import polars as pl

AUDITS = ("pay_equity", "review_fairness", "label_bias", "workload")
# A missing or empty answer is a group of its own: never dropped, never guessed.
NOT_STATED = "not stated"
# The group of rows that describe everyone (a total beside the groups).
ALL_GROUPS = "all"
# An input row may stand for several identical rows (counted in SQL before they reach Python):
# how many is its `count` column; without the column, each row is one.
COUNT = "count"


@dataclass(frozen=True)
class Finding:
    """One figure of one group in one audit, with its interval, its test and its flag.

    `reference` is the group it is compared with (None for a group's own level); `n` the units
    behind it (workers, or items for data-subject groups); `flag` names the rule it trips
    (None when it trips none); `reason` says it in one line.
    """

    audit: str
    attribute: str
    group: str
    reference: str | None
    measure: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None
    n: int | None
    flag: str | None
    reason: str


@dataclass(frozen=True)
class AuditSettings:
    """How an audit draws and decides: bootstrap resamples and permutations (both from `seed`),
    the confidence of intervals, the level `alpha` a Holm-adjusted p-value must be under for a
    flag, and the smallest group shown (`min_group_size`, in units: workers or items)."""

    samples: int = 1000
    permutations: int = 1000
    seed: int = 0
    confidence: float = 0.95
    alpha: float = 0.05
    min_group_size: int = 5


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Finding))
SCHEMA = pl.Schema(
    {
        "audit": pl.String,
        "attribute": pl.String,
        "group": pl.String,
        "reference": pl.String,
        "measure": pl.String,
        "estimate": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "p_value": pl.Float64,
        "p_adjusted": pl.Float64,
        "n": pl.Int64,
        "flag": pl.String,
        "reason": pl.String,
    }
)


def findings_frame(findings: Iterable[Finding]) -> pl.DataFrame:
    """Findings as a frame with one column per field, in `FIELDS` order and `SCHEMA` types.

    >>> findings_frame([]).columns == list(FIELDS)
    True
    """
    return pl.DataFrame([asdict(f) for f in findings], schema=SCHEMA)


def group_table(findings: Iterable[Finding]) -> pl.DataFrame:
    """Findings as one row per audit, attribute and group: `n`, then per measure its estimate
    (column `measure`), `measure_ci_low`, `measure_ci_high` and, for comparisons with the
    reference, `measure_p_adjusted`: the table of `crowdmeter audit labels`.

    >>> f = Finding("label_bias", "skin", "d", None, "accuracy", 0.9, 0.8, 0.95, None, None, 40,
    ...             None, "")
    >>> group_table([f]).row(0)
    ('label_bias', 'skin', 'd', 40, 0.9, 0.8, 0.95)
    """
    keys = ["audit", "attribute", "group"]
    frame = findings_frame(findings).with_row_index("order")
    parts = ["estimate", "ci_low", "ci_high", "p_adjusted"]
    long = (
        frame.unpivot(
            on=parts, index=[*keys, "measure", "reference", "order"], variable_name="part"
        )
        .filter((pl.col("part") != "p_adjusted") | pl.col("reference").is_not_null())
        .with_columns(
            column=pl.when(pl.col("part") == "estimate")
            .then(pl.col("measure"))
            .otherwise(pl.col("measure") + "_" + pl.col("part"))
        )
        .sort("order", maintain_order=True)
    )
    wide = long.pivot("column", index=keys, values="value", aggregate_function="first")
    sizes = frame.group_by(keys, maintain_order=True).agg(pl.col("n").max())
    return sizes.join(wide, on=keys, how="left", maintain_order="left")


def group_labels(values: pl.Series) -> pl.Series:
    """Attribute answers as group names: text, with a missing or blank answer `NOT_STATED`.

    >>> group_labels(pl.Series(["f", None, " ", "m"])).to_list()
    ['f', 'not stated', 'not stated', 'm']
    """
    text = values.cast(pl.String).str.strip_chars()
    return (
        pl.select(pl.when(text.str.len_chars() > 0).then(text).otherwise(pl.lit(NOT_STATED)))
        .to_series()
        .alias(values.name)
    )


def counted(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with its `COUNT` column (1 for every row where it has none).

    >>> counted(pl.DataFrame({"x": ["a", "b"]}))[COUNT].to_list()
    [1, 1]
    """
    if COUNT in frame.columns:
        return frame.with_columns(pl.col(COUNT).cast(pl.Int64))
    return frame.with_columns(pl.lit(1, pl.Int64).alias(COUNT))


def with_groups(frame: pl.DataFrame, attributes: pl.DataFrame, attribute: str) -> pl.DataFrame:
    """`frame` (with `worker_id`) with each worker's `group` for `attribute`; workers without an
    answer, or missing from `attributes`, are `NOT_STATED`.

    >>> people = pl.DataFrame({"worker_id": ["a"], "age": ["old"]})
    >>> with_groups(pl.DataFrame({"worker_id": ["a", "b"]}), people, "age")["group"].to_list()
    ['old', 'not stated']
    """
    groups = attributes.select("worker_id", group_labels(attributes[attribute]).alias("group"))
    joined = frame.join(groups, on="worker_id", how="left", maintain_order="left")
    return joined.with_columns(pl.col("group").fill_null(NOT_STATED))


def reference_group(sizes: dict[str, int], given: str | None = None) -> str:
    """The group others are compared with: `given`, else the largest (ties: the first by name).

    >>> reference_group({"a": 3, "b": 7, "c": 7}), reference_group({"a": 3, "b": 7}, "a")
    ('b', 'a')
    """
    if given is not None:
        if given not in sizes:
            raise ValueError(
                f"Reference group {given!r} has no members; groups present: {sorted(sizes)}."
            )
        return given
    return min(sizes, key=lambda g: (-sizes[g], g))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's (1979) step-down adjustment of a family of p-values; None stays None.

    Sorted ascending, `p_(i)` becomes `max_{j <= i} min(1, (m - j + 1) p_(j))`, `m` the number
    of tests: the family-wise error rate stays at most the level, under any dependence.

    >>> holm([0.01, 0.04, 0.03, None])
    [0.03, 0.06, 0.06, None]
    """
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def conditionalized_holm(
    p_values: Sequence[float], threshold: float = 0.5
) -> tuple[list[float | None], list[float | None]]:
    """(conditionalized p-values, Holm-adjusted ones) of a family of one-sided tests of interval
    hypotheses (Ellis, Pecanka and Goeman 2020): p-values over `threshold` are discarded (None),
    the others divided by it, and Holm applied to those alone. Under independence the
    family-wise error rate stays at the level, since a true interval hypothesis away from its
    edge gives p-values larger than uniform, which the filter drops.

    >>> conditionalized_holm([0.001, 0.2, 0.9, 0.7])
    ([0.002, 0.4, None, None], [0.004, 0.4, None, None])
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"The conditionalization threshold must be in (0, 1], not {threshold}.")
    kept = [min(1.0, p / threshold) if p <= threshold else None for p in p_values]
    return kept, holm(kept)


def measure_name(measure: str) -> str:
    """A measure without its scope: `measure@scope` names one measure within a part of the data
    (one reviewer's reviews, one label), `measure` the measure over all of it.

    >>> measure_name("label_rate@label=cat"), measure_scope("label_rate@label=cat")
    ('label_rate', 'label=cat')
    """
    return measure.partition("@")[0]


def measure_scope(measure: str) -> str:
    """The scope of a measure (after '@'), '' for the whole data."""
    return measure.partition("@")[2]


def holm_within(findings: Sequence[Finding]) -> list[Finding]:
    """`findings` with `p_adjusted` by Holm within each family: the groups of one attribute
    compared on one measure in one audit, over all its scopes (every reviewer, every label).

    (The doctest at the top of the module shows two groups of one family.)
    """
    families: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i, f in enumerate(findings):
        families[(f.audit, f.attribute, measure_name(f.measure))].append(i)
    out = list(findings)
    for members in families.values():
        adjusted = holm([findings[i].p_value for i in members])
        for i, p in zip(members, adjusted, strict=True):
            out[i] = replace(findings[i], p_adjusted=p)
    return out


def rounded(x: float | None, digits: int = 3) -> str:
    """A figure for a reason line: `digits` significant digits, or 'n/a'.

    >>> rounded(0.123456), rounded(None)
    ('0.123', 'n/a')
    """
    return "n/a" if x is None else f"{x:.{digits}g}"


def interval_text(f: Finding) -> str:
    """The interval and the adjusted p-value of a finding, as a reason line ends.

    >>> interval_text(Finding("a", "b", "c", None, "m", 1.0, 0.5, 1.5, 0.01, 0.02, 9, None, ""))
    '(CI 0.5 to 1.5, p_adj 0.02)'
    """
    text = f"CI {rounded(f.ci_low)} to {rounded(f.ci_high)}"
    if f.p_adjusted is not None:
        text += f", p_adj {rounded(f.p_adjusted, 2)}"
    return f"({text})"


def flag_counts(findings: pl.DataFrame) -> tuple[int, int]:
    """(tests, flagged) among published findings (a frame of `FIELDS`): a test is a finding
    with an adjusted p-value or a flag other than "suppressed"; flagged, one with such a flag.
    With no effect in the data, flagged / tests is what docs/METRICS.md bounds by `alpha`.

    >>> rows = [Finding("w", "g", "a", "b", "m", 1.0, 0, 2, 0.01, p, 9, f, "")
    ...         for p, f in [(0.02, "gap"), (0.5, None), (None, "suppressed"), (None, None)]]
    >>> flag_counts(findings_frame(rows))
    (2, 1)
    """
    flagged = pl.col("flag").is_not_null() & (pl.col("flag") != "suppressed")
    tests = findings.filter(pl.col("p_adjusted").is_not_null() | flagged)
    return tests.height, tests.filter(flagged).height
