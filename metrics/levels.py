"""A field's level of measurement: what config.toml says, else the rule that infers it from the
field's values (docs/METRICS.md, "Level of measurement").

>>> import polars as pl
>>> infer_level(pl.Series(["0", "3", "2", "1", "2"]))
'ordinal'
>>> infer_level(pl.Series(["pos", "neg"])), infer_level(pl.Series([0, 1, 1]))
('nominal', 'nominal')
>>> field_level({"toloka:*:relevance": "ordinal"}, "toloka", "42774177", "relevance", [])
FieldLevel(level='ordinal', source='configured', note=None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from metrics.ratings import category_codes

# A scale of whole numbers with this many distinct values or fewer, no wider than this many
# steps, reads as ordered grades (0-3 relevance, 1-5 Likert, 0-10 ratings); ids or counts
# rarely fit. Two values are left nominal: ordinal and nominal alpha are then the same number.
ORDINAL_MIN_VALUES = 3
ORDINAL_MAX_SPAN = 10

LevelSource = Literal["configured", "inferred"]


@dataclass(frozen=True)
class FieldLevel:
    """The level a field's agreement is computed at, and whether config set it or it was
    inferred from the values."""

    level: str
    source: LevelSource
    # why a configured level was not used (the values do not fit it), else None
    note: str | None = None


def infer_level(values: pl.Series) -> str:
    """`ordinal` when every value is a whole number, with 3 or more distinct values spanning at
    most `ORDINAL_MAX_SPAN` steps (0-3, 1-5, 0-10); else `nominal`."""
    distinct = values.drop_nulls().unique()
    if distinct.len() < ORDINAL_MIN_VALUES:
        return "nominal"
    numbers = distinct.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    if numbers.null_count() or not (numbers == numbers.round()).all():
        return "nominal"
    if numbers.max() - numbers.min() > ORDINAL_MAX_SPAN:  # type: ignore[operator]
        return "nominal"
    return "ordinal"


def configured_level(
    levels: Mapping[str, str], platform: str, project_id: str, field: str
) -> str | None:
    """The level `levels` ("PLATFORM:PROJECT:FIELD" -> level, `*` for any part) gives the
    field: the entry with the fewest `*` wins, an exact one first."""
    best: tuple[int, str] | None = None
    for key, level in levels.items():
        parts = key.split(":", 2)
        wanted = (platform, project_id, field)
        if all(p in ("*", w) for p, w in zip(parts, wanted, strict=True)):
            rank = parts.count("*")
            if best is None or rank < best[0]:
                best = (rank, level)
    return best[1] if best else None


def field_level(
    levels: Mapping[str, str],
    platform: str,
    project_id: str,
    field: str,
    values: pl.Series | Iterable[Any],
) -> FieldLevel:
    """The configured level of the field, else the one `infer_level` reads from its values."""
    series = values if isinstance(values, pl.Series) else pl.Series(list(values), dtype=pl.String)
    configured = configured_level(levels, platform, project_id, field)
    if configured is None:
        return FieldLevel(infer_level(series), "inferred")
    try:
        category_codes(series.drop_nulls().unique(), configured, None)
    except ValueError as exc:  # words on an ordered scale: say so, and compare them as names
        return FieldLevel("nominal", "configured", f"configured {configured!r} does not fit: {exc}")
    return FieldLevel(configured, "configured")
