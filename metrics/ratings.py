"""Ratings in long format (`unit`, `coder`, `value`) as integer codes, and the per-unit category
counts every agreement coefficient is computed from.

>>> import polars as pl
>>> r = encode_ratings(pl.DataFrame({"unit": ["u1", "u1", "u2"], "coder": ["a", "b", "a"],
...                                  "value": ["yes", "no", "yes"]}))
>>> t = unit_tallies(r)
>>> t.n_units, t.cell_category.tolist(), t.cell_count.tolist()
(1, [0, 1], [1.0, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
import scipy.sparse as sp

from metrics.catalog import LEVELS

SingleRated = Literal["ignore", "chance"]

# Dense unit x category tallies up to this many cells, a sort (or sparse product) beyond.
DENSE_TALLY_CELLS = 50_000_000


@dataclass(frozen=True)
class Ratings:
    """Long-format ratings as integer codes: one entry per rating."""

    unit: np.ndarray
    coder: np.ndarray
    category: np.ndarray
    categories: list[Any]
    # position of each category on its scale: the value (interval, ratio) or the rank
    scores: np.ndarray
    unit_ids: pl.Series
    coder_ids: pl.Series
    level: str = "nominal"

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def n_coders(self) -> int:
        return len(self.coder_ids)

    @property
    def n_categories(self) -> int:
        return len(self.categories)


# ---------------------------------------------------------------------------------------------
# Encoding the long format


def encode_ratings(
    frame: pl.DataFrame,
    level: str = "nominal",
    categories: list[Any] | None = None,
    *,
    unit: str = "unit",
    coder: str = "coder",
    value: str = "value",
) -> Ratings:
    """Encode a long-format frame as integer codes; rows with a missing value are dropped.

    Categories are `categories` in the order given, else the distinct values sorted (numerically
    when they are numbers). Ordered levels need numbers or an explicit `categories` order.

    >>> import polars as pl
    >>> r = encode_ratings(pl.DataFrame({"unit": [1, 1], "coder": ["a", "b"], "value": [3, 1]}))
    >>> r.categories, r.category.tolist(), r.n_units
    ([1, 3], [1, 0], 1)
    """
    check_level(level)
    frame = rated_rows(frame, [unit, coder], value)
    unit_codes, unit_ids = dense_codes(frame[unit])
    coder_codes, coder_ids = dense_codes(frame[coder])
    category, labels, scores = category_codes(frame[value], level, categories)
    return Ratings(unit_codes, coder_codes, category, labels, scores, unit_ids, coder_ids, level)


def rated_rows(frame: pl.DataFrame, ids: list[str], value: str) -> pl.DataFrame:
    """The id and value columns of rows with a value; ids must be present and filled."""
    missing = [c for c in (*ids, value) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"Column(s) {', '.join(missing)} not found; the columns present are: "
            f"{', '.join(frame.columns)}."
        )
    frame = frame.select(*ids, value)
    if frame[value].null_count():  # filtering copies every column: only when there is need
        frame = frame.filter(pl.col(value).is_not_null())
    for name in ids:
        nulls = frame[name].null_count()
        if nulls:
            raise ValueError(
                f"{nulls} rating(s) have no {name}; fill the `{name}` column or drop those rows."
            )
    return frame


def check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"Unknown level {level!r}; use one of: {', '.join(LEVELS)}.")


def dense_codes(series: pl.Series, with_ids: bool = True) -> tuple[np.ndarray, pl.Series | int]:
    """Integer codes 0..k-1 for the values of a column, and the value each code stands for
    (or, with `with_ids=False`, only how many there are: gathering them is costly).

    >>> import polars as pl
    >>> codes, ids = dense_codes(pl.Series(["b", "a", "b"]))
    >>> codes[0] == codes[2] != codes[1], sorted(ids.to_list())
    (np.True_, ['a', 'b'])
    """
    if len(series) == 0:
        return np.zeros(0, dtype=np.int64), series
    if series.dtype.is_integer():
        x = series.to_numpy().astype(np.int64, copy=False)
        lo, hi = int(x.min()), int(x.max())
        if hi - lo <= 4 * len(x) + 1024:  # a lookup table is cheaper than sorting
            present = np.bincount(x - lo, minlength=hi - lo + 1) > 0
            lut = np.cumsum(present) - 1
            ids = pl.Series(series.name, np.flatnonzero(present) + lo).cast(series.dtype)
            return lut[x - lo], ids
        uniq, codes = np.unique(x, return_inverse=True)
        return codes.astype(np.int64), pl.Series(series.name, uniq).cast(series.dtype)
    return _hashed_codes(series, with_ids)


def _hashed_codes(series: pl.Series, with_ids: bool = True) -> tuple[np.ndarray, pl.Series | int]:
    # Grouping 64-bit hashes is several times faster than building a categorical of
    # high-cardinality strings; an independent second hash catches a collision. Arrays are
    # released as soon as they are used, since this runs on the largest inputs.
    order, new = hash_groups(series.hash(seed=0).to_numpy())
    check = series.hash(seed=7).to_numpy()[order]
    collided = bool(np.any((check[1:] != check[:-1]) & ~new[1:]))
    del check
    if collided:
        codes = series.cast(pl.String).cast(pl.Categorical).to_physical().to_numpy()
        return dense_codes(pl.Series(codes.astype(np.int64)))[0], _first_of_each(series, codes)
    codes = np.empty(len(order), dtype=np.int32 if len(order) < 2**31 else np.int64)
    codes[order] = np.cumsum(new, dtype=codes.dtype) - 1
    return codes, series.gather(order[new]) if with_ids else int(new.sum())


def hash_groups(h: np.ndarray, index_bits: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A row order that puts equal hashes next to each other, and where each run starts.

    Sorting values is several times faster than argsort in numpy, so each hash's high bits are
    packed with its row number in the low `index_bits` bits and the packed values are sorted.
    Distinct hashes that share the high bits can interleave; those few runs are re-sorted on
    the full hash.
    """
    n = len(h)
    bits = index_bits or max(1, (n - 1).bit_length())
    if n == 0 or bits > 40:  # too few hash bits left: plain argsort
        order = np.argsort(h)
    else:
        shift = np.uint64(bits)
        packed = np.sort((h >> shift << shift) | np.arange(n, dtype=np.uint64))
        order = (packed & np.uint64((1 << bits) - 1)).astype(np.int64)
        prefix = packed >> shift
        del packed
        full = h[order]
        same_prefix = prefix[1:] == prefix[:-1]
        mixed = same_prefix & (full[1:] != full[:-1])
        if mixed.any():
            run = np.concatenate(([0], np.cumsum(~same_prefix)))
            bad = np.zeros(run[-1] + 1, dtype=bool)
            bad[run[1:][mixed]] = True
            rows = np.flatnonzero(bad[run])
            resorted = rows[np.lexsort((full[rows], run[rows]))]
            order[rows], full[rows] = order[resorted], full[resorted]
    if n == 0 or bits > 40:
        full = h[order]
    new = np.empty(n, dtype=bool)
    if n:
        new[0] = True
        np.not_equal(full[1:], full[:-1], out=new[1:])
    return order, new


def _first_of_each(series: pl.Series, codes: np.ndarray) -> pl.Series:
    _, first = np.unique(codes, return_index=True)
    return series.gather(first)


def category_codes(
    values: pl.Series, level: str, categories: list[Any] | None
) -> tuple[np.ndarray, list[Any], np.ndarray]:
    if categories is not None:
        labels = _declared_categories(values, categories)
    else:
        labels = _observed_categories(values, level)
    scores = _category_scores(labels, level)
    if not values.dtype.is_numeric():
        codes = values.cast(pl.String).cast(pl.Enum([str(x) for x in labels])).to_physical()
        return codes.to_numpy().astype(np.int32), labels, scores
    x = values.to_numpy()
    known = np.array(labels, dtype=x.dtype)
    if values.dtype.is_integer() and len(known) and known.max() - known.min() <= 4 * len(known):
        # small integer scales (1..5, 0..10): one lookup per rating instead of a search
        lut = np.zeros(int(known.max() - known.min()) + 1, dtype=np.int32)
        lut[known - known.min()] = np.arange(len(known), dtype=np.int32)
        return lut[x - known.min()], labels, scores
    order = np.argsort(known, kind="stable")
    pos = np.minimum(np.searchsorted(known[order], x), len(order) - 1)
    return order[pos].astype(np.int32), labels, scores


def _declared_categories(values: pl.Series, categories: list[Any]) -> list[Any]:
    if len(set(map(str, categories))) != len(categories):
        raise ValueError("The declared categories repeat a value; list each category once.")
    if values.dtype.is_numeric():
        try:
            declared = pl.Series(categories).cast(values.dtype)
        except pl.exceptions.InvalidOperationError:
            raise ValueError(
                f"The values are numbers but the declared categories are not: {categories}."
            ) from None
        known = values.is_in(declared.implode())
    else:
        declared = pl.Series([str(c) for c in categories])
        known = values.cast(pl.String).is_in(declared.implode())
    unknown = values.filter(~known).unique().sort().head(5).to_list()
    if unknown:
        raise ValueError(
            f"Values {unknown} are not among the declared categories {categories}; "
            "add them to the category list or fix the data."
        )
    return declared.to_list()


def _observed_categories(values: pl.Series, level: str) -> list[Any]:
    distinct = values.unique()
    if distinct.dtype.is_numeric():
        return distinct.sort().to_list()
    if level == "nominal":
        return distinct.cast(pl.String).sort().to_list()
    as_numbers = distinct.cast(pl.Float64, strict=False)
    if as_numbers.null_count():
        words = distinct.filter(as_numbers.is_null()).head(3).to_list()
        raise ValueError(
            f"Level {level!r} needs ordered categories, but values such as {words} are not "
            "numbers; declare their order (--categories low,mid,high) or use level nominal."
        )
    return distinct.gather(as_numbers.arg_sort()).to_list()


def _category_scores(labels: list[Any], level: str) -> np.ndarray:
    if level in ("nominal", "ordinal"):
        return np.arange(len(labels), dtype=np.float64)
    try:
        scores = np.array([float(x) for x in labels], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"Level {level!r} needs numeric values; categories {labels[:5]} are not numbers."
        ) from None
    if level == "ratio" and (scores < 0).any():
        raise ValueError("Level 'ratio' needs values of zero or more (a scale with a true zero).")
    return scores


# ---------------------------------------------------------------------------------------------
# Per-unit tallies


@dataclass(frozen=True)
class UnitTallies:
    """Nonzero cells of the unit x category count matrix, sorted by unit.

    Units are those analysed: every unit with a rating when single-rated units count toward the
    chance marginals, else only pairable ones (two or more ratings).
    """

    cell_unit: np.ndarray
    cell_category: np.ndarray
    cell_count: np.ndarray
    ratings: np.ndarray  # ratings per unit
    n_categories: int
    unit_index: np.ndarray  # analysed unit -> unit code in the Ratings

    @property
    def n_units(self) -> int:
        return len(self.ratings)

    @property
    def pairable(self) -> np.ndarray:
        return self.ratings >= 2


def unit_tallies(
    ratings: Ratings, single_rated: SingleRated = "ignore", dense_cells: int | None = None
) -> UnitTallies:
    """Per-unit category counts; `single_rated="ignore"` drops units with one rating."""
    return tally_units(
        ratings.unit,
        ratings.category,
        ratings.n_units,
        ratings.n_categories,
        single_rated,
        dense_cells,
    )


def tally_units(
    unit: np.ndarray,
    category: np.ndarray,
    n_units: int,
    q: int,
    single_rated: SingleRated,
    dense_cells: int | None = None,
) -> UnitTallies:
    """Per-unit category counts from the unit and category code of each rating; counted in a
    dense array up to `dense_cells` cells (default `DENSE_TALLY_CELLS`), by sorting beyond."""
    key = unit.astype(np.int64) * q
    key += category
    if n_units * q <= (DENSE_TALLY_CELLS if dense_cells is None else dense_cells):
        dense = np.bincount(key, minlength=n_units * q)
        del key
        per_unit = dense.reshape(n_units, q).sum(axis=1)
        keys = np.flatnonzero(dense)
        counts = dense[keys]
        del dense
    else:
        keys, counts = np.unique(key, return_counts=True)
        per_unit = np.bincount(unit, minlength=n_units)
    analysed = per_unit >= (2 if single_rated == "ignore" else 1)
    cell_unit, cell_category = np.divmod(keys, q)
    kept = analysed[cell_unit]
    unit_index = np.flatnonzero(analysed)
    return UnitTallies(
        cell_unit=analysed_positions(unit_index, n_units)[cell_unit[kept]],
        cell_category=cell_category[kept],
        cell_count=counts[kept].astype(np.float64),
        ratings=per_unit[unit_index].astype(np.float64),
        n_categories=q,
        unit_index=unit_index,
    )


def analysed_positions(unit_index: np.ndarray, n_units: int) -> np.ndarray:
    """Unit code -> position among the analysed units, -1 for units left out."""
    renumber = np.full(n_units, -1, dtype=np.int64)
    renumber[unit_index] = np.arange(len(unit_index))
    return renumber


def within_unit_pairs(t: UnitTallies) -> tuple[np.ndarray, ...]:
    """Every ordered pair of cells of one unit (a cell with itself included).

    Returns the unit, both categories and both counts of each pair.
    """
    m = np.bincount(t.cell_unit, minlength=t.n_units)
    start = np.cumsum(m) - m
    reps = m[t.cell_unit]
    left = np.repeat(np.arange(len(t.cell_unit)), reps)
    offset = np.arange(len(left)) - np.repeat(np.cumsum(reps) - reps, reps)
    right = start[t.cell_unit[left]] + offset
    return (
        t.cell_unit[left],
        t.cell_category[left],
        t.cell_category[right],
        t.cell_count[left],
        t.cell_count[right],
    )


def coincidence_matrix(t: UnitTallies, dense_cells: int | None = None) -> np.ndarray:
    """Krippendorff's coincidence matrix o[k, l] over pairable units.

    o = C' diag(1 / (r - 1)) C minus each unit's own pairings on the diagonal, with C the
    unit x category counts: a dense product when C is small enough, a sparse one otherwise.
    """
    q = t.n_categories
    pairable = t.pairable[t.cell_unit]
    cu, ck, cc = t.cell_unit[pairable], t.cell_category[pairable], t.cell_count[pairable]
    spread = cc / (t.ratings[cu] - 1)
    if t.n_units * q <= (DENSE_TALLY_CELLS if dense_cells is None else dense_cells):
        counts = np.zeros((t.n_units, q))
        counts[cu, ck] = cc
        scaled = np.zeros((t.n_units, q))
        scaled[cu, ck] = spread
        o = counts.T @ scaled
    else:
        counts = sp.csr_matrix((cc, (cu, ck)), shape=(t.n_units, q))
        scaled = sp.csr_matrix((spread, (cu, ck)), shape=(t.n_units, q))
        o = np.asarray((counts.T @ scaled).todense())
    o[np.diag_indices(q)] -= np.bincount(ck, spread, minlength=q)
    return o


def plain(value: Any) -> Any:
    """A category label as a plain Python value (numpy scalars unwrapped), for JSON and text."""
    return value.item() if isinstance(value, np.generic) else value
