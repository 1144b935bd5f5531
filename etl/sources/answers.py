"""Answer columns to `annotations` rows, vectorized: plain fields, option groups and regions.

A CSV export spreads one assignment's answers over columns (`Answer.q`, `OUTPUT:q`); a group
of true/false columns sharing a prefix (`q.cat`, `q.dog`) is one multiple-choice field `q`
whose values are the options marked true, one row per option. JSON answer blobs (MTurk's
`Answer.taskAnswers`) are flattened to the same shape; lists of boxes or spans become one row
per region with the region as JSON.
"""

from __future__ import annotations

import polars as pl

BOOLEAN_TEXT = ("true", "false")
# Region keys as the tools write them -> the warehouse's region keys.
REGION_KEYS = {
    "left": "x",
    "top": "y",
    "width": "w",
    "height": "h",
    "startOffset": "start",
    "endOffset": "end",
}


def option_groups(frame: pl.DataFrame, columns: dict[str, str]) -> dict[str, list[str]]:
    """Fields whose columns hold only true/false, grouped by the prefix before the last dot.

    `columns` maps field path -> column name. A true/false field without a dot is a plain
    checkbox and stays a field of its own.
    """
    if not columns:
        return {}
    only_boolean = frame.select(
        (pl.col(col).is_null() | pl.col(col).str.to_lowercase().is_in(BOOLEAN_TEXT))
        .all()
        .alias(field)
        for field, col in columns.items()
    ).row(0, named=True)
    groups: dict[str, list[str]] = {}
    for field, is_boolean in only_boolean.items():
        if is_boolean and "." in field:
            groups.setdefault(field.rsplit(".", 1)[0], []).append(field)
    return groups


def answer_rows(
    frame: pl.DataFrame,
    key: list[str],
    columns: dict[str, str],
    gold: dict[str, str] | None = None,
    split: str | None = None,
) -> pl.DataFrame:
    """Long annotation rows (key..., field, value, value_num, region, ordinal, gold_value).

    `columns` maps field name -> column; `gold` maps field name -> the column holding its gold
    answer; `split` separates several answers in one cell (one row each). Empty answers make
    no row.
    """
    gold = gold or {}
    groups = option_groups(frame, columns)
    grouped = {field for fields in groups.values() for field in fields}
    parts = [
        _plain_rows(frame, key, field, col, gold.get(field), split)
        for field, col in columns.items()
        if field not in grouped
    ]
    parts += [
        _option_rows(frame, key, group, {f.rsplit(".", 1)[1]: columns[f] for f in fields})
        for group, fields in groups.items()
    ]
    if not parts:
        return empty_answer_rows(frame, key)
    return pl.concat(parts, how="vertical_relaxed")


def empty_answer_rows(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    schema = {k: frame.schema[k] for k in key}
    schema.update(
        field=pl.String,
        value=pl.String,
        value_num=pl.Float64,
        region=pl.String,
        ordinal=pl.Int32,
        gold_value=pl.String,
    )
    return pl.DataFrame(schema=schema)


def _plain_rows(
    frame: pl.DataFrame,
    key: list[str],
    field: str,
    col: str,
    gold_col: str | None,
    split: str | None,
) -> pl.DataFrame:
    gold = (pl.col(gold_col) if gold_col else pl.lit(None)).cast(pl.String).alias("gold_value")
    rows = frame.filter(pl.col(col).is_not_null()).select(
        *key, pl.col(col).cast(pl.String).alias("value"), gold
    )
    if split is None:
        rows = rows.with_columns(pl.lit(0, dtype=pl.Int32).alias("ordinal"))
    else:
        parts = pl.col("value").str.split(split)
        rows = (
            rows.with_columns(
                parts.alias("value"),
                pl.int_ranges(0, parts.list.len(), dtype=pl.Int32).alias("ordinal"),
            )
            .explode(["value", "ordinal"])
            .filter(pl.col("value") != "")
        )
    return rows.select(
        *key,
        pl.lit(field).alias("field"),
        pl.col("value"),
        pl.col("value").str.strip_chars().cast(pl.Float64, strict=False).alias("value_num"),
        pl.lit(None, dtype=pl.String).alias("region"),
        pl.col("ordinal"),
        pl.col("gold_value"),
    )


def _option_rows(
    frame: pl.DataFrame, key: list[str], field: str, options: dict[str, str]
) -> pl.DataFrame:
    chosen = pl.concat_list(
        pl.when(pl.col(col).str.to_lowercase() == "true").then(pl.lit(option))
        for option, col in options.items()
    ).list.drop_nulls()
    return (
        frame.select(*key, chosen.alias("value"))
        .with_columns(pl.int_ranges(0, pl.col("value").list.len(), dtype=pl.Int32).alias("ordinal"))
        .explode(["value", "ordinal"])
        .filter(pl.col("value").is_not_null())
        .select(
            *key,
            pl.lit(field).alias("field"),
            pl.col("value"),
            pl.lit(None, dtype=pl.Float64).alias("value_num"),
            pl.lit(None, dtype=pl.String).alias("region"),
            pl.col("ordinal"),
            pl.lit(None, dtype=pl.String).alias("gold_value"),
        )
    )


def json_answer_rows(
    parsed: pl.DataFrame, key: str, blob: str, skip: frozenset[str]
) -> pl.DataFrame:
    """Annotation rows from a decoded JSON answer column (a struct, or a list of structs).

    Nested objects become dotted field names; `skip` names objects that describe the input
    rather than answer it (an image's size).
    """
    frame = parsed.select(pl.col(key), pl.col(blob))
    if isinstance(frame.schema[blob], pl.List):
        frame = frame.explode(blob)
    if not isinstance(frame.schema[blob], pl.Struct):
        return answer_rows(
            frame.with_columns(pl.col(blob).cast(pl.String)), [key], {"answer": blob}
        )
    leaves: dict[str, pl.Expr] = {}
    regions: dict[str, pl.Expr] = {}
    _walk(pl.col(blob), frame.schema[blob], "", skip, leaves, regions)
    flat = frame.select(pl.col(key), *[e.alias(f) for f, e in leaves.items()])
    parts = [answer_rows(flat, [key], {field: field for field in leaves})]
    parts += [_region_rows(frame, key, field, expr) for field, expr in regions.items()]
    return pl.concat(parts, how="vertical_relaxed")


def _walk(
    expr: pl.Expr,
    dtype: pl.DataType,
    path: str,
    skip: frozenset[str],
    leaves: dict[str, pl.Expr],
    regions: dict[str, pl.Expr],
) -> None:
    for child in dtype.fields:  # type: ignore[attr-defined]
        if child.name in skip:
            continue
        name = f"{path}.{child.name}" if path else child.name
        sub = expr.struct.field(child.name)
        if isinstance(child.dtype, pl.Struct):
            _walk(sub, child.dtype, name, skip, leaves, regions)
        elif isinstance(child.dtype, pl.List) and isinstance(child.dtype.inner, pl.Struct):
            regions[name] = sub
        elif isinstance(child.dtype, pl.List):
            # elements of any type (numbers, or nulls only where a value was unreadable)
            as_text = sub.list.eval(pl.element().cast(pl.String))
            leaves[name] = as_text.list.join(";", ignore_nulls=True)
        elif child.dtype == pl.Boolean:
            leaves[name] = sub.cast(pl.String).str.to_lowercase()
        else:
            leaves[name] = sub.cast(pl.String)


def _region_rows(frame: pl.DataFrame, key: str, field: str, expr: pl.Expr) -> pl.DataFrame:
    exploded = (
        frame.select(pl.col(key), expr.alias("region"))
        .with_columns(
            pl.int_ranges(0, pl.col("region").list.len(), dtype=pl.Int32).alias("ordinal")
        )
        .explode(["region", "ordinal"])
        .filter(pl.col("region").is_not_null())
    )
    names = [f.name for f in exploded.schema["region"].fields]  # type: ignore[attr-defined]
    renamed = pl.col("region").struct.rename_fields([REGION_KEYS.get(n, n) for n in names])
    label = pl.col("region").struct.field("label").cast(pl.String) if "label" in names else None
    return exploded.select(
        pl.col(key),
        pl.lit(field).alias("field"),
        (label if label is not None else pl.lit(None, dtype=pl.String)).alias("value"),
        pl.lit(None, dtype=pl.Float64).alias("value_num"),
        renamed.struct.json_encode().alias("region"),
        pl.col("ordinal"),
        pl.lit(None, dtype=pl.String).alias("gold_value"),
    )
