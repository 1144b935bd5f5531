"""Group comparisons: drawing classes of interchangeable units gives what drawing units gives,
and permuted class tables keep the data's margins."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from metrics.fairness.findings import AuditSettings
from metrics.fairness.group_compare import (
    Comparison,
    RateUnits,
    compare_rates,
    rates_by_class,
    rates_by_unit,
)
from metrics.resampling import permuted_class_tables


def items(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Items with 1-3 answers, some positive; group d a little more positive."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["d", "l", "m"], n, p=[0.3, 0.5, 0.2])
    answers = rng.integers(1, 4, n).astype(float)
    positive = rng.binomial(answers.astype(int), np.where(group == "d", 0.3, 0.25)).astype(float)
    return positive, answers, group.tolist()


def same(a: Comparison, b: Comparison) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name), equal_nan=True)
               if isinstance(getattr(a, f.name), np.ndarray) else getattr(a, f.name)
               == getattr(b, f.name) for f in fields(a))  # fmt: skip


def test_class_and_unit_draws_agree():
    num, den, group = items(seed=1)
    settings = AuditSettings(samples=4000, permutations=4000, seed=2)
    by_class = rates_by_class(RateUnits.of(num, den, group), "l", settings)
    by_unit = rates_by_unit(RateUnits.of(num, den, group), "l", settings)
    assert by_class.value == pytest.approx(by_unit.value)
    assert by_class.n.tolist() == by_unit.n.tolist()
    for field in ("value_low", "value_high", "difference_low", "difference_high", "ratio_low",
                  "ratio_high"):  # fmt: skip
        expected = getattr(by_unit, field)
        assert getattr(by_class, field) == pytest.approx(expected, rel=0.01, abs=0.006), field
    assert by_class.p_value[[0, 2]] == pytest.approx(by_unit.p_value[[0, 2]], abs=0.015)


def test_compare_rates_takes_classes_only_when_units_share_them():
    num, den, group = items(seed=3)
    settings = AuditSettings(samples=50, permutations=50, seed=4)
    few = compare_rates(num, den, group, "l", settings)
    assert same(few, rates_by_class(RateUnits.of(num, den, group), "l", settings))
    wages = np.random.default_rng(5).lognormal(2, 0.3, 40)
    many = compare_rates(wages, np.ones(40), ["a", "b"] * 20, "a", settings)
    assert same(
        many, rates_by_unit(RateUnits.of(wages, np.ones(40), ["a", "b"] * 20), "a", settings)
    )


def test_permuted_class_tables_keep_the_margins_and_spread_classes_fairly():
    class_sizes, group_sizes = np.array([10, 30, 60]), np.array([50, 25, 25])
    tables = np.concatenate(list(permuted_class_tables(class_sizes, group_sizes, 3000, seed=6)))
    assert (tables.sum(axis=2) == group_sizes).all()
    assert (tables.sum(axis=1) == class_sizes).all()
    expected = np.outer(group_sizes, class_sizes) / class_sizes.sum()
    assert tables.mean(axis=0) == pytest.approx(expected, abs=0.15)
