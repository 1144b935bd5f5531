"""Inter-annotator agreement of long-format ratings (`unit`, `coder`, `value`) from unit counts.

Every coefficient is computed from the unit x category count matrix (and, for Cohen's kappa, the
coder x category counts), so a million ratings take well under a second and bootstrap intervals
resample units by reweighting rows of those matrices. Definitions and sources: docs/METRICS.md.

>>> import polars as pl
>>> frame = pl.DataFrame({
...     "unit": ["u1", "u1", "u2", "u2", "u3", "u3", "u4"],
...     "coder": ["a", "b", "a", "b", "a", "b", "a"],
...     "value": ["yes", "yes", "no", "no", "yes", "no", "yes"],
... })
>>> table = agreement_table(frame)
>>> round(table["percent_agreement"].value, 4), round(table["cohen_kappa"].value, 4)
(0.6667, 0.4)
>>> only_yes = agreement_table(frame.filter(pl.col("value") == "yes"))
>>> only_yes["fleiss_kappa"].undefined_reason.split(":")[0]
"every rating is in one category ('yes')"
>>> only_yes["percent_agreement"].value
1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

import numpy as np
import polars as pl
import scipy.sparse as sp

from metrics.bootstrap import map_resamples, percentile_interval

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[str, ...] = get_args(Level)
SingleRated = Literal["ignore", "chance"]

COEFFICIENTS: tuple[str, ...] = (
    "percent_agreement",
    "cohen_kappa",
    "scott_pi",
    "fleiss_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
    "brennan_prediger",
)
# Reported besides the above when the categories are ordered (level other than nominal).
ORDERED_COEFFICIENTS: tuple[str, ...] = ("cohen_kappa_linear", "cohen_kappa_quadratic", "gwet_ac2")
# Percent agreement is the only raw (not chance-corrected) coefficient.
RAW_COEFFICIENTS = frozenset({"percent_agreement"})

NO_PAIRABLE_UNITS = "no unit has two or more ratings, so there is nothing to compare"
# Dense unit x category tallies up to this many cells, a sort beyond.
DENSE_TALLY_CELLS = 50_000_000


@dataclass(frozen=True)
class Coefficient:
    """One agreement figure: its value and bootstrap interval, or why it is undefined."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    undefined_reason: str | None = None
    # (p_o - p_e) / (1 - p_e): the two terms, where the coefficient has that form
    observed_agreement: float | None = None
    chance_agreement: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON shape of DESIGN.md section 7 (`undefined_reason` only when undefined)."""
        out = asdict(self)
        if self.undefined_reason is None:
            out.pop("undefined_reason")
        return out


@dataclass(frozen=True)
class AgreementReport:
    """All coefficients for one set of ratings, with the counts behind them."""

    level: str
    n_units: int
    n_coders: int
    n_values: int
    n_pairable_units: int
    n_pairable_values: int
    categories: list[Any]
    coefficients: dict[str, Coefficient]
    bootstrap_samples: int = 0
    confidence: float = 0.95

    def as_dict(self) -> dict[str, Any]:
        """The `crowdmeter agreement --json` payload."""
        out: dict[str, Any] = {
            k: v for k, v in asdict(self).items() if k not in ("coefficients", "categories")
        }
        out["categories"] = [_plain(c) for c in self.categories]
        out.update({name: coef.as_dict() for name, coef in self.coefficients.items()})
        return out


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
    frame = _rated_rows(frame, [unit, coder], value)
    unit_codes, unit_ids = dense_codes(frame[unit])
    coder_codes, coder_ids = dense_codes(frame[coder])
    category, labels, scores = _category_codes(frame[value], level, categories)
    return Ratings(unit_codes, coder_codes, category, labels, scores, unit_ids, coder_ids, level)


def _rated_rows(frame: pl.DataFrame, ids: list[str], value: str) -> pl.DataFrame:
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


def _category_codes(
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


def unit_tallies(ratings: Ratings, single_rated: SingleRated = "ignore") -> UnitTallies:
    """Per-unit category counts; `single_rated="ignore"` drops units with one rating."""
    return tally_units(
        ratings.unit, ratings.category, ratings.n_units, ratings.n_categories, single_rated
    )


def tally_units(
    unit: np.ndarray, category: np.ndarray, n_units: int, q: int, single_rated: SingleRated
) -> UnitTallies:
    """Per-unit category counts from the unit and category code of each rating."""
    key = unit.astype(np.int64) * q
    key += category
    if n_units * q <= DENSE_TALLY_CELLS:
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


def _within_unit_pairs(t: UnitTallies) -> tuple[np.ndarray, ...]:
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


# ---------------------------------------------------------------------------------------------
# Weights and distances


def agreement_weights(scores: np.ndarray, kind: str) -> np.ndarray:
    """Agreement weights w[k, l] in [0, 1] (1 on the diagonal), after Gwet (2014, ch. 3).

    kind: identity, linear, quadratic, ordinal (Gwet's rank weights) or ratio.

    >>> agreement_weights(np.array([1.0, 2.0, 3.0]), "linear").tolist()
    [[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]]
    """
    q = len(scores)
    if kind == "identity" or q < 2:
        return np.eye(q)
    diff = scores[:, None] - scores[None, :]
    spread = scores.max() - scores.min()
    if kind == "linear":
        return 1.0 - np.abs(diff) / spread
    if kind == "quadratic":
        return 1.0 - diff**2 / spread**2
    if kind == "ordinal":
        ranks = np.arange(q)
        steps = np.abs(ranks[:, None] - ranks[None, :]) + 1
        pairs_between = steps * (steps - 1) / 2.0
        return 1.0 - pairs_between / pairs_between.max()
    if kind == "ratio":
        total = scores[:, None] + scores[None, :]
        ratio = np.divide(diff, total, out=np.zeros_like(diff), where=total != 0) ** 2
        top = scores.max() + scores.min()
        return 1.0 - ratio / ((spread / top) ** 2 if top else 1.0)
    raise ValueError(f"Unknown weights {kind!r}.")


# Gwet's AC2 weights for each level (the level's own metric).
LEVEL_WEIGHTS = {
    "nominal": "identity",
    "ordinal": "ordinal",
    "interval": "quadratic",
    "ratio": "ratio",
}


def alpha_distances(scores: np.ndarray, level: str) -> np.ndarray:
    """Krippendorff's metric differences delta^2[k, l] for nominal, interval and ratio levels.

    Ordinal distances depend on the marginal counts: see `_ordinal_distances`.
    """
    diff = scores[:, None] - scores[None, :]
    if level == "nominal":
        return 1.0 - np.eye(len(scores))
    if level == "interval":
        return diff**2
    if level == "ratio":
        total = scores[:, None] + scores[None, :]
        return np.divide(diff, total, out=np.zeros_like(diff), where=total != 0) ** 2
    raise ValueError(f"No fixed distances for level {level!r}.")


def _ordinal_distances(n_k: np.ndarray) -> np.ndarray:
    # (sum_{g=k..l} n_g - (n_k + n_l)/2)^2 equals the squared gap between mid-ranks.
    mid = np.cumsum(n_k, axis=-1) - n_k / 2.0
    return (mid[..., :, None] - mid[..., None, :]) ** 2


# ---------------------------------------------------------------------------------------------
# Sufficient sums: every coefficient is a function of sums over units, so a bootstrap resample
# is the same sums taken with the unit's draw count as weight.
#
# Most sums depend on a unit only through its category counts (its pattern: three ratings in
# five categories make 35 possible patterns), so units of one pattern contribute alike.
# Drawing units with replacement is then exactly drawing how many units of each pattern are
# picked: a multinomial over the patterns, their frequencies as probabilities. A resample
# costs the number of patterns, not of units. Sums that also depend on who rated (Conger's
# per-coder marginals) still take each unit's own draw count.


class _UnitSums:
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
            frequency = np.bincount(pattern) / self.n_units
            rng = np.random.default_rng(seed)
            for done in range(0, samples, PATTERN_BATCH):
                size = min(PATTERN_BATCH, samples - done)
                drawn = rng.multinomial(self.n_units, frequency, size=size).T.astype(np.float64)
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


PATTERN_BATCH = 1000  # resamples drawn at once over the patterns


def unit_patterns(t: UnitTallies) -> tuple[np.ndarray, np.ndarray]:
    """Each analysed unit's pattern (its category counts) as a code, and the first unit of
    each pattern, in code order.

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


def _unit_sums(t: UnitTallies, ratings: Ratings, names: set[str]) -> _UnitSums:
    q, r = t.n_categories, t.ratings
    pairable = t.pairable
    cu, ck, cc = t.cell_unit, t.cell_category, t.cell_count
    pair_cell = pairable[cu]
    sums = _UnitSums(t)
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
    if "krippendorff_alpha" in names:
        _add_alpha_sums(sums, t, ratings)
    ordered = [n for n in names if n in ORDERED_COEFFICIENTS]
    if ordered:
        _add_weighted_agreement(sums, t, ratings.scores, ratings.level)
    if names & {"cohen_kappa", "cohen_kappa_linear", "cohen_kappa_quadratic"}:
        rows = analysed_positions(t.unit_index, ratings.n_units)[ratings.unit]
        kept = rows >= 0
        cols = ratings.coder[kept] * q + ratings.category[kept]
        sums.add("coder", rows[kept], cols, np.ones(len(cols)), ratings.n_coders * q, by_coder=True)
    return sums


def _add_alpha_sums(sums: _UnitSums, t: UnitTallies, ratings: Ratings) -> None:
    r, pairable = t.ratings, t.pairable
    denom = np.where(pairable, r - 1, np.inf)
    if ratings.level == "nominal":
        squares = np.bincount(t.cell_unit, t.cell_count**2, minlength=t.n_units)
        sums.add_column("alpha_disagree", (r**2 - squares) / denom)
        return
    unit, ka, kb, ca, cb = _within_unit_pairs(t)
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


def _add_weighted_agreement(sums: _UnitSums, t: UnitTallies, scores: np.ndarray, level: str):
    unit, ka, kb, ca, cb = _within_unit_pairs(t)
    r, pairable = t.ratings, t.pairable
    denom = np.where(pairable, r * (r - 1), np.inf)
    # linear and quadratic weights sit on ranks for ordinal data (Cicchetti-Allison spacing)
    for kind in ("linear", "quadratic", LEVEL_WEIGHTS[level]):
        w = agreement_weights(scores, kind)
        weighted = np.bincount(unit, ca * cb * w[ka, kb], minlength=t.n_units)
        sums.add_column(f"agree_{kind}", (weighted - r) / denom)


# ---------------------------------------------------------------------------------------------
# Coefficients from sums (vectorised over resamples: every array has a leading batch axis)


def _coefficient_values(
    s: dict[str, np.ndarray], names: list[str], ratings: Ratings
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """name -> (value, observed agreement, chance agreement), each of shape (batch,)."""
    q = ratings.n_categories
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = s["agree"][:, 0] / s["pairable"][:, 0]
        shares = s["shares"] / s["units"]  # Fleiss / Gwet classification probabilities
        pooled = s["values"] / s["values"].sum(axis=1, keepdims=True)  # Scott's pooled shares
        for name in names:
            if name == "percent_agreement":
                out[name] = (pa, pa, np.full_like(pa, np.nan))
                continue
            if name == "krippendorff_alpha":
                out[name] = _alpha_parts(s, ratings)
                continue
            if name == "fleiss_kappa":
                p_o, p_e = pa, (shares**2).sum(axis=1)
            elif name == "scott_pi":
                p_o, p_e = pa, (pooled**2).sum(axis=1)
            elif name == "gwet_ac1":
                p_o, p_e = pa, (shares * (1 - shares)).sum(axis=1) / max(q - 1, 0)
            elif name == "brennan_prediger":
                p_o, p_e = pa, np.full_like(pa, 1.0 / q)
            elif name == "cohen_kappa":
                p_o, p_e = pa, _conger_chance(s, np.eye(q), ratings.n_coders)
            elif name in ("cohen_kappa_linear", "cohen_kappa_quadratic"):
                kind = name.rsplit("_", 1)[1]
                p_o = s[f"agree_{kind}"][:, 0] / s["pairable"][:, 0]
                w = agreement_weights(ratings.scores, kind)
                p_e = _conger_chance(s, w, ratings.n_coders)
            elif name == "gwet_ac2":
                kind = LEVEL_WEIGHTS[ratings.level]
                p_o = s[f"agree_{kind}"][:, 0] / s["pairable"][:, 0]
                w = agreement_weights(ratings.scores, kind)
                p_e = w.sum() * (shares * (1 - shares)).sum(axis=1) / (q * max(q - 1, 0))
            else:
                raise ValueError(f"Unknown coefficient {name!r}; known: {_all_names()}.")
            out[name] = (_chance_corrected(p_o, p_e), p_o, p_e)
    return out


def _all_names() -> str:
    return ", ".join(COEFFICIENTS + ORDERED_COEFFICIENTS)


def _chance_corrected(pa: np.ndarray, pe: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pe < 1.0, (pa - pe) / (1.0 - pe), np.nan)


def _alpha_parts(
    s: dict[str, np.ndarray], ratings: Ratings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if "coincidence" in s:
        q = ratings.n_categories
        o = s["coincidence"].reshape(-1, q, q)
        alpha = alpha_from_coincidences(o, ratings.scores, "ordinal")
    else:
        alpha = _alpha_from_sums(s, ratings)
    if ratings.level != "nominal":
        nothing = np.full_like(alpha, np.nan)
        return alpha, nothing, nothing
    # Gwet's (2014) reading of nominal alpha as (pa - pe) / (1 - pe), pe from pairable values
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = s["pair_values"] / s["pair_values"].sum(axis=1, keepdims=True)
    p_e = (pi**2).sum(axis=1)
    return alpha, p_e + alpha * (1 - p_e), p_e


def _alpha_from_sums(s: dict[str, np.ndarray], ratings: Ratings) -> np.ndarray:
    n_k = s["pair_values"]
    delta = alpha_distances(ratings.scores, ratings.level)
    expected = np.einsum("bk,bl,kl->b", n_k, n_k, delta)
    n = n_k.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1.0 - (n - 1) * s["alpha_disagree"][:, 0] / expected, np.nan)


def alpha_from_coincidences(o: np.ndarray, scores: np.ndarray, level: str) -> np.ndarray:
    """Krippendorff's alpha = 1 - (n - 1) sum(o * d) / sum(n_k n_l d) from coincidence matrices.

    `o` has shape (..., q, q); the result has the leading shape, NaN where nothing varies.
    """
    n_k = o.sum(axis=-1)
    n = n_k.sum(axis=-1)
    delta = _ordinal_distances(n_k) if level == "ordinal" else alpha_distances(scores, level)
    observed = (o * delta).sum(axis=(-2, -1))
    expected = (n_k[..., :, None] * n_k[..., None, :] * delta).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1.0 - (n - 1) * observed / expected, np.nan)


def _conger_chance(s: dict[str, np.ndarray], w: np.ndarray, n_coders: int) -> np.ndarray:
    # Conger (1980) in Gwet's form for missing ratings: each coder keeps their own marginals.
    q = w.shape[0]
    counts = s["coder"].reshape(len(s["coder"]), n_coders, q)
    per_coder = counts.sum(axis=2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(per_coder > 0, counts / per_coder, 0.0)
        r = (per_coder[..., 0] > 0).sum(axis=1).astype(np.float64)[:, None, None]
        mean = p.sum(axis=1) / r[:, :, 0]
        outer = mean[:, :, None] * mean[:, None, :]
        s2 = (np.einsum("bgk,bgl->bkl", p, p) - r * outer) / (r - 1)
        pe = (w * (outer - s2 / r)).sum(axis=(1, 2))
    return np.where(r[:, 0, 0] >= 2, pe, np.nan)


# ---------------------------------------------------------------------------------------------
# The public entry points


def agreement_report(
    frame: pl.DataFrame | Ratings,
    level: str = "nominal",
    *,
    categories: list[Any] | None = None,
    bootstrap_samples: int = 0,
    confidence: float = 0.95,
    seed: int = 20181204,
    single_rated: SingleRated = "ignore",
    coefficients: tuple[str, ...] | None = None,
) -> AgreementReport:
    """Every agreement coefficient for long-format ratings, with bootstrap intervals over units.

    `frame` has columns `unit`, `coder`, `value` (or is already encoded). Units with one rating
    are unpairable: ignored (`single_rated="ignore"`), or counted only in the chance marginals of
    Fleiss, Scott, Gwet and Cohen/Conger (`"chance"`, Gwet's convention, as irrCAC reports).
    With `bootstrap_samples` > 0 each coefficient gets a percentile interval from resampling
    units with replacement.
    """
    ratings = frame if isinstance(frame, Ratings) else encode_ratings(frame, level, categories)
    names = list(coefficients or _default_coefficients(ratings.level))
    t = unit_tallies(ratings, single_rated)
    pairable = t.pairable
    n_pairable_values = int(t.ratings[pairable].sum())
    reasons = _undefined_reasons(t, ratings, names)
    if len(reasons) == len(names):  # nothing to compute (no pairable units)
        point, intervals = {}, {}
    else:
        sums = _unit_sums(t, ratings, set(names))
        point = _coefficient_values(sums.totals(), names, ratings)
        intervals = _bootstrap(sums, ratings, names, bootstrap_samples, confidence, seed, reasons)
    result = {}
    for name in names:
        value, p_o, p_e = (_finite_or_none(part[0]) for part in point.get(name, _NOTHING))
        reason = reasons.get(name) or (None if value is not None else _zero_denominator(name))
        if reason:
            result[name] = Coefficient(None, undefined_reason=reason, observed_agreement=p_o)
            continue
        low, high = intervals.get(name, (None, None))
        result[name] = Coefficient(value, low, high, None, p_o, p_e)
    return AgreementReport(
        level=ratings.level,
        n_units=ratings.n_units,
        n_coders=ratings.n_coders,
        n_values=len(ratings.unit),
        n_pairable_units=int(pairable.sum()),
        n_pairable_values=n_pairable_values,
        categories=ratings.categories,
        coefficients=result,
        bootstrap_samples=bootstrap_samples,
        confidence=confidence,
    )


def agreement_table(
    frame: pl.DataFrame | Ratings, level: str = "nominal", **options: Any
) -> dict[str, Coefficient]:
    """Coefficient name -> Coefficient; the options are those of `agreement_report`."""
    return agreement_report(frame, level, **options).coefficients


def krippendorff_alpha(
    frame: pl.DataFrame | Ratings, level: str = "nominal", categories: list[Any] | None = None
) -> Coefficient:
    """Krippendorff's alpha alone, on a lean path: it reads only `unit` and `value` (coder
    identity does not enter alpha) and gets the coincidences as one sparse product.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "coder": ["a", "b"] * 3,
    ...                       "value": [1, 1, 2, 2, 3, 2]})
    >>> round(krippendorff_alpha(frame, "interval").value, 4)
    0.7059
    """
    if isinstance(frame, Ratings):
        unit, n_units = frame.unit, frame.n_units
        category, labels, scores = frame.category, frame.categories, frame.scores
    else:
        check_level(level)
        rated = _rated_rows(frame, ["unit"], "value")
        unit, found = dense_codes(rated["unit"], with_ids=False)
        n_units = found if isinstance(found, int) else len(found)
        category, labels, scores = _category_codes(rated["value"], level, categories)
        del rated
    t = tally_units(unit, category, n_units, len(labels), "ignore")
    if t.n_units == 0:
        return Coefficient(None, undefined_reason=NO_PAIRABLE_UNITS)
    single = _single_category(t, labels)
    if single:
        return Coefficient(None, undefined_reason=single)
    level = frame.level if isinstance(frame, Ratings) else level
    if level == "nominal":
        value = _nominal_alpha(t)
    else:
        value = float(alpha_from_coincidences(coincidence_matrix(t), scores, level))
    if not np.isfinite(value):
        return Coefficient(None, undefined_reason=_zero_denominator("krippendorff_alpha"))
    return Coefficient(value)


def _nominal_alpha(t: UnitTallies) -> float:
    """Nominal alpha needs only the coincidence diagonal and the marginals, both per cell:
    alpha = 1 - (n - 1) (n - sum o_kk) / (n^2 - sum n_k^2)."""
    pairable = t.pairable[t.cell_unit]
    ck, cc = t.cell_category[pairable], t.cell_count[pairable]
    n_k = np.bincount(ck, cc, minlength=t.n_categories)
    n = n_k.sum()
    agreeing = (cc * (cc - 1) / (t.ratings[t.cell_unit[pairable]] - 1)).sum()
    expected = n * n - (n_k**2).sum()
    return 1.0 - (n - 1) * (n - agreeing) / expected if expected > 0 else float("nan")


def coincidence_matrix(t: UnitTallies) -> np.ndarray:
    """Krippendorff's coincidence matrix o[k, l] over pairable units.

    o = C' diag(1 / (r - 1)) C minus each unit's own pairings on the diagonal, with C the
    unit x category counts: a dense product when C is small enough, a sparse one otherwise.
    """
    q = t.n_categories
    pairable = t.pairable[t.cell_unit]
    cu, ck, cc = t.cell_unit[pairable], t.cell_category[pairable], t.cell_count[pairable]
    spread = cc / (t.ratings[cu] - 1)
    if t.n_units * q <= DENSE_TALLY_CELLS:
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


def _default_coefficients(level: str) -> tuple[str, ...]:
    return COEFFICIENTS + (ORDERED_COEFFICIENTS if level != "nominal" else ())


def _undefined_reasons(t: UnitTallies, ratings: Ratings, names: list[str]) -> dict[str, str]:
    if not t.pairable.any():
        return dict.fromkeys(names, NO_PAIRABLE_UNITS)
    single = _single_category(t, ratings.categories)
    if single:
        return {name: single for name in names if name not in RAW_COEFFICIENTS}
    return {}


def _single_category(t: UnitTallies, categories: list[Any]) -> str | None:
    used = np.flatnonzero(np.bincount(t.cell_category, minlength=t.n_categories))
    if len(used) == 1:
        only = _plain(categories[int(used[0])])
        return (
            f"every rating is in one category ({only!r}): agreement expected by chance is "
            "total, so chance-corrected agreement is undefined"
        )
    return None


def _zero_denominator(name: str) -> str:
    if name.startswith("cohen_kappa"):
        return "fewer than two coders have ratings on pairable units"
    return "agreement expected by chance is total (zero denominator), so it is undefined"


def _bootstrap(
    sums: _UnitSums,
    ratings: Ratings,
    names: list[str],
    samples: int,
    confidence: float,
    seed: int,
    reasons: dict[str, str],
) -> dict[str, tuple[float | None, float | None]]:
    wanted = [n for n in names if n not in reasons]
    if samples <= 0 or not wanted:
        return {}
    draws: dict[str, list[np.ndarray]] = {n: [] for n in wanted}
    for totals in sums.resampled_totals(samples, seed):
        values = _coefficient_values(totals, wanted, ratings)
        for n in wanted:
            draws[n].append(values[n][0])
    return {n: percentile_interval(np.concatenate(draws[n]), confidence) for n in wanted}


_NOTHING = (np.array([np.nan]),) * 3


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------------------------------
# Breakdowns: per unit, per category, per coder pair, per group


def unit_agreement(frame: pl.DataFrame | Ratings) -> pl.DataFrame:
    """Per pairable unit: ratings and the share of agreeing coder pairs (Fleiss' P_i).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"unit": ["x"] * 3, "coder": ["a", "b", "c"], "value": [1, 1, 2]})
    >>> unit_agreement(frame).row(0)
    ('x', 3, 0.3333333333333333)
    """
    ratings = frame if isinstance(frame, Ratings) else encode_ratings(frame)
    t = unit_tallies(ratings, "ignore")
    r = t.ratings
    agree = (np.bincount(t.cell_unit, t.cell_count**2, minlength=t.n_units) - r) / (r * (r - 1))
    return pl.DataFrame(
        {
            "unit": ratings.unit_ids.gather(t.unit_index),
            "n_ratings": r.astype(np.int64),
            "agreement": agree,
        }
    )


def category_agreement(frame: pl.DataFrame | Ratings) -> pl.DataFrame:
    """Per category: how often it is used and how reliably, on pairable units.

    `specific_agreement` is the share of a category's ratings whose fellow ratings on the same
    unit agree with it (Fleiss 1971; Uebersax's proportion of specific agreement);
    `alpha` is Krippendorff's alpha of the category against all others (binary collapse).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "coder": ["a", "b"] * 3,
    ...                       "value": ["cat", "cat", "dog", "dog", "cat", "dog"]})
    >>> category_agreement(frame).select("category", "specific_agreement").rows()
    [('cat', 0.6666666666666666), ('dog', 0.6666666666666666)]
    """
    ratings = frame if isinstance(frame, Ratings) else encode_ratings(frame)
    t = unit_tallies(ratings, "ignore")
    q, r = t.n_categories, t.ratings
    c, k, rc = t.cell_count, t.cell_category, r[t.cell_unit]
    n_k = np.bincount(k, c, minlength=q)
    n = n_k.sum()
    same = np.bincount(k, c * (c - 1) / (rc - 1), minlength=q)
    other = np.bincount(k, c * (rc - c) / (rc - 1), minlength=q)
    with np.errstate(divide="ignore", invalid="ignore"):
        specific = np.where(n_k > 0, same / n_k, np.nan)
        alpha = 1.0 - (n - 1) * other / (n_k * (n - n_k))
    return pl.DataFrame(
        {
            "category": [_plain(x) for x in ratings.categories],
            "n_ratings": n_k.astype(np.int64),
            "prevalence": n_k / n if n else np.full(q, np.nan),
            "specific_agreement": specific,
            "alpha": np.where(np.isfinite(alpha), alpha, np.nan),
        },
        strict=False,
    ).with_columns(pl.col("specific_agreement", "alpha").fill_nan(None))


@dataclass(frozen=True)
class TwoCoderKappa:
    """Cohen's kappa of one contingency table with its asymptotic standard error."""

    kappa: float | None
    standard_error: float | None
    observed_agreement: float
    chance_agreement: float
    n: int


def two_coder_kappa(
    table: np.ndarray, weights: str = "identity", scores: np.ndarray | None = None
) -> TwoCoderKappa:
    """Cohen's (weighted) kappa and its ASE (Fleiss, Cohen and Everitt 1969), as SAS prints it.

    `table[i, j]` counts units coder A put in category i and coder B in j. Weights: identity,
    linear, quadratic (Cicchetti-Allison spacing on `scores`, default 0..q-1).

    >>> k = two_coder_kappa(np.array([[20, 5], [10, 15]]))
    >>> round(k.kappa, 4), round(k.standard_error, 4)
    (0.4, 0.127)
    """
    table = np.asarray(table, dtype=np.float64)
    n = table.sum()
    p = table / n
    w = agreement_weights(np.arange(len(p), dtype=float) if scores is None else scores, weights)
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    p_o, p_e = float((w * p).sum()), float(rows @ w @ cols)
    if p_e >= 1.0:
        return TwoCoderKappa(None, None, p_o, p_e, int(n))
    kappa = (p_o - p_e) / (1 - p_e)
    w_row, w_col = w @ cols, rows @ w
    spread = (p * (w - (w_row[:, None] + w_col[None, :]) * (1 - kappa)) ** 2).sum()
    variance = (spread - (kappa - p_e * (1 - kappa)) ** 2) / (n * (1 - p_e) ** 2)
    return TwoCoderKappa(kappa, float(np.sqrt(max(variance, 0.0))), p_o, p_e, int(n))


def contingency_table(
    frame: pl.DataFrame, coder_a: Any, coder_b: Any, categories: list[Any] | None = None
) -> tuple[np.ndarray, list[Any]]:
    """Cross-tabulate two coders over the units both rated: rows coder_a, columns coder_b."""
    ratings = encode_ratings(frame, "nominal", categories)
    ids = ratings.coder_ids.to_list()
    for who in (coder_a, coder_b):
        if who not in ids:
            raise ValueError(f"Coder {who!r} has no ratings; coders present: {ids[:10]}.")
    a, b = ids.index(coder_a), ids.index(coder_b)
    q = ratings.n_categories
    first = np.full((2, ratings.n_units), -1, dtype=np.int64)
    for slot, code in enumerate((a, b)):
        mine = ratings.coder == code
        first[slot, ratings.unit[mine]] = ratings.category[mine]
    both = (first >= 0).all(axis=0)
    table = np.bincount(first[0, both] * q + first[1, both], minlength=q * q).reshape(q, q)
    return table, ratings.categories


def pairwise_agreement(frame: pl.DataFrame, min_shared_units: int = 1) -> pl.DataFrame:
    """One row per pair of coders who rated common units: shared units, agreement, Cohen's kappa.

    Light's (1971) kappa is the mean of `cohen_kappa` over the pairs. Repeated ratings of one
    unit by one coder count once (the first).

    >>> import polars as pl
    >>> frame = pl.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "coder": ["a", "b"] * 3,
    ...                       "value": ["y", "y", "n", "n", "y", "n"]})
    >>> pairwise_agreement(frame).select("coder_a", "coder_b", "percent_agreement").row(0)
    ('a', 'b', 0.6666666666666666)
    """
    one = frame.select("unit", "coder", "value").drop_nulls()
    one = one.unique(["unit", "coder"], keep="first")
    pairs = (
        one.join(one, on="unit", suffix="_b")
        .filter(pl.col("coder").cast(pl.String) < pl.col("coder_b").cast(pl.String))
        .rename({"coder": "coder_a", "value": "value_a"})
    )
    keys = ["coder_a", "coder_b"]
    shared = pairs.group_by(keys).agg(
        n_shared_units=pl.len(), percent_agreement=(pl.col("value_a") == pl.col("value_b")).mean()
    )
    share_a = pairs.group_by([*keys, pl.col("value_a").alias("v")]).len("n_a")
    share_b = pairs.group_by([*keys, pl.col("value_b").alias("v")]).len("n_b")
    chance = (
        share_a.join(share_b, on=[*keys, "v"])
        .group_by(keys)
        .agg(products=(pl.col("n_a") * pl.col("n_b")).sum())
    )
    return (
        shared.filter(pl.col("n_shared_units") >= min_shared_units)
        .join(chance, on=keys, how="left")
        .with_columns(
            chance_agreement=pl.col("products").fill_null(0) / pl.col("n_shared_units") ** 2
        )
        .with_columns(
            cohen_kappa=pl.when(pl.col("chance_agreement") < 1)
            .then(
                (pl.col("percent_agreement") - pl.col("chance_agreement"))
                / (1 - pl.col("chance_agreement"))
            )
            .otherwise(None)
        )
        .drop("products")
        .sort(keys)
    )


def agreement_by(
    frame: pl.DataFrame, by: list[str], level: str = "nominal", **options: Any
) -> pl.DataFrame:
    """Agreement per group (project, field, week...): one row per group and coefficient.

    Columns: the `by` columns, n_units, n_pairable_values, coefficient, value, ci_low, ci_high,
    undefined_reason. Options are those of `agreement_report`.
    """
    rows = []
    ratings = frame.select(*by, "unit", "coder", "value")
    # no `by`: the frame is the one group, which is then not copied
    groups = ratings.group_by(by, maintain_order=True) if by else [((), ratings)]
    for key, group in groups:
        report = agreement_report(group.select("unit", "coder", "value"), level, **options)
        base = dict(zip(by, key, strict=True))
        base |= {"n_units": report.n_units, "n_pairable_values": report.n_pairable_values}
        for name, coef in report.coefficients.items():
            rows.append(
                base
                | {
                    "coefficient": name,
                    "value": coef.value,
                    "ci_low": coef.ci_low,
                    "ci_high": coef.ci_high,
                    "undefined_reason": coef.undefined_reason,
                }
            )
    schema = {c: frame.schema[c] for c in by} | _BY_SCHEMA
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


_BY_SCHEMA = {
    "n_units": pl.Int64,
    "n_pairable_values": pl.Int64,
    "coefficient": pl.String,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "undefined_reason": pl.String,
}
