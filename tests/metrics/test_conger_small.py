"""Conger's kappa below -1 on six units is the formula, not a bug: each coder's marginals come
from the units that coder rated, so with missing ratings chance agreement can be near total and
(p_o - p_e) / (1 - p_e) falls far below -1 (the pattern of the MTurk sample's field `c1`)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from metrics.agreement import agreement_report

# coder h rated all six units (five 0, one 1); the others said 0 on one unit each, o0 on two
SIX_UNITS = pl.DataFrame(
    {
        "unit": [f"u{i}" for i in range(6) for _ in range(2)],
        "coder": [c for i in range(6) for c in ("h", f"o{i % 5}")],
        "value": ["0", "0"] * 5 + ["1", "0"],
    }
)


def gwet_conger_chance(frame: pl.DataFrame) -> float:
    """Gwet (2014) eq. for Conger's p_e with missing ratings, written out: p_gk the share of
    coder g's ratings in k, pbar_k their mean, s2_kk their variance over the R coders."""
    counts = frame.group_by("coder", "value").len()
    shares = (
        counts.with_columns(pl.col("len") / pl.col("len").sum().over("coder"))
        .pivot(on="value", index="coder", values="len")
        .fill_null(0)
        .sort("coder")
    )
    p = shares.drop("coder").to_numpy()
    r = p.shape[0]
    mean = p.mean(axis=0)
    s2 = ((p**2).sum(axis=0) - r * mean**2) / (r - 1)
    return float((mean**2 - s2 / r).sum())


def test_conger_kappa_of_six_units_is_minus_two_as_gwets_formula_gives():
    report = agreement_report(SIX_UNITS)
    kappa = report.coefficients["cohen_kappa"]
    p_e = gwet_conger_chance(SIX_UNITS)
    assert kappa.chance_agreement == pytest.approx(p_e)
    assert kappa.chance_agreement == pytest.approx(17 / 18)
    assert kappa.observed_agreement == pytest.approx(5 / 6)
    assert kappa.value == pytest.approx((5 / 6 - 17 / 18) / (1 / 18))  # -2.0
    assert report.n_pairable_units == 6  # under [agreement] min_units: shown with a warning


def test_with_two_coders_on_the_same_units_kappa_stays_at_or_above_minus_one():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(2, 12))
        values = rng.integers(0, 3, size=(n, 2)).astype(str)
        frame = pl.DataFrame(
            {"unit": np.repeat(np.arange(n), 2), "coder": ["a", "b"] * n, "value": values.ravel()}
        )
        value = agreement_report(frame).coefficients["cohen_kappa"].value
        assert value is None or value >= -1 - 1e-12
