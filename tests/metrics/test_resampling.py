"""The package's one bootstrap: its draws, its intervals, and figures independent of row order."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from metrics.regions import region_agreement
from metrics.resampling import (
    percentile_interval,
    percentile_intervals,
    poisson_weights,
    resample_class_counts,
    resample_weights,
)


def test_column_intervals_equal_one_interval_per_column():
    rng = np.random.default_rng(4)
    draws = rng.normal(size=(300, 5))
    draws[rng.random(draws.shape) < 0.1] = np.nan
    draws[0, 1] = np.inf
    low, high = percentile_intervals(draws, 0.95)
    for j in range(draws.shape[1]):
        assert (low[j], high[j]) == percentile_interval(draws[:, j], 0.95)


def test_class_counts_draw_as_many_units_as_there_are():
    classes = np.array([0, 0, 0, 1, 2, 2])
    drawn = np.concatenate(list(resample_class_counts(classes, 2500, seed=3, batch=1000)), axis=1)
    assert drawn.shape == (3, 2500) and set(drawn.sum(axis=0)) == {6.0}
    assert drawn.mean(axis=1) == pytest.approx([3, 1, 2], abs=0.1)


def test_poisson_weights_are_the_draws_of_one_generator_whatever_the_batch():
    batched = np.concatenate(list(poisson_weights(7, 50, seed=2, batch_cells=70)))
    rng = np.random.default_rng(2)
    assert np.array_equal(batched, np.stack([rng.poisson(1.0, 7) for _ in range(50)]))
    assert [b.shape[0] for b in resample_weights(7, 50, seed=2, batch_cells=70)] == [10] * 5


def test_region_interval_does_not_depend_on_row_order():
    rng = np.random.default_rng(11)
    rows = [(u, f"c{c}", json.dumps({"x": int(rng.integers(0, 20)), "y": 0, "width": 10,
                                     "height": 10, "label": "a"}))
            for u in range(40) for c in range(3)]  # fmt: skip
    frame = pl.DataFrame(rows, schema=["unit", "coder", "region"], orient="row")
    first = region_agreement(frame, bootstrap_samples=300, seed=4)
    for shuffle in range(3):
        again = region_agreement(frame.sample(fraction=1.0, shuffle=True, seed=shuffle),
                                 bootstrap_samples=300, seed=4)  # fmt: skip
        assert (again.f1, again.ci_low, again.ci_high) == (first.f1, first.ci_low, first.ci_high)
