"""Agreement coefficients on tiny hand-computed data, edge cases, and the bootstrap."""

from __future__ import annotations

import doctest

import numpy as np
import polars as pl
import pytest

import metrics.agreement
import metrics.resampling
from metrics.agreement import (
    NO_PAIRABLE_UNITS,
    _coefficient_values,
    _unit_sums,
    agreement_by,
    agreement_report,
    agreement_table,
    category_agreement,
    contingency_table,
    dense_codes,
    encode_ratings,
    hash_groups,
    krippendorff_alpha,
    pairwise_agreement,
    unit_patterns,
    unit_tallies,
)
from metrics.resampling import percentile_interval, resample_weights


def long(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["unit", "coder", "value"], orient="row")


# Two coders, four units: u1 a/a, u2 a/b, u3 b/b, u4 b/b.
TWO_CODERS = long(
    [("u1", "x", "a"), ("u1", "y", "a"), ("u2", "x", "a"), ("u2", "y", "b"),
     ("u3", "x", "b"), ("u3", "y", "b"), ("u4", "x", "b"), ("u4", "y", "b")]
)  # fmt: skip


def test_two_coder_coefficients_by_hand():
    coefs = agreement_table(TWO_CODERS)
    # p_o = 3/4. Coder x says a,a,b,b; y says a,b,b,b.
    assert coefs["percent_agreement"].value == pytest.approx(0.75)
    # Cohen: p_e = .5*.25 + .5*.75 = .5 -> (0.75 - 0.5) / 0.5
    assert coefs["cohen_kappa"].value == pytest.approx(0.5)
    assert coefs["cohen_kappa"].chance_agreement == pytest.approx(0.5)
    # Scott / Fleiss: pooled a 3/8, b 5/8 -> p_e = 34/64 -> 7/15
    assert coefs["scott_pi"].value == pytest.approx(7 / 15)
    assert coefs["fleiss_kappa"].value == pytest.approx(7 / 15)
    # alpha: n = 8, off-diagonal coincidences 2, sum n_k n_l delta = 2*3*5 -> 1 - 7*2/30
    assert coefs["krippendorff_alpha"].value == pytest.approx(16 / 30)
    # AC1: p_e = sum pi (1 - pi) / (q - 1) = 30/64 -> (0.75 - 30/64) / (34/64) = 9/17
    assert coefs["gwet_ac1"].value == pytest.approx(9 / 17)
    # Brennan-Prediger: p_e = 1/q = 1/2
    assert coefs["brennan_prediger"].value == pytest.approx(0.5)


def test_prevalence_paradox_same_raw_agreement_different_kappa():
    # Feinstein & Cicchetti (1990): both tables agree 85% of the time
    def from_table(table):
        rows, n = [], 0
        for i, row in enumerate(table):
            for j, count in enumerate(row):
                for _ in range(count):
                    rows += [(n, "A", "+-"[i]), (n, "B", "+-"[j])]
                    n += 1
        return agreement_table(long(rows))

    balanced, skewed = from_table([[40, 9], [6, 45]]), from_table([[80, 10], [5, 5]])
    assert balanced["percent_agreement"].value == pytest.approx(0.85)
    assert skewed["percent_agreement"].value == pytest.approx(0.85)
    assert round(balanced["cohen_kappa"].value, 2) == 0.70
    # p_e = .9*.85 + .1*.15 = .78 -> (.85 - .78) / .22
    assert skewed["cohen_kappa"].value == pytest.approx(0.07 / 0.22)
    # AC1 barely moves: pi(+) = .875, p_e = 2 * .875 * .125
    assert skewed["gwet_ac1"].value == pytest.approx((0.85 - 0.21875) / (1 - 0.21875))


# Units (1, 1), (2, 2), (3, 2): n_1 = 2, n_2 = 3, n_3 = 1, one disagreeing pair (3, 2).
SMALL_SCALE = long([(1, "a", 1), (1, "b", 1), (2, "a", 2), (2, "b", 2), (3, "a", 3), (3, "b", 2)])


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        # interval: observed 2 * 1^2; expected 2*(2*3*1 + 2*1*4 + 3*1*1) = 34 -> 1 - 5*2/34
        ("interval", 1 - 10 / 34),
        # ratio: delta(2,3) = 1/25, delta(1,2) = 1/9, delta(1,3) = 1/4 -> 1 - 30/193
        ("ratio", 163 / 193),
        # ordinal: mid-ranks 1, 3.5, 5.5 -> observed 2*4, expected 2*(37.5 + 40.5 + 12) = 180
        ("ordinal", 1 - 40 / 180),
        # nominal: observed 2, expected 2*(2*3 + 2*1 + 3*1) = 22 -> 1 - 10/22
        ("nominal", 1 - 10 / 22),
    ],
)
def test_alpha_levels_by_hand(level, expected):
    assert agreement_table(SMALL_SCALE, level)["krippendorff_alpha"].value == pytest.approx(
        expected
    )
    assert krippendorff_alpha(SMALL_SCALE, level).value == pytest.approx(expected)


def test_alpha_matches_krippendorff_package_on_random_data():
    kpkg = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(3)
    matrix = rng.integers(1, 6, size=(5, 40)).astype(float)
    matrix[rng.random(matrix.shape) < 0.3] = np.nan
    coder, unit = np.nonzero(~np.isnan(matrix))
    frame = pl.DataFrame({"unit": unit, "coder": coder, "value": matrix[coder, unit]})
    for level in ("nominal", "ordinal", "interval", "ratio"):
        ours = agreement_table(frame, level)["krippendorff_alpha"].value
        theirs = kpkg.alpha(reliability_data=matrix, level_of_measurement=level)
        assert ours == pytest.approx(theirs, abs=1e-12), level


def test_weighted_kappa_spaces_weights_over_declared_categories():
    # linear weights on ranks: a disagreement one step apart counts half
    frame = long([(1, "a", "lo"), (1, "b", "mid"), (2, "a", "hi"), (2, "b", "hi")])
    coefs = agreement_table(frame, "ordinal", categories=["lo", "mid", "hi"])
    assert coefs["cohen_kappa_linear"].observed_agreement == pytest.approx(0.75)
    assert "gwet_ac2" in coefs and "cohen_kappa_quadratic" in coefs
    assert "gwet_ac2" not in agreement_table(frame)


def test_one_category_is_undefined_not_one():
    frame = long([(1, "a", "yes"), (1, "b", "yes"), (2, "a", "yes"), (2, "b", "yes")])
    coefs = agreement_table(frame, bootstrap_samples=20)
    assert coefs["percent_agreement"].value == 1.0
    for name, coef in coefs.items():
        if name != "percent_agreement":
            assert coef.value is None and coef.ci_low is None
            assert "one category ('yes')" in coef.undefined_reason
            assert "undefined_reason" in coef.as_dict()


def test_no_pairable_units_is_undefined_everywhere():
    frame = long([(1, "a", "x"), (2, "b", "y"), (3, "a", "x")])
    report = agreement_report(frame)
    assert report.n_units == 3 and report.n_pairable_values == 0
    assert all(c.undefined_reason == NO_PAIRABLE_UNITS for c in report.coefficients.values())
    empty = agreement_report(long([]).cast({"unit": pl.Int64, "value": pl.String}))
    assert empty.n_units == 0
    assert empty.coefficients["krippendorff_alpha"].undefined_reason == NO_PAIRABLE_UNITS
    assert krippendorff_alpha(frame).undefined_reason == NO_PAIRABLE_UNITS


def test_missing_values_are_absent_ratings():
    with_null = TWO_CODERS.vstack(long([("u5", "x", None), ("u5", "y", "a")]))
    assert agreement_table(with_null)["cohen_kappa"].value == pytest.approx(0.5)


def test_input_errors_say_what_to_do():
    with pytest.raises(ValueError, match="columns present are: unit, coder, value"):
        encode_ratings(TWO_CODERS, unit="item")
    with pytest.raises(ValueError, match="Unknown level 'nominl'"):
        agreement_table(TWO_CODERS, "nominl")
    words = long([(1, "a", "low"), (1, "b", "high")])
    with pytest.raises(ValueError, match="--categories"):
        agreement_table(words, "ordinal")
    with pytest.raises(ValueError, match=r"not among the declared categories"):
        agreement_table(words, "ordinal", categories=["low", "mid"])
    with pytest.raises(ValueError, match="true zero"):
        agreement_table(long([(1, "a", -1), (1, "b", 2)]), "ratio")
    with pytest.raises(ValueError, match="have no coder"):
        encode_ratings(long([(1, None, "x")]).cast({"coder": pl.String}))


def test_numeric_text_sorts_as_numbers_for_ordered_levels():
    frame = long([(1, "a", "9"), (1, "b", "10"), (2, "a", "2"), (2, "b", "2")])
    assert encode_ratings(frame, "interval").categories == ["2", "9", "10"]


def test_bootstrap_reweighting_equals_recomputing_on_the_resample():
    rng = np.random.default_rng(5)
    units = np.repeat(np.arange(30), 3)
    frame = pl.DataFrame(
        {"unit": units, "coder": rng.permutation(np.tile(np.arange(6), 15)),
         "value": rng.integers(1, 4, len(units))}
    )  # fmt: skip
    for level in ("nominal", "ordinal", "interval", "ratio"):
        ratings = encode_ratings(frame, level)
        tallies = unit_tallies(ratings)
        names = list(agreement_report(ratings).coefficients)
        weights = rng.integers(0, 3, tallies.n_units).astype(float)
        sums = _unit_sums(tallies, ratings, set(names)).totals(weights[None, :])
        reweighted = _coefficient_values(sums, names, ratings)
        copies = [
            frame.filter(pl.col("unit") == u).with_columns(pl.lit(f"{u}-{c}").alias("unit"))
            for u, w in enumerate(weights)
            for c in range(int(w))
        ]
        resample = agreement_table(pl.concat(copies), level)
        for name in names:
            assert reweighted[name][0][0] == pytest.approx(resample[name].value, abs=1e-12), name


def test_units_of_one_pattern_contribute_alike_to_every_pattern_sum():
    # what makes drawing patterns instead of units exact; both ways of coding patterns
    rng = np.random.default_rng(8)
    few = pl.DataFrame({"unit": np.repeat(np.arange(60), 3), "coder": np.tile(np.arange(3), 60),
                        "value": rng.integers(1, 5, 180)})  # fmt: skip
    wide = pl.concat([few, pl.DataFrame({"unit": [99] * 40, "coder": np.arange(40) + 10,
                                         "value": np.arange(40)})])  # fmt: skip
    for frame in (few, wide):
        ratings = encode_ratings(frame, "interval")
        tallies = unit_tallies(ratings)
        sums = _unit_sums(tallies, ratings, set(agreement_report(ratings).coefficients))
        pattern, representative = unit_patterns(tallies)
        assert len(representative) < tallies.n_units
        assert (pattern[representative] == np.arange(len(representative))).all()
        for name in set(sums.blocks) - sums.by_coder:
            per_unit = sums._matrix(name).toarray()
            assert np.array_equal(per_unit, per_unit[:, representative[pattern]]), name


def test_drawing_patterns_gives_the_interval_of_drawing_units():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 300)
    rows = [(u, c, int(truth[u] if rng.random() < 0.7 else rng.integers(0, 3)))
            for u in range(300) for c in range(3)]  # fmt: skip
    names = ["percent_agreement", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1"]
    samples = 4000
    report = agreement_report(long(rows), bootstrap_samples=samples, coefficients=tuple(names))
    ratings = encode_ratings(long(rows))
    tallies = unit_tallies(ratings)
    sums = _unit_sums(tallies, ratings, set(names))
    assert not sums.by_coder  # so the report drew patterns
    draws = [_coefficient_values(sums.totals(w), names, ratings)
             for w in resample_weights(tallies.n_units, samples, seed=77)]  # fmt: skip
    for name in names:
        by_unit = percentile_interval(np.concatenate([d[name][0] for d in draws]), 0.95)
        coef = report.coefficients[name]
        assert (coef.ci_low, coef.ci_high) == pytest.approx(by_unit, abs=0.012), name


def test_bootstrap_interval_is_reproducible_and_brackets_the_value():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 200)
    rows = [(u, c, int(truth[u] if rng.random() < 0.8 else rng.integers(0, 3)))
            for u in range(200) for c in range(3)]  # fmt: skip
    first = agreement_table(long(rows), bootstrap_samples=300, seed=9)
    again = agreement_table(long(rows), bootstrap_samples=300, seed=9)
    for name, coef in first.items():
        assert coef.ci_low <= coef.value <= coef.ci_high, name
        assert (coef.ci_low, coef.ci_high) == (again[name].ci_low, again[name].ci_high)
    assert agreement_table(long(rows))["fleiss_kappa"].ci_low is None


def test_identical_units_give_a_degenerate_interval():
    rows = [(u, c, v) for u in range(10) for c, v in zip("abc", "xxy", strict=True)]
    coef = agreement_table(long(rows), bootstrap_samples=50)["percent_agreement"]
    assert coef.ci_low == pytest.approx(coef.value) and coef.ci_high == pytest.approx(coef.value)


def test_category_agreement_by_hand():
    # u1 cat cat, u2 dog dog, u3 cat dog: each class has 3 ratings, 2 agreeing
    frame = long([(1, "a", "cat"), (1, "b", "cat"), (2, "a", "dog"), (2, "b", "dog"),
                  (3, "a", "cat"), (3, "b", "dog")])  # fmt: skip
    table = category_agreement(frame).sort("category")
    assert table["n_ratings"].to_list() == [3, 3]
    assert table["specific_agreement"].to_list() == pytest.approx([2 / 3, 2 / 3])
    # binary collapse equals the nominal alpha for two categories
    assert table["alpha"].to_list() == pytest.approx(
        [agreement_table(frame)["krippendorff_alpha"].value] * 2
    )


def test_pairwise_matrix_and_contingency_table():
    pairs = pairwise_agreement(TWO_CODERS)
    assert pairs.select("coder_a", "coder_b", "n_shared_units").row(0) == ("x", "y", 4)
    assert pairs["cohen_kappa"][0] == pytest.approx(0.5)
    third = TWO_CODERS.vstack(long([("u1", "z", "a"), ("u2", "z", "a")]))
    assert pairwise_agreement(third).height == 3
    assert pairwise_agreement(third, min_shared_units=3).height == 1
    table, categories = contingency_table(TWO_CODERS, "x", "y")
    assert categories == ["a", "b"] and table.tolist() == [[1, 1], [0, 2]]


def test_agreement_by_group():
    frame = pl.concat(
        [TWO_CODERS.with_columns(pl.lit("w1").alias("week")),
         SMALL_SCALE.cast({"unit": pl.String, "value": pl.String}).with_columns(
             pl.lit("w2").alias("week"))]
    )  # fmt: skip
    table = agreement_by(frame, ["week"])
    kappa = table.filter(pl.col("coefficient") == "cohen_kappa").sort("week")
    assert kappa["value"][0] == pytest.approx(0.5)
    assert kappa["n_units"].to_list() == [4, 3]


def test_docstring_examples():
    for module in (metrics.agreement, metrics.resampling):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_hash_groups_keep_equal_hashes_together_when_prefixes_collide():
    rng = np.random.default_rng(2)
    spread = np.uint64(0x9E3779B97F4A7C15)
    hashes = rng.integers(0, 60, 4000).astype(np.uint64) * spread
    hashes += rng.integers(0, 3, 4000).astype(np.uint64)
    # index_bits=60 leaves 4 bits of hash in the sort key: nearly every run is mixed
    for bits in (None, 60):
        order, new = hash_groups(hashes, bits)
        assert sorted(order.tolist()) == list(range(4000))
        assert new.sum() == len(np.unique(hashes))  # each distinct hash forms one run


def test_a_hash_collision_falls_back_to_exact_codes(monkeypatch):
    real_hash = pl.Series.hash

    def colliding(self, seed=0):
        return (
            pl.Series(np.zeros(len(self), dtype=np.uint64)) if seed == 0 else real_hash(self, seed)
        )

    monkeypatch.setattr(pl.Series, "hash", colliding)
    codes, ids = dense_codes(pl.Series(["b", "a", "b", "c"]))
    assert len(ids) == 3 and codes[0] == codes[2] and len(set(codes.tolist())) == 3
    assert sorted(ids.to_list()) == ["a", "b", "c"]


def test_sparse_tallies_give_the_same_figures(monkeypatch):
    # beyond DENSE_TALLY_CELLS the tallies and coincidences take the sorting / sparse path
    rng = np.random.default_rng(8)
    frame = pl.DataFrame(
        {"unit": rng.integers(0, 40, 150), "coder": rng.integers(0, 6, 150),
         "value": rng.integers(1, 5, 150)}
    ).unique(["unit", "coder"])  # fmt: skip
    dense = {
        level: (agreement_table(frame, level), krippendorff_alpha(frame, level))
        for level in ("nominal", "ordinal", "ratio")
    }
    monkeypatch.setattr(metrics.agreement, "DENSE_TALLY_CELLS", 0)
    for level, (table, alpha) in dense.items():
        sparse = agreement_table(frame, level)
        for name, coef in table.items():
            assert sparse[name].value == pytest.approx(coef.value, abs=1e-12), (level, name)
        assert krippendorff_alpha(frame, level).value == pytest.approx(alpha.value, abs=1e-12)
        assert alpha.value == pytest.approx(table["krippendorff_alpha"].value, abs=1e-12)
