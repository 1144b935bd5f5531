"""The bootstrap of the whole package: resamples as weights, and percentile intervals.

A resample draws units (items, days...) with replacement; it is stored as how often each unit was
drawn (a row of multinomial counts), so any statistic that is a sum over units becomes
`weights @ per_unit_values`. Four ways to draw the same thing, each behind a name:
`resample_weights` (per unit, in memory-bounded batches; `map_resamples` runs them on threads),
`resample_class_counts` (units in classes of interchangeable units: how many of each class),
`poisson_weights` (Poisson(1) weights, the bootstrap that needs no fixed total) and
`resample_indices` (the drawn units' positions, for statistics that are no sum, like medians).
`permuted_labels` shuffles group labels across units: the null distribution of permutation tests;
`permuted_class_tables` draws the same for units in classes of interchangeable units.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")

# Cells per batch of weights (batch rows x units); 4 million float64 cells is 32 MB.
BATCH_CELLS = 4_000_000
# Units per block when drawing: 16,384 counts (128 KB) fill in a core's cache.
BLOCK_UNITS = 1 << 14
# Resamples per task when weights are drawn in threads. Fixed, and each task draws from its own
# seed spawned from the caller's, so results do not depend on the number of threads.
TASK_SAMPLES = 25
THREADS = max(1, min(4, len(os.sched_getaffinity(0))))
# Resamples drawn at once over classes of units.
CLASS_BATCH = 1000


def resample_weights(
    n_units: int,
    samples: int,
    seed: int | np.random.SeedSequence,
    batch_cells: int = BATCH_CELLS,
) -> Iterator[np.ndarray]:
    """Yield batches of bootstrap weights, each of shape (batch, n_units), `samples` rows in all.

    Row b holds how many times each unit is drawn in resample b (the draws sum to `n_units`).

    >>> batches = list(resample_weights(4, samples=3, seed=1))
    >>> sum(len(b) for b in batches), batches[0].shape[1], float(batches[0][0].sum())
    (3, 4, 4.0)
    """
    if n_units <= 0 or samples <= 0:
        return
    rng = np.random.default_rng(seed)
    batch = max(1, min(samples, batch_cells // n_units))
    # Drawing n units uniformly is drawing how many land in each block of units (a multinomial
    # over the blocks' sizes), then drawing that many uniformly within each block: the same
    # distribution, with each block's counts small enough to stay in cache while they fill.
    starts = np.arange(0, n_units, BLOCK_UNITS)
    sizes = np.diff(np.append(starts, n_units))
    done = 0
    while done < samples:
        size = min(batch, samples - done)
        counts = np.empty((size, n_units))
        per_blocks = rng.multinomial(n_units, sizes / n_units, size)
        for row, per_block in zip(counts, per_blocks, strict=True):
            for start, width, drawn in zip(starts, sizes, per_block, strict=True):
                picks = rng.integers(0, width, drawn)
                row[start : start + width] = np.bincount(picks, minlength=width)
        yield counts
        done += size


def map_resamples(
    work: Callable[[np.ndarray], T],
    n_units: int,
    samples: int,
    seed: int,
    threads: int = THREADS,
) -> Iterator[T]:
    """`work` of each batch of resampling weights, in order, drawn and worked on in `threads`
    threads (numpy's generators and scipy's sparse products release the GIL).

    >>> sums = list(map_resamples(lambda w: w.sum(axis=1), n_units=5, samples=60, seed=3))
    >>> sum(len(s) for s in sums), {float(x) for s in sums for x in s}
    (60, {5.0})
    >>> one = [s.tolist() for s in map_resamples(lambda w: w[:, 0], 9, 60, seed=3, threads=1)]
    >>> one == [s.tolist() for s in map_resamples(lambda w: w[:, 0], 9, 60, seed=3, threads=2)]
    True
    """
    sizes = [min(TASK_SAMPLES, samples - done) for done in range(0, samples, TASK_SAMPLES)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))

    def task(i: int) -> list[T]:
        return [work(weights) for weights in resample_weights(n_units, sizes[i], seeds[i])]

    if threads <= 1 or len(sizes) <= 1:
        for i in range(len(sizes)):
            yield from task(i)
        return
    with ThreadPoolExecutor(threads) as pool:
        for results in pool.map(task, range(len(sizes))):
            yield from results


def resample_class_counts(
    unit_class: np.ndarray, samples: int, seed: int, batch: int = CLASS_BATCH
) -> Iterator[np.ndarray]:
    """Bootstrap resamples of units that fall into classes of interchangeable units (units that
    contribute alike to every statistic), as how many units of each class are drawn.

    Drawing the units with replacement is exactly drawing a multinomial over the classes, their
    frequencies as probabilities, so a resample costs the number of classes, not of units.
    Yields batches of shape (classes, batch), `samples` columns in all.

    >>> [b.shape for b in resample_class_counts(np.array([0, 0, 1]), samples=3, seed=1)]
    [(2, 3)]
    >>> {float(x) for b in resample_class_counts(np.array([0, 1, 1]), 5, seed=2) for x in b.sum(0)}
    {3.0}
    """
    n_units = len(unit_class)
    frequency = np.bincount(unit_class) / n_units
    rng = np.random.default_rng(seed)
    for done in range(0, samples, batch):
        size = min(batch, samples - done)
        yield rng.multinomial(n_units, frequency, size=size).T.astype(np.float64)


def poisson_weights(
    n_units: int, samples: int, seed: int, batch_cells: int = BATCH_CELLS
) -> Iterator[np.ndarray]:
    """Batches of Poisson(1) bootstrap weights, each of shape (batch, n_units), `samples` rows.

    Each unit's weight is drawn on its own, so groups of units are resampled at once without a
    loop over groups; for groups of more than a few units it matches drawing with replacement.

    >>> [b.shape for b in poisson_weights(4, samples=3, seed=1)]
    [(3, 4)]
    """
    if n_units <= 0 or samples <= 0:
        return
    rng = np.random.default_rng(seed)
    batch = max(1, min(samples, batch_cells // n_units))
    for done in range(0, samples, batch):
        yield rng.poisson(1.0, size=(min(batch, samples - done), n_units))


def resample_indices(
    n_units: int, samples: int, seed: int | np.random.SeedSequence, batch_cells: int = BATCH_CELLS
) -> Iterator[np.ndarray]:
    """Batches of bootstrap resamples as the positions of the units drawn, each of shape
    (batch, n_units), `samples` rows in all: `values[drawn]` is a batch of resampled values, so
    a median or a sum over a resample is one numpy call over its row.

    >>> (drawn,) = resample_indices(3, samples=4, seed=1)
    >>> drawn.shape, bool(((drawn >= 0) & (drawn < 3)).all())
    ((4, 3), True)
    """
    if n_units <= 0 or samples <= 0:
        return
    rng = np.random.default_rng(seed)
    batch = max(1, min(samples, batch_cells // n_units))
    for done in range(0, samples, batch):
        yield rng.integers(0, n_units, (min(batch, samples - done), n_units))


def permuted_labels(
    labels: np.ndarray, samples: int, seed: int, batch_cells: int = BATCH_CELLS
) -> Iterator[np.ndarray]:
    """Batches of random permutations of `labels`, each of shape (batch, n_units), `samples`
    rows in all: under the null hypothesis that labels do not matter, every one is as likely.

    >>> (p,) = permuted_labels(np.array([0, 0, 1]), samples=5, seed=2)
    >>> p.shape, sorted(set(p.sum(axis=1).tolist()))
    ((5, 3), [1])
    """
    labels = np.asarray(labels)
    if len(labels) == 0 or samples <= 0:
        return
    rng = np.random.default_rng(seed)
    batch = max(1, min(samples, batch_cells // len(labels)))
    for done in range(0, samples, batch):
        size = min(batch, samples - done)
        yield rng.permuted(np.broadcast_to(labels, (size, len(labels))), axis=1)


def permuted_class_tables(
    class_sizes: np.ndarray,
    group_sizes: np.ndarray,
    samples: int,
    seed: int | np.random.SeedSequence,
) -> Iterator[np.ndarray]:
    """Batches of (batch, groups, classes) tables: how many units of each class a random
    permutation of group labels puts in each group, `samples` tables in all.

    Units of one class are interchangeable, so shuffling labels across units is drawing a table
    with these margins: class by class, each group's share a hypergeometric draw from the places
    it has left, for the cost of the table instead of the units.

    >>> (t,) = permuted_class_tables(np.array([3, 5]), np.array([6, 2]), samples=4, seed=1)
    >>> t.shape, t.sum(axis=2).tolist()[0], t.sum(axis=1).tolist()[0]
    ((4, 2, 2), [6.0, 2.0], [3.0, 5.0])
    """
    rng = np.random.default_rng(seed)
    n_groups, n_classes = len(group_sizes), len(class_sizes)
    batch = max(1, min(samples, CLASS_BATCH))
    for done in range(0, samples, batch):
        size = min(batch, samples - done)
        places = np.tile(np.asarray(group_sizes, dtype=np.int64), (size, 1))
        tables = np.zeros((size, n_groups, n_classes))
        for c, units in enumerate(class_sizes):
            left = np.full(size, int(units))
            others = places.sum(axis=1)
            for g in range(n_groups - 1):
                others = others - places[:, g]
                drawn = rng.hypergeometric(places[:, g], others, left)
                tables[:, g, c] = drawn
                places[:, g] -= drawn
                left -= drawn
            tables[:, -1, c] = left
            places[:, -1] -= left
        yield tables


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    """Two-sided percentile interval of the finite bootstrap values; (None, None) if there are none.

    >>> tuple(round(x, 9) for x in percentile_interval(np.arange(101.0), 0.9))
    (5.0, 95.0)
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None, None
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return float(low), float(high)


def percentile_intervals(draws: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """`percentile_interval` of each column of `draws` (resamples x statistics), NaN where a
    column has no finite value.

    >>> low, high = percentile_intervals(np.stack([np.arange(101.0), np.full(101, np.nan)], 1), 0.9)
    >>> low.round(9).tolist(), high.round(9).tolist()
    ([5.0, nan], [95.0, nan])
    """
    tail = (1.0 - confidence) / 2.0
    finite = np.where(np.isfinite(draws), draws, np.nan)
    with warnings.catch_warnings():  # an all-NaN column warns; its interval is NaN either way
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(finite, [tail, 1.0 - tail], axis=0)
    return low, high
