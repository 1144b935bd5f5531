"""A field's level of measurement: the inference rule, the configured levels, and the real
Toloka sample's 0-3 relevance grades read at the level inferred for them."""

from __future__ import annotations

import glob

import duckdb
import polars as pl
import pytest

from cli.main import main
from metrics.levels import configured_level, field_level, infer_level


@pytest.mark.parametrize(
    ("values", "level"),
    [
        (["0", "1", "2", "3"], "ordinal"),  # relevance grades
        (["1", "5", "3", " 2 "], "ordinal"),  # a Likert scale, spaces as exported
        (["0", "10", "5"], "ordinal"),  # a 0-10 rating
        ([1.0, 2.0, 3.0], "ordinal"),
        (["0", "1"], "nominal"),  # two values: ordinal and nominal alpha are the same
        (["pos", "neg", "neu"], "nominal"),
        (["1.5", "2", "3"], "nominal"),  # not whole numbers
        (["0", "3", "17"], "nominal"),  # 17 steps apart: ids or counts, not grades
        (["1", "2", "x"], "nominal"),
    ],
)
def test_the_inference_rule(values, level):
    assert infer_level(pl.Series(values)) == level


def test_the_most_specific_configured_level_wins():
    levels = {"*:*:grade": "interval", "toloka:*:grade": "ordinal", "toloka:p1:grade": "ratio"}
    assert configured_level(levels, "toloka", "p1", "grade") == "ratio"
    assert configured_level(levels, "toloka", "p2", "grade") == "ordinal"
    assert configured_level(levels, "mturk", "p2", "grade") == "interval"
    assert configured_level(levels, "mturk", "p2", "label") is None


def test_a_configured_ordered_level_on_words_is_reported_and_compared_as_names():
    found = field_level({"toloka:p1:label": "ordinal"}, "toloka", "p1", "label", ["low", "high"])
    assert (found.level, found.source) == ("nominal", "configured")
    assert "does not fit" in found.note


def test_the_toloka_relevance_sample_is_read_as_ordinal(shared_dir, tmp_path, monkeypatch):
    """The real sample's 200 ratings of 78 units: ordinal alpha 0.1682, nominal 0.2109 (as the
    `krippendorff` package computes them on the same data, and below the demo's 0.676)."""
    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "ingest", str(shared_dir / "samples" / "toloka")]) == 0
    (snapshot,) = sorted(glob.glob(str(data / "snapshots" / "*.duckdb")))[-1:]
    con = duckdb.connect(snapshot, read_only=True)
    try:
        level = con.sql("SELECT level, level_source FROM mart_quality_fields").fetchall()
        alpha = con.sql(
            "SELECT value FROM mart_quality_agreement WHERE coefficient = 'krippendorff_alpha'"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert level == [("ordinal", "inferred")]
    assert alpha == pytest.approx(0.1681744, abs=5e-7)
