"""Bootstrap over units: resampling weights in memory-bounded batches, and percentile intervals.

A resample draws units with replacement; it is stored as how often each unit was drawn (a row of
multinomial counts), so any statistic that is a sum over units becomes `weights @ per_unit_values`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# Cells per batch of weights (batch rows x units); 4 million float64 cells is 32 MB.
BATCH_CELLS = 4_000_000


def resample_weights(
    n_units: int, samples: int, seed: int, batch_cells: int = BATCH_CELLS
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
    done = 0
    while done < samples:
        size = min(batch, samples - done)
        draws = rng.integers(0, n_units, size=(size, n_units), dtype=np.int64)
        # one bincount over offset draws fills the whole batch at once
        offsets = (np.arange(size) * n_units)[:, None]
        counts = np.bincount((draws + offsets).ravel(), minlength=size * n_units)
        yield counts.reshape(size, n_units).astype(np.float64)
        done += size


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
