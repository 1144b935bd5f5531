"""Groups of units compared with a reference group: each group's level with a bootstrap
interval, its difference and ratio to the reference with intervals, and a permutation p-value.

A unit (a worker, an item) carries a numerator and a denominator; a group's level is the ratio of
their sums (a rate: rejected / reviewed; a mean: wage / 1), or the median of unit values. Intervals
resample units within their group (`resample_indices` per group, so each group keeps its size); the
p-value shuffles group labels across units (`permuted_labels`) and counts how often the difference
to the reference is at least as large as observed, both ways, as `(1 + hits) / (1 + permutations)`
(Phipson and Smyth 2010).

>>> c = compare_rates(np.array([1, 0, 0, 1, 1, 1.]), np.ones(6), ["a"] * 3 + ["b"] * 3, "b",
...                   AuditSettings(samples=200, permutations=200))
>>> c.groups, c.value.round(3).tolist(), c.difference.round(3).tolist()
(['a', 'b'], [0.333, 1.0], [-0.667, 0.0])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from metrics.fairness.findings import AuditSettings, Finding, reference_group
from metrics.resampling import (
    percentile_intervals,
    permuted_class_tables,
    permuted_labels,
    resample_class_counts,
    resample_indices,
)

# Relative tolerance when a permuted difference ties the observed one (floating-point sums of
# the same numbers in another order).
TIE_TOLERANCE = 1e-9
# Rates draw classes of interchangeable units instead of units when there are at most this
# many classes, and at least this many units per class.
MAX_CLASSES, UNITS_PER_CLASS = 2000, 4


@dataclass(frozen=True)
class Comparison:
    """Per group (in `groups` order): units, level, difference and ratio to the reference, each
    with its percentile interval, and the two-sided permutation p-value (NaN for the reference).
    """

    groups: list[str]
    reference: str
    n: np.ndarray
    value: np.ndarray
    value_low: np.ndarray
    value_high: np.ndarray
    difference: np.ndarray
    difference_low: np.ndarray
    difference_high: np.ndarray
    ratio: np.ndarray
    ratio_low: np.ndarray
    ratio_high: np.ndarray
    p_value: np.ndarray


def compare_rates(
    numerator: np.ndarray,
    denominator: np.ndarray,
    unit_group: Sequence[str],
    reference: str | None = None,
    settings: AuditSettings = AuditSettings(),
) -> Comparison:
    """Each group's rate sum(numerator) / sum(denominator) over its units, compared with the
    reference group's (default: the group with most units).

    Units with the same numerator and denominator are interchangeable: when they fall into
    few such classes (items with a few answers each), `rates_by_class` draws the same
    resamples and permutations from class counts; otherwise `rates_by_unit` draws units."""
    units = RateUnits.of(numerator, denominator, unit_group)
    classes = units.classes[0]
    few = len(classes) <= min(MAX_CLASSES, len(units.codes) // UNITS_PER_CLASS)
    return (rates_by_class if few else rates_by_unit)(units, reference, settings)


@dataclass(frozen=True)
class RateUnits:
    """Units of a rate: numerators, denominators, and each unit's group as a code into
    `groups` (sorted)."""

    num: np.ndarray
    den: np.ndarray
    groups: list[str]
    codes: np.ndarray

    @classmethod
    def of(
        cls, numerator: np.ndarray, denominator: np.ndarray, unit_group: Sequence[str]
    ) -> RateUnits:
        groups, codes = _encode(unit_group)
        num, den = (np.asarray(x, dtype=np.float64) for x in (numerator, denominator))
        return cls(num, den, groups, codes)

    @cached_property
    def classes(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct (numerator, denominator) pairs, as `num + 1j * den` (a 1-d unique is
        ten times faster than a unique of rows), and each unit's pair as a code into them."""
        return np.unique(self.num + 1j * self.den, return_inverse=True)


def rates_by_unit(units: RateUnits, reference: str | None, settings: AuditSettings) -> Comparison:
    """`compare_rates` drawing units: resamples gather the drawn units' values."""
    num, den, groups, codes = units.num, units.den, units.groups, units.codes

    def resampled(drawn: np.ndarray) -> np.ndarray:
        return _divide(num[drawn].sum(axis=1), den[drawn].sum(axis=1))

    def permuted(labels: np.ndarray) -> np.ndarray:
        return _divide(group_sums(labels, num, len(groups)), group_sums(labels, den, len(groups)))

    observed = _divide(np.bincount(codes, num, len(groups)), np.bincount(codes, den, len(groups)))
    boot_seed, perm_seed = _seeds(settings)
    draws = _unit_draws(codes, len(groups), settings.samples, boot_seed, resampled)
    levels = _unit_permutations(codes, settings.permutations, perm_seed, permuted)
    return _compare(groups, codes, observed, draws, levels, reference, settings)


def rates_by_class(units: RateUnits, reference: str | None, settings: AuditSettings) -> Comparison:
    """`compare_rates` drawing classes of interchangeable units (same numerator and
    denominator): a group's resample is a multinomial over its classes, a permutation a table
    of classes by groups with the data's margins. Same distributions as drawing units.

    >>> units = RateUnits.of(np.array([1., 0, 0, 1, 1, 1]), np.ones(6), list("aaabbb"))
    >>> c = rates_by_class(units, "b", AuditSettings(samples=200, permutations=200))
    >>> c.value.round(3).tolist()
    [0.333, 1.0]
    """
    groups, codes = units.groups, units.codes
    classes, unit_class = units.classes
    table = np.zeros((len(groups), len(classes)))
    np.add.at(table, (codes, unit_class), 1)
    class_num, class_den = classes.real, classes.imag
    observed = _divide(table @ class_num, table @ class_den)
    boot_seed, perm_seed = _seeds(settings)
    draws = np.empty((settings.samples, len(groups)))
    for g, group_seed in enumerate(boot_seed.spawn(len(groups))):
        done = 0
        mine = unit_class[codes == g]
        for counts in resample_class_counts(mine, settings.samples, group_seed):
            present = len(counts)  # classes up to the group's highest one
            level = _divide(class_num[:present] @ counts, class_den[:present] @ counts)
            draws[done : done + counts.shape[1], g] = level
            done += counts.shape[1]
    levels = (
        _divide(tables @ class_num, tables @ class_den)
        for tables in permuted_class_tables(
            table.sum(axis=0), table.sum(axis=1), settings.permutations, perm_seed
        )
    )
    return _compare(groups, codes, observed, draws, levels, reference, settings)


def compare_unit_rates(
    frame: pl.DataFrame,
    unit: str,
    group: str,
    numerator: pl.Expr,
    denominator: pl.Expr,
    reference: str | None = None,
    settings: AuditSettings = AuditSettings(),
) -> Comparison:
    """`compare_rates` of the rows of `frame` summed per `unit` (each unit in one `group`):
    rejected / reviewed per worker, answers naming a label / answers per item...

    >>> rows = pl.DataFrame({"w": [1, 1, 2, 3], "g": list("aabb"), "hit": [1, 0, 1, 1]})
    >>> compare_unit_rates(rows, "w", "g", pl.col("hit"), pl.lit(1)).value.tolist()
    [0.5, 1.0]
    """
    per_unit = unit_sums(frame, unit, group, {"num": numerator, "den": denominator})
    return compare_rates(
        per_unit["num"].to_numpy(),
        per_unit["den"].to_numpy(),
        per_unit[group].cast(pl.String).to_list(),
        reference,
        settings,
    )


def unit_sums(frame: pl.DataFrame, unit: str, group: str, sums: dict[str, pl.Expr]) -> pl.DataFrame:
    """The rows of `frame` summed per `unit` (each unit in one `group`), sorted by unit: one
    column per expression of `sums` (as floats), so that several rates of the same units take
    one pass over the rows.

    >>> rows = pl.DataFrame({"w": [2, 1, 1], "g": list("aaa"), "hit": [1, 0, 1]})
    >>> unit_sums(rows, "w", "g", {"hits": pl.col("hit"), "n": pl.lit(1)}).rows()
    [(1, 'a', 1.0, 2.0), (2, 'a', 1.0, 1.0)]
    """
    columns = {name: expr.cast(pl.Float64) for name, expr in sums.items()}
    return (
        frame.select(unit, group, **columns)
        .group_by(unit, group)
        .agg(pl.col(list(columns)).sum())
        .sort(unit)
    )


def compare_medians(
    values: np.ndarray,
    unit_group: Sequence[str],
    reference: str | None = None,
    settings: AuditSettings = AuditSettings(),
) -> Comparison:
    """Each group's median unit value, compared with the reference group's.

    >>> c = compare_medians(np.array([1., 2, 3, 10, 20, 30]), list("aaabbb"),
    ...                     settings=AuditSettings(samples=50, permutations=50))
    >>> c.reference, c.value.tolist(), c.ratio.tolist()
    ('a', [2.0, 20.0], [1.0, 10.0])
    """
    values = np.asarray(values, dtype=np.float64)
    groups, codes = _encode(unit_group)
    sizes = np.bincount(codes, minlength=len(groups))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def resampled(drawn: np.ndarray) -> np.ndarray:
        return np.median(values[drawn], axis=1)

    # Under a permutation the group sizes stay, so each group's median sits at fixed positions
    # of its members listed in value order: a stable sort of the labels of value-sorted units.
    by_value = np.argsort(values, kind="stable")
    values_ascending = values[by_value]
    low_at, high_at = starts + (sizes - 1) // 2, starts + sizes // 2

    def permuted(labels: np.ndarray) -> np.ndarray:
        members = np.argsort(labels, axis=1, kind="stable")
        return (values_ascending[members[:, low_at]] + values_ascending[members[:, high_at]]) / 2

    observed = np.array([np.median(values[codes == g]) for g in range(len(groups))])
    boot_seed, perm_seed = _seeds(settings)
    draws = _unit_draws(codes, len(groups), settings.samples, boot_seed, resampled)
    levels = _unit_permutations(codes[by_value], settings.permutations, perm_seed, permuted)
    return _compare(groups, codes, observed, draws, levels, reference, settings)


def comparison_findings(
    c: Comparison,
    audit: str,
    attribute: str,
    level: str,
    difference: str | None = None,
    ratio: str | None = None,
) -> list[Finding]:
    """Findings of a comparison: every group's level (measure `level`), then for each other
    group its difference and/or ratio to the reference, with the p-value. Reasons and flags
    are left to the audit."""
    out = []
    for i, group in enumerate(c.groups):
        n = int(c.n[i])
        out.append(
            Finding(
                audit,
                attribute,
                group,
                None,
                level,
                *finite(c.value[i], c.value_low[i], c.value_high[i]),
                None,
                None,
                n,
                None,
                "",
            )
        )
        if group == c.reference:
            continue
        p = _float(c.p_value[i])
        for measure, est, low, high in (
            (difference, c.difference[i], c.difference_low[i], c.difference_high[i]),
            (ratio, c.ratio[i], c.ratio_low[i], c.ratio_high[i]),
        ):
            if measure is not None:
                estimate = finite(est, low, high)
                out.append(
                    Finding(
                        audit,
                        attribute,
                        group,
                        c.reference,
                        measure,
                        *estimate,
                        p,
                        None,
                        n,
                        None,
                        "",
                    )
                )
    return out


def _seeds(settings: AuditSettings) -> list[np.random.SeedSequence]:
    """The bootstrap's seed and the permutations' seed, both from the settings' one."""
    return np.random.SeedSequence(settings.seed).spawn(2)


def _unit_draws(
    codes: np.ndarray,
    n_groups: int,
    samples: int,
    seed: np.random.SeedSequence,
    resampled: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """(samples, groups) levels of resamples drawing each group's units from that group alone:
    `resampled` gets the drawn units' positions, one resample per row."""
    draws = np.empty((samples, n_groups))
    for g, group_seed in enumerate(seed.spawn(n_groups)):
        members = np.flatnonzero(codes == g)
        done = 0
        for picks in resample_indices(len(members), samples, group_seed):
            draws[done : done + len(picks), g] = resampled(members[picks])
            done += len(picks)
    return draws


def _unit_permutations(
    labels: np.ndarray,
    permutations: int,
    seed: np.random.SeedSequence,
    permuted: Callable[[np.ndarray], np.ndarray],
) -> Iterator[np.ndarray]:
    """Batches of (batch, groups) levels under shuffled labels."""
    # small integer labels shuffle twice as fast as int64 ones
    small = labels.astype(np.int16 if labels.max(initial=0) < 2**15 else np.int64)
    for shuffled in permuted_labels(small, permutations, seed):
        yield permuted(shuffled)


def _compare(
    groups: list[str],
    codes: np.ndarray,
    observed: np.ndarray,
    draws: np.ndarray,
    permuted_levels: Iterable[np.ndarray],
    reference: str | None,
    settings: AuditSettings,
) -> Comparison:
    """The comparison from observed levels, bootstrap draws (samples x groups) and batches of
    levels under permutation."""
    sizes = np.bincount(codes, minlength=len(groups))
    if not groups:  # no units: nothing to compare, and no finding
        empty = np.empty(0)
        return Comparison([], reference or "", sizes, *[empty] * 10)
    ref = groups.index(reference_group(dict(zip(groups, sizes.tolist(), strict=True)), reference))
    with np.errstate(divide="ignore", invalid="ignore"):
        draw_ratio = draws / draws[:, [ref]]
        ratio = observed / observed[ref]
    difference = observed - observed[ref]
    hits = np.zeros(len(groups))
    for level in permuted_levels:
        extreme = np.abs(level - level[:, [ref]]) >= np.abs(difference) * (1 - TIE_TOLERANCE)
        hits += extreme.sum(axis=0)
    p_value = (1 + hits) / (1 + settings.permutations)
    p_value[ref] = np.nan
    confidence = settings.confidence
    return Comparison(
        groups,
        groups[ref],
        sizes,
        observed,
        *percentile_intervals(draws, confidence),
        difference,
        *percentile_intervals(draws - draws[:, [ref]], confidence),
        ratio,
        *percentile_intervals(draw_ratio, confidence),
        p_value,
    )


def _encode(unit_group: Sequence[str]) -> tuple[list[str], np.ndarray]:
    groups, codes = np.unique(np.asarray(unit_group, dtype=object).astype(str), return_inverse=True)
    return groups.tolist(), codes


def group_sums(labels: np.ndarray, weights: np.ndarray, n_groups: int) -> np.ndarray:
    """Per row of `labels` (resamples x units), the sum of `weights` of each group."""
    rows = len(labels)
    flat = (labels + np.arange(rows)[:, None] * n_groups).ravel()
    spread = np.broadcast_to(weights, labels.shape).ravel()
    return np.bincount(flat, spread, rows * n_groups).reshape(rows, n_groups)


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def _float(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def finite(*xs: float) -> tuple[float | None, ...]:
    return tuple(_float(x) for x in xs)
