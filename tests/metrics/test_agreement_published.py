"""Every published agreement value in ../shared/iaa, within half a unit of its last decimal."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from metrics.agreement import agreement_report, two_coder_kappa, unit_agreement


def load(shared_dir: Path, name: str) -> dict:
    return json.loads((shared_dir / "iaa" / f"{name}.json").read_text())


def assert_published(value: float | None, example: dict, key: str) -> None:
    """abs(value - published) <= half a unit of the published number's last decimal."""
    printed = example["expected_as_published"][key]
    tolerance = Decimal(1).scaleb(Decimal(printed).as_tuple().exponent) / 2
    assert value is not None, key
    assert abs(value - float(printed)) <= float(tolerance) + 1e-15, (key, value, printed)


def report(example: dict, level: str = "nominal", single_rated: str = "ignore", data=None):
    frame = pl.DataFrame(data or example["data"])
    return agreement_report(
        frame, level, categories=example["categories"], single_rated=single_rated
    ).coefficients


def test_krippendorff_2011_alpha_all_levels(shared_dir):
    example = load(shared_dir, "krippendorff2011_C_4coders_12units_missing")
    for level in ("nominal", "ordinal", "interval", "ratio"):
        alpha = report(example, level)["krippendorff_alpha"].value
        assert_published(alpha, example, f"krippendorff_alpha_{level}")


def test_krippendorff_2011_gwet_irrcac_figures(shared_dir):
    # irrCAC counts single-rated units in the chance marginals: our `single_rated="chance"`
    example = load(shared_dir, "krippendorff2011_C_4coders_12units_missing")
    coefs = report(example, single_rated="chance")
    assert_published(
        coefs["krippendorff_alpha"].value, example, "irrCAC_krippendorff_alpha_nominal"
    )
    assert_published(coefs["gwet_ac1"].value, example, "irrCAC_gwet_ac1")
    assert_published(coefs["fleiss_kappa"].value, example, "irrCAC_fleiss_kappa_generalized")
    assert_published(coefs["brennan_prediger"].value, example, "irrCAC_brennan_prediger")
    assert_published(coefs["percent_agreement"].value, example, "irrCAC_percent_agreement")


def test_krippendorff_2011_conger_kappa_on_gwet_layout(shared_dir):
    example = load(shared_dir, "krippendorff2011_C_4coders_12units_missing")
    variant = example["variants"]["gwet_cac_raw4raters_layout"]
    coefs = report(example, single_rated="chance", data=variant["data"])
    assert_published(coefs["cohen_kappa"].value, variant, "irrCAC_conger_kappa")


def test_unpairable_unit_does_not_move_alpha(shared_dir):
    example = load(shared_dir, "krippendorff2011_C_4coders_12units_missing")
    without = [r for r in example["data"] if r["unit"] != 12]
    assert report(example)["krippendorff_alpha"].value == pytest.approx(
        report(example, data=without)["krippendorff_alpha"].value, abs=1e-12
    )
    full = agreement_report(pl.DataFrame(example["data"]))
    assert (full.n_units, full.n_pairable_units, full.n_pairable_values) == (12, 11, 40)


def test_gwet_distribution_of_six_raters(shared_dir):
    example = load(shared_dir, "gwet_irrCAC_distrib_6raters_15subjects")
    coefs = report(example)
    assert_published(coefs["gwet_ac1"].value, example, "gwet_ac1")
    assert_published(coefs["gwet_ac1"].chance_agreement, example, "gwet_ac1_pe")
    assert_published(coefs["fleiss_kappa"].value, example, "fleiss_kappa")
    assert_published(coefs["fleiss_kappa"].chance_agreement, example, "fleiss_kappa_pe")
    assert_published(coefs["krippendorff_alpha"].value, example, "krippendorff_alpha_nominal")
    assert_published(
        coefs["krippendorff_alpha"].observed_agreement, example, "krippendorff_alpha_pa"
    )
    assert_published(coefs["brennan_prediger"].value, example, "brennan_prediger")
    assert_published(coefs["percent_agreement"].value, example, "percent_agreement")


def test_wikipedia_fleiss_kappa_and_per_subject_agreement(shared_dir):
    example = load(shared_dir, "wikipedia_fleiss_kappa_10subjects_14raters")
    assert_published(report(example)["fleiss_kappa"].value, example, "fleiss_kappa")
    per_subject = unit_agreement(pl.DataFrame(example["data"])).sort("unit")["agreement"]
    published = example["expected_as_published"]["P_i"]
    for value, printed in zip(per_subject.to_list(), published, strict=True):
        assert abs(value - float(printed)) <= 0.0005 + 1e-15


@pytest.mark.parametrize(
    "name", ["wikipedia_cohen_kappa_grant_2x2", "feinstein_cicchetti1990_kappa_paradox_A"]
)
def test_two_coder_cohen_kappa_with_its_terms(shared_dir, name):
    example = load(shared_dir, name)
    kappa = report(example)["cohen_kappa"]
    assert_published(kappa.value, example, "cohen_kappa")
    assert_published(kappa.observed_agreement, example, "p_o")
    assert_published(kappa.chance_agreement, example, "p_e")


def test_sas_weighted_kappa_and_standard_errors(shared_dir):
    example = load(shared_dir, "statsmodels_sas_3x3_weighted_kappa")
    coefs = report(example, "ordinal")
    assert_published(coefs["cohen_kappa"].value, example, "cohen_kappa")
    assert_published(coefs["cohen_kappa_linear"].value, example, "weighted_kappa_linear")
    table = np.array(example["matrix"]["table"])
    simple, linear = two_coder_kappa(table), two_coder_kappa(table, "linear")
    assert_published(simple.kappa, example, "cohen_kappa")
    assert_published(simple.standard_error, example, "cohen_kappa_ase")
    assert_published(linear.kappa, example, "weighted_kappa_linear")
    assert_published(linear.standard_error, example, "weighted_kappa_linear_ase")


def test_crowdkit_toy_alpha_matches_packages(shared_dir):
    example = load(shared_dir, "crowdkit_toy_ysda_aggregation")
    expected = example["computed_by_packages"]["krippendorff"]["alpha_nominal"]
    assert report(example)["krippendorff_alpha"].value == pytest.approx(expected, abs=1e-9)
