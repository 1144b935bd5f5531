"""Agreement on spans and boxes: match two annotators' regions by overlap, report F1.

A region is the JSON of `annotations.region`: a span `{"start", "end", "label"}` (character
offsets, end exclusive) or a box `{"x", "y", "width", "height", "label"}` (or `"w"`, `"h"`, as
the importers write it). Other shapes (polygons, keypoints, masks) are not compared. Two regions
match when
their intersection over union reaches the threshold (and, by default, their labels agree); each
region matches at most one other, chosen to maximise total overlap (Hungarian assignment).

>>> a = [Span(0, 10, "PER"), Span(20, 30, "ORG")]
>>> b = [Span(1, 10, "PER"), Span(40, 45, "ORG")]
>>> match_regions(a, b, threshold=0.5)
[(0, 0, 0.9)]
>>> pair_f1(a, b, threshold=0.5)
0.5
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from metrics.resampling import percentile_interval, resample_weights


@dataclass(frozen=True)
class Span:
    start: float
    end: float
    label: str | None = None


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    label: str | None = None


Region = Span | Box


def parse_region(raw: str | dict[str, Any] | None) -> Region | None:
    """A Span or Box from its JSON (text or dict); None for an empty region.

    >>> parse_region('{"x": 1, "y": 2, "width": 3, "height": 4, "label": "car"}')
    Box(x=1.0, y=2.0, width=3.0, height=4.0, label='car')
    """
    if raw is None or raw == "":
        return None
    data = json.loads(raw) if isinstance(raw, str) else raw
    label = data.get("label")
    if isinstance(label, list):  # Label Studio keeps labels in a list
        label = label[0] if label else None
    try:
        if {"start", "end"} <= data.keys():
            return Span(float(data["start"]), float(data["end"]), label)
        width, height = data.get("width", data.get("w")), data.get("height", data.get("h"))
        if {"x", "y"} <= data.keys() and width is not None and height is not None:
            return Box(float(data["x"]), float(data["y"]), float(width), float(height), label)
    except (TypeError, ValueError):
        pass  # a coordinate that is not a number: fall through to the error
    raise ValueError(
        f"Region {data!r} is neither a span (start, end) nor a box (x, y, width, height)."
    )


def span_overlap(a: Span, b: Span) -> float:
    """Overlap of two character spans: shared characters / characters in either.

    >>> span_overlap(Span(0, 10), Span(5, 15))
    0.3333333333333333
    """
    inter = max(0.0, min(a.end, b.end) - max(a.start, b.start))
    union = (a.end - a.start) + (b.end - b.start) - inter
    return inter / union if union > 0 else float(a == b)


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two axis-aligned boxes.

    >>> box_iou(Box(0, 0, 2, 2), Box(1, 1, 2, 2))
    0.14285714285714285
    """
    w = max(0.0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x))
    h = max(0.0, min(a.y + a.height, b.y + b.height) - max(a.y, b.y))
    inter = w * h
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def region_overlap(a: Region, b: Region) -> float:
    """IoU of two regions of the same kind; 0 for a span against a box."""
    if isinstance(a, Span) and isinstance(b, Span):
        return span_overlap(a, b)
    if isinstance(a, Box) and isinstance(b, Box):
        return box_iou(a, b)
    return 0.0


def match_regions(
    a: list[Region], b: list[Region], threshold: float, same_label: bool = True
) -> list[tuple[int, int, float]]:
    """Pairs (index in a, index in b, overlap) of matched regions, one-to-one."""
    if not a or not b:
        return []
    overlap = np.array([[region_overlap(x, y) for y in b] for x in a])
    if same_label:
        labels_agree = np.array([[x.label == y.label for y in b] for x in a])
        overlap = np.where(labels_agree, overlap, 0.0)
    eligible = np.where(overlap >= threshold, overlap, 0.0)
    rows, cols = linear_sum_assignment(eligible, maximize=True)
    return [
        (int(i), int(j), float(overlap[i, j]))
        for i, j in zip(rows, cols, strict=True)
        if eligible[i, j] > 0
    ]


def pair_f1(a: list[Region], b: list[Region], threshold: float, same_label: bool = True) -> float:
    """F1 of two annotators' regions on one unit: 2 matched / (len(a) + len(b)); 1 if both empty."""
    if not a and not b:
        return 1.0
    return 2 * len(match_regions(a, b, threshold, same_label)) / (len(a) + len(b))


@dataclass(frozen=True)
class RegionAgreement:
    """F1 between annotators over all units, with its interval and the per-pair table."""

    f1: float | None
    ci_low: float | None
    ci_high: float | None
    n_units: int
    n_regions: int
    pairs: pl.DataFrame  # coder_a, coder_b, n_units, n_a, n_b, matched, f1
    undefined_reason: str | None = None
    n_unsupported: int = 0  # regions of other shapes, left out

    def as_dict(self) -> dict[str, Any]:
        out = {
            "f1": self.f1,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n_units": self.n_units,
            "n_regions": self.n_regions,
            "n_coder_pairs": self.pairs.height,
            "n_unsupported_regions": self.n_unsupported,
        }
        if self.undefined_reason:
            out["undefined_reason"] = self.undefined_reason
        return out


def region_agreement(
    frame: pl.DataFrame,
    span_threshold: float = 0.5,
    box_threshold: float = 0.5,
    same_label: bool = True,
    bootstrap_samples: int = 0,
    confidence: float = 0.95,
    seed: int = 20181204,
) -> RegionAgreement:
    """Pooled F1 = 2 * matched / regions over every coder pair on every unit.

    `frame` has `unit`, `coder` and `region` (JSON; null when the coder marked nothing on the
    unit). Spans match at `span_threshold`, boxes at `box_threshold`. The interval resamples
    units.
    """
    frame = frame.with_columns(
        pl.col("region").map_elements(_comparable, return_dtype=pl.String).alias("region")
    )
    unsupported = int(frame["region"].eq("").sum())
    frame = frame.with_columns(pl.col("region").replace("", None))
    per_unit, pair_rows = _compare_units(frame, span_threshold, box_threshold, same_label)
    pairs = _pair_table(pair_rows)
    n_regions = int(frame["region"].drop_nulls().len())
    if unsupported and not n_regions:
        reason = "the regions are neither spans nor boxes (polygons, keypoints...): not compared"
        return RegionAgreement(None, None, None, 0, 0, pairs, reason, unsupported)
    if not per_unit:
        reason = "no unit has regions from two or more annotators"
        return RegionAgreement(None, None, None, 0, n_regions, pairs, reason, unsupported)
    matched = np.array([m for m, _ in per_unit], dtype=np.float64)
    total = np.array([t for _, t in per_unit], dtype=np.float64)
    if total.sum() == 0:
        reason = "no annotator marked a region on the compared units"
        return RegionAgreement(None, None, None, len(per_unit), 0, pairs, reason, unsupported)
    f1 = float(2 * matched.sum() / total.sum())
    draws = [
        2 * (w @ matched) / (w @ total)
        for w in resample_weights(len(per_unit), bootstrap_samples, seed)
    ]
    low, high = percentile_interval(np.concatenate(draws), confidence) if draws else (None, None)
    return RegionAgreement(f1, low, high, len(per_unit), n_regions, pairs, None, unsupported)


def _comparable(raw: str) -> str:
    """The region if it is a span or a box, else "" (marks shapes that are not compared)."""
    try:
        parse_region(raw)
    except ValueError:
        return ""
    return raw


def _compare_units(
    frame: pl.DataFrame, span_threshold: float, box_threshold: float, same_label: bool
) -> tuple[list[tuple[int, int]], list[tuple[Any, Any, int, int, int]]]:
    per_unit: list[tuple[int, int]] = []
    pair_rows: list[tuple[Any, Any, int, int, int]] = []
    grouped = (
        frame.select("unit", "coder", "region")
        .group_by("unit", "coder")
        .agg(pl.col("region").drop_nulls())
        .group_by("unit")
        .agg("coder", "region")
        .filter(pl.col("coder").list.len() >= 2)
        .sort("unit")  # the bootstrap's draws fall on units in a fixed order: reproducible
    )
    for coders, regions in zip(grouped["coder"], grouped["region"], strict=True):
        parsed = {c: [parse_region(r) for r in rs] for c, rs in zip(coders, regions, strict=True)}
        names = sorted(parsed, key=str)
        matched = total = 0
        for i, ca in enumerate(names):
            for cb in names[i + 1 :]:
                m = _matched(parsed[ca], parsed[cb], span_threshold, box_threshold, same_label)
                na, nb = len(parsed[ca]), len(parsed[cb])
                pair_rows.append((ca, cb, na, nb, m))
                matched, total = matched + m, total + na + nb
        per_unit.append((matched, total))
    return per_unit, pair_rows


def _matched(
    a: list[Region], b: list[Region], span_threshold: float, box_threshold: float, same_label: bool
) -> int:
    # spans and boxes have their own thresholds, so match each kind separately
    count = 0
    for kind, threshold in ((Span, span_threshold), (Box, box_threshold)):
        ka = [r for r in a if isinstance(r, kind)]
        kb = [r for r in b if isinstance(r, kind)]
        count += len(match_regions(ka, kb, threshold, same_label))
    return count


def _pair_table(rows: list[tuple[Any, Any, int, int, int]]) -> pl.DataFrame:
    schema = {"coder_a": pl.String, "coder_b": pl.String, "n_a": pl.Int64, "n_b": pl.Int64,
              "matched": pl.Int64}  # fmt: skip
    table = pl.DataFrame(
        [(str(a), str(b), na, nb, m) for a, b, na, nb, m in rows], schema=schema, orient="row"
    )
    return (
        table.group_by("coder_a", "coder_b")
        .agg(pl.len().cast(pl.Int64).alias("n_units"), pl.col("n_a", "n_b", "matched").sum())
        .with_columns(
            f1=pl.when(pl.col("n_a") + pl.col("n_b") > 0)
            .then(2 * pl.col("matched") / (pl.col("n_a") + pl.col("n_b")))
            .otherwise(None)
        )
        .sort("coder_a", "coder_b")
    )
