"""Span and box matching: overlap, one-to-one assignment, thresholds, F1 between annotators."""

from __future__ import annotations

import doctest
import json

import polars as pl
import pytest

import metrics.regions
from metrics.regions import (
    Box,
    Span,
    box_iou,
    match_regions,
    pair_f1,
    parse_region,
    region_agreement,
    span_overlap,
)


def test_overlap_by_hand():
    assert span_overlap(Span(0, 4), Span(2, 6)) == pytest.approx(2 / 6)
    assert span_overlap(Span(0, 4), Span(4, 8)) == 0.0
    assert box_iou(Box(0, 0, 4, 4), Box(0, 0, 4, 2)) == pytest.approx(0.5)
    assert box_iou(Box(0, 0, 1, 1), Box(5, 5, 1, 1)) == 0.0


def test_assignment_is_optimal_not_greedy():
    # greedy would pair a0 with b0 (0.8) and leave a1 unmatched; the optimum matches both
    a = [Span(0, 10), Span(8, 20)]
    b = [Span(2, 10), Span(10, 20)]
    assert span_overlap(a[0], b[0]) == pytest.approx(0.8)
    matches = match_regions(a, b, threshold=0.5)
    assert sorted((i, j) for i, j, _ in matches) == [(0, 0), (1, 1)]


def test_threshold_and_labels():
    a, b = [Span(0, 10, "PER")], [Span(0, 5, "PER")]
    assert match_regions(a, b, threshold=0.5)[0][2] == pytest.approx(0.5)  # at the threshold
    assert match_regions(a, b, threshold=0.51) == []
    assert match_regions(a, [Span(0, 10, "ORG")], threshold=0.5) == []
    assert len(match_regions(a, [Span(0, 10, "ORG")], threshold=0.5, same_label=False)) == 1
    assert pair_f1([], [], 0.5) == 1.0
    assert pair_f1(a, [], 0.5) == 0.0


def test_parse_label_studio_and_errors():
    region = parse_region({"start": 3, "end": 9, "label": ["LOC"]})
    assert region == Span(3.0, 9.0, "LOC")
    assert parse_region(None) is None
    with pytest.raises(ValueError, match="neither a span"):
        parse_region('{"points": [1, 2]}')


def test_region_agreement_pools_pairs_and_units():
    def span(start, end, label="E"):
        return json.dumps({"start": start, "end": end, "label": label})

    frame = pl.DataFrame(
        {
            "unit": ["d1", "d1", "d1", "d2", "d2", "d2", "d3"],
            "coder": ["a", "b", "c", "a", "b", "c", "a"],
            # d1: a, b, c agree; d2: a and b agree, c marked nothing; d3: only a
            "region": [span(0, 5), span(0, 5), span(1, 5), span(10, 20), span(11, 20), None,
                       span(3, 4)],
        }
    )  # fmt: skip
    result = region_agreement(frame, span_threshold=0.5, bootstrap_samples=200)
    # d1: 3 pairs, 3 matches, 6 regions; d2: a-b 1 match (2 regions), a-c 0 (1), b-c 0 (1)
    assert result.f1 == pytest.approx(2 * 4 / 10)
    assert result.n_units == 2 and result.n_regions == 6
    assert result.ci_low <= result.f1 <= result.ci_high
    pairs = {(r["coder_a"], r["coder_b"]): r for r in result.pairs.to_dicts()}
    assert pairs[("a", "c")]["f1"] == pytest.approx(2 / 3)
    assert result.as_dict()["n_coder_pairs"] == 3


def test_region_agreement_undefined_without_pairs():
    frame = pl.DataFrame({"unit": ["d1"], "coder": ["a"], "region": ['{"start": 0, "end": 2}']})
    result = region_agreement(frame)
    assert result.f1 is None and "two or more" in result.undefined_reason


def test_docstring_examples():
    result = doctest.testmod(metrics.regions)
    assert result.attempted > 0 and result.failed == 0


def test_importer_box_keys_and_other_shapes():
    # the importers write boxes with w/h; polygons and keypoints are left out, not fatal
    assert parse_region({"x": 0, "y": 0, "w": 2, "h": 3}) == Box(0.0, 0.0, 2.0, 3.0)
    with pytest.raises(ValueError):
        parse_region({"start": 3, "end": None})
    box = json.dumps({"x": 0, "y": 0, "w": 4, "h": 4, "label": "car"})
    polygon = json.dumps({"points": [[0, 0], [1, 1], [0, 1]], "label": "car"})
    frame = pl.DataFrame(
        {"unit": ["i1"] * 4, "coder": ["a", "b", "a", "b"], "region": [box, box, polygon, polygon]}
    )
    result = region_agreement(frame)
    assert result.f1 == 1.0 and result.n_unsupported == 2
    only_polygons = region_agreement(frame.filter(pl.col("region") == polygon))
    assert only_polygons.f1 is None and "neither spans nor boxes" in only_polygons.undefined_reason
