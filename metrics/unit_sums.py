"""Sufficient sums: every agreement coefficient is a function of sums over units, so a bootstrap
resample is the same sums taken with each unit's draw count as weight (the speed-up behind
`metrics.coefficients`, which reads only the totals).

Most sums depend on a unit only through its category counts (its pattern: three ratings in five
categories make 35 possible patterns), so units of one pattern contribute alike. Drawing units
with replacement is then exactly drawing how many units of each pattern are picked
(`resample_class_counts`): a resample costs the number of patterns, not of units. Sums that also
depend on who rated (Conger's per-coder marginals) still take each unit's own draw count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import polars as pl
import scipy.sparse as sp

from metrics.coefficients import LEVEL_WEIGHTS, REGISTRY, agreement_weights, alpha_distances
from metrics.ratings import (
    Ratings,
    UnitTallies,
    analysed_positions,
    within_unit_pairs,
)
from metrics.resampling import map_resamples, resample_class_counts


class UnitSums:
    """Per-unit contributions (sparse blocks) and their totals, plain or resampled."""

    def __init__(self, t: UnitTallies) -> None:
        self.tallies = t
        self.n_units = t.n_units
        self.blocks: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, int]] = {}
        self.by_coder: set[str] = set()  # blocks that depend on more than the unit's pattern
        self._matrices: dict[str, sp.csc_matrix] = {}

    def add(
        self,
        name: str,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        width: int,
        by_coder: bool = False,
    ) -> None:
        self.blocks[name] = (rows, cols, vals, width)
        if by_coder:
            self.by_coder.add(name)

    def add_column(self, name: str, per_unit: np.ndarray) -> None:
        rows = np.arange(self.n_units)
        self.add(name, rows, np.zeros(self.n_units, dtype=np.int64), per_unit, 1)

    def totals(self, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Each block summed over the units: shape (1, width) unweighted, (batch, width) with
        `weights` of shape (batch, units)."""
        if weights is None:
            return {
                name: np.bincount(cols, weights=vals, minlength=width)[None, :]
                for name, (_, cols, vals, width) in self.blocks.items()
            }
        return self._weighted(self.blocks, weights)

    def resampled_totals(self, samples: int, seed: int) -> Iterator[dict[str, np.ndarray]]:
        """Each block summed over bootstrap resamples of the units: batches of shape
        (batch, width), `samples` rows in all."""
        pattern, representative = unit_patterns(self.tallies)
        per_pattern = {  # (width x patterns): one unit of each pattern stands for all of them
            name: self._pattern_matrix(name, representative)
            for name in self.blocks
            if name not in self.by_coder
        }
        if not self.by_coder:
            for drawn in resample_class_counts(pattern, samples, seed):
                yield {name: np.asarray(m @ drawn).T for name, m in per_pattern.items()}
            return
        n_patterns = len(representative)

        def totals(weights: np.ndarray) -> dict[str, np.ndarray]:
            drawn = np.stack(
                [np.bincount(pattern, weights=w, minlength=n_patterns) for w in weights], axis=1
            )
            by_pattern = {name: np.asarray(m @ drawn).T for name, m in per_pattern.items()}
            return by_pattern | self._weighted(self.by_coder, weights)

        for name in self.by_coder:
            self._matrix(name)  # built once, before the threads share it
        yield from map_resamples(totals, self.n_units, samples, seed)

    def _weighted(self, names: Iterable[str], weights: np.ndarray) -> dict[str, np.ndarray]:
        # One resample at a time: a block stored unit by unit (CSC) is read in order and added
        # into a total of its width, which stays in cache (a unit-major product over a batch
        # of resamples jumps across the units' weights at every rating instead).
        return {name: np.stack([self._matrix(name) @ w for w in weights]) for name in names}

    def _pattern_matrix(self, name: str, representative: np.ndarray) -> sp.csc_matrix:
        # the representatives' columns, taken from the block's entries (the whole matrix of a
        # block is as large as its ratings, and only the by-coder ones are ever needed whole)
        rows, cols, vals, width = self.blocks[name]
        column = np.full(self.n_units, -1, dtype=np.int64)
        column[representative] = np.arange(len(representative))
        kept = column[rows] >= 0
        return sp.csc_matrix(
            (vals[kept], (cols[kept], column[rows[kept]])), (width, len(representative))
        )

    def _matrix(self, name: str) -> sp.csc_matrix:
        if name not in self._matrices:
            rows, cols, vals, width = self.blocks[name]
            self._matrices[name] = sp.csc_matrix((vals, (cols, rows)), (width, self.n_units))
        return self._matrices[name]


def unit_sums(t: UnitTallies, ratings: Ratings, names: set[str]) -> UnitSums:
    """The per-unit sums the coefficients `names` need: those all share, and each one's own
    (`Definition.sums` in `metrics.coefficients.REGISTRY`)."""
    q, r = t.n_categories, t.ratings
    pairable = t.pairable
    cu, ck, cc = t.cell_unit, t.cell_category, t.cell_count
    pair_cell = pairable[cu]
    sums = UnitSums(t)
    sums.add_column("pairable", pairable.astype(np.float64))
    sums.add_column("units", np.ones(t.n_units))
    denom = np.where(pairable, r * (r - 1), np.inf)
    sums.add_column("agree", (np.bincount(cu, cc * cc, minlength=t.n_units) - r) / denom)
    sums.add("shares", cu, ck, cc / r[cu], q)
    sums.add("values", cu, ck, cc, q)
    if pair_cell.all():  # the usual case: the same cells, not a copy of them
        sums.add("pair_values", cu, ck, cc, q)
    else:
        sums.add("pair_values", cu[pair_cell], ck[pair_cell], cc[pair_cell], q)
    needs = set().union(*(REGISTRY[n].sums for n in names if n in REGISTRY))
    if "alpha" in needs:
        _add_alpha_sums(sums, t, ratings)
    if "weighted_agreement" in needs:
        _add_weighted_agreement(sums, t, ratings.scores, ratings.level)
    if "coder" in needs:  # per coder and category: Conger's marginals
        rows = analysed_positions(t.unit_index, ratings.n_units)[ratings.unit]
        kept = rows >= 0
        cols = ratings.coder[kept] * q + ratings.category[kept]
        sums.add("coder", rows[kept], cols, np.ones(len(cols)), ratings.n_coders * q, by_coder=True)
    return sums


def _add_alpha_sums(sums: UnitSums, t: UnitTallies, ratings: Ratings) -> None:
    r, pairable = t.ratings, t.pairable
    denom = np.where(pairable, r - 1, np.inf)
    if ratings.level == "nominal":
        squares = np.bincount(t.cell_unit, t.cell_count**2, minlength=t.n_units)
        sums.add_column("alpha_disagree", (r**2 - squares) / denom)
        return
    unit, ka, kb, ca, cb = within_unit_pairs(t)
    if ratings.level == "ordinal":
        # o_i[a, b] = (c_a c_b - [a == b] c_a) / (r_i - 1): one unit's share of the coincidences
        keep = pairable[unit]
        unit, ka, kb, ca, cb = unit[keep], ka[keep], kb[keep], ca[keep], cb[keep]
        values = (ca * cb - np.where(ka == kb, ca, 0.0)) / denom[unit]
        sums.add("coincidence", unit, ka * t.n_categories + kb, values, t.n_categories**2)
        return
    delta = alpha_distances(ratings.scores, ratings.level)
    per_unit = np.bincount(unit, ca * cb * delta[ka, kb], minlength=t.n_units)
    sums.add_column("alpha_disagree", per_unit / denom)


def _add_weighted_agreement(sums: UnitSums, t: UnitTallies, scores: np.ndarray, level: str) -> None:
    unit, ka, kb, ca, cb = within_unit_pairs(t)
    r, pairable = t.ratings, t.pairable
    denom = np.where(pairable, r * (r - 1), np.inf)
    # linear and quadratic weights sit on ranks for ordinal data (Cicchetti-Allison spacing)
    for kind in ("linear", "quadratic", LEVEL_WEIGHTS[level]):
        w = agreement_weights(scores, kind)
        weighted = np.bincount(unit, ca * cb * w[ka, kb], minlength=t.n_units)
        sums.add_column(f"agree_{kind}", (weighted - r) / denom)


def unit_patterns(t: UnitTallies) -> tuple[np.ndarray, np.ndarray]:
    """Each analysed unit's pattern (its category counts) as a code, and the first unit of
    each pattern, in code order.

    >>> from metrics.ratings import tally_units
    >>> t = tally_units(np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 0, 1, 1]), 3, 2, "ignore")
    >>> [a.tolist() for a in unit_patterns(t)]
    [[1, 1, 0], [2, 0]]
    """
    n = t.n_units
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    counts = t.cell_count.astype(np.int64)
    code = t.cell_category.astype(np.int64) * (int(counts.max()) + 1) + counts + 1
    base = int(code.max()) + 1
    cells = np.bincount(t.cell_unit, minlength=n)
    width = int(cells.max())
    if width * np.log2(base) < 62:
        # a unit's cells (sorted by category) as the digits of one integer in base `base`
        position = np.arange(len(code)) - (np.cumsum(cells) - cells)[t.cell_unit]
        digits = np.zeros((n, width), dtype=np.int64)
        digits[t.cell_unit, position] = code
        key = digits @ base ** np.arange(width, dtype=np.int64)
        _, representative, pattern = np.unique(key, return_index=True, return_inverse=True)
        return pattern.astype(np.int64), representative.astype(np.int64)
    patterns = (  # too many digits for one integer: group the units' sorted codes instead
        pl.DataFrame({"unit": t.cell_unit, "code": code})
        .group_by("unit")
        .agg(pl.col("code").sort())
        .group_by("code")
        .agg(first=pl.col("unit").min(), units=pl.col("unit"))
        .sort("first")
        .with_row_index("pattern")
    )
    per_unit = patterns.explode("units").sort("units")
    return per_unit["pattern"].to_numpy().astype(np.int64), patterns["first"].to_numpy()
