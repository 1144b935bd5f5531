"""Quality marts: agreement, gold, review and consensus figures computed at publish with
`metrics/`, at the grain the Quality page filters by (platform, project, field, week), so the
page only reads small tables.

Answers are the first answers of submitted, approved and rejected assignments to fields without
regions (as `mart_project_fields` marks them). A unit is an item within its project and field;
its week is the UTC week (Monday) of its first rating, so weekly agreement never splits a unit.
Per-rating counts (confusion, annotators) use the week of the rating itself and add up over
weeks. Tables:

- `mart_quality_fields`: project x field: kind (categorical, free_text), answers, units, coders,
  first and last week, the level of measurement the agreement is computed at and whether
  `[agreement] levels` set it or it was inferred from the values (`metrics.levels`), the
  bootstrap behind the intervals, the hot spots kept per week, and the checksum of the answers
  and the recipe (settings, `MARTS_VERSION`) it was computed from: the next build recomputes only
  fields whose checksum or recipe differ;
- `mart_quality_agreement`: project x field x coefficient, whole period, with intervals, at the
  field's level (the ordered coefficients too when it is not nominal);
- `mart_quality_agreement_weekly`: project x field x unit week x coefficient (`WEEKLY`);
- `mart_quality_confusion`: project x field x week x (gold, answer): counts;
- `mart_quality_annotators`: project x field x week x worker: answers, gold answered and right,
  reviewed and rejected assignments, ratings compared with and agreeing with the others' majority;
- `mart_quality_pairwise`: project x field x pair of the busiest annotators;
- `mart_quality_hot_spots`: project x field x unit week x unit, the least agreed units of each
  week, so the worst units of any range of weeks are among them;
- `mart_quality_regions`: project x field of spans or boxes: pooled pairwise F1 with its
  interval (`metrics.regions.region_agreement`, as `crowdmeter quality` computes it), recomputed
  at every build (the fields' checksums cover no region).

How many pairs and hot spots are kept, and how each figure is computed from a field's
answers, is in `etl.marts.quality_figures`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from etl.marts.quality_figures import (
    SCHEMAS,
    annotator_counts,
    busiest_pairs,
    field_summary,
    hot_spots,
    region_summary,
    weekly_confusion,
)
from etl.settings import Settings
from etl.warehouse import memory_for_python, replace_table, staged, transaction
from metrics.agreement import agreement_by
from metrics.levels import field_level
from metrics.quality import is_free_text, unit_weeks

KEYS = ["platform", "project_id", "field"]
WEEKLY = ("percent_agreement", "fleiss_kappa", "gwet_ac1")  # raw, chance-corrected, robust

# The columns one row of each table is unique on.
GRAINS: dict[str, tuple[str, ...]] = {
    "mart_quality_fields": (*KEYS,),
    "mart_quality_agreement": (*KEYS, "coefficient"),
    "mart_quality_agreement_weekly": (*KEYS, "week", "coefficient"),
    "mart_quality_confusion": (*KEYS, "week", "true", "observed"),
    "mart_quality_annotators": (*KEYS, "week", "worker_id"),
    "mart_quality_pairwise": (*KEYS, "coder_a", "coder_b"),
    "mart_quality_hot_spots": (*KEYS, "week", "unit"),
    "mart_quality_regions": (*KEYS,),
}

# bump when a table's columns or a figure's definition change: every field is then recomputed
MARTS_VERSION = 3

# Units and coders travel as integer codes (their names are looked up only for the few rows
# that show them): a field of millions of answers then weighs a fraction of its strings. Codes
# follow the ids' order, so a build's bootstrap draws are the same from one publish to the next.
ANSWERS_SQL = """
CREATE OR REPLACE TEMP TABLE quality_rows AS
SELECT a.platform, a.project_id, n.field, a.item_id, a.worker_id, n.value,
       n.gold_value AS gold, a.status,
       date_trunc('week', timezone('UTC', coalesce(a.submitted_at, a.started_at)))::DATE AS week
FROM annotations AS n
JOIN assignments AS a USING (assignment_uid)
JOIN changed_fields AS f
    ON f.platform = a.platform AND f.project_id = a.project_id AND f.field = n.field
WHERE a.status IN ('submitted', 'approved', 'rejected') AND n.ordinal = 0
    AND n.value IS NOT NULL;
CREATE OR REPLACE TEMP TABLE quality_units AS
SELECT row_number() OVER (ORDER BY platform, project_id, item_id) AS code,
       platform, project_id, item_id
FROM (SELECT DISTINCT platform, project_id, item_id FROM quality_rows);
CREATE OR REPLACE TEMP TABLE quality_coders AS
SELECT row_number() OVER (ORDER BY worker_id) AS code, worker_id
FROM (SELECT DISTINCT worker_id FROM quality_rows);
CREATE OR REPLACE TEMP TABLE quality_answers AS
SELECT r.platform, r.project_id, r.field, u.code AS unit, c.code AS coder, r.value, r.gold,
       r.status, r.week
FROM quality_rows AS r
JOIN quality_units AS u USING (platform, project_id, item_id)
JOIN quality_coders AS c USING (worker_id)
ORDER BY r.platform, r.project_id, r.field;
DROP TABLE quality_rows;
"""
TEMP_TABLES = ("quality_rows", "quality_units", "quality_coders", "quality_answers")
FIELD_SQL = (
    "SELECT unit, coder, value, gold, status, week FROM quality_answers "
    "WHERE platform = ? AND project_id = ? AND field = ?"
)
# Every answer of a field of spans or boxes, one row per region (as `crowdmeter quality` reads).
REGIONS_SQL = """
SELECT a.item_id AS unit, a.worker_id AS coder, CAST(n.region AS VARCHAR) AS region,
       date_trunc('week', timezone('UTC', coalesce(a.submitted_at, a.started_at)))::DATE AS week
FROM annotations AS n
JOIN assignments AS a USING (assignment_uid)
WHERE a.status IN ('submitted', 'approved', 'rejected')
    AND a.platform = ? AND a.project_id = ? AND n.field = ?
"""


@dataclass
class Names:
    """The names behind the unit and coder codes of one build."""

    con: duckdb.DuckDBPyConnection
    coders: pl.DataFrame  # code, worker_id

    def of_coders(self, frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
        """`frame` with the coder codes in `columns` replaced by worker ids."""
        lookup = dict(zip(self.coders["code"], self.coders["worker_id"], strict=True))
        return frame.with_columns(
            pl.col(c).replace_strict(lookup, return_dtype=pl.String) for c in columns
        )

    def of_units(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` with its `unit` codes replaced by item ids."""
        codes = frame["unit"].unique().to_list()
        lookup = self.con.sql(
            "SELECT code, item_id FROM quality_units WHERE list_contains(?, code)", params=[codes]
        ).pl()
        mapping = dict(zip(lookup["code"], lookup["item_id"], strict=True))
        return frame.with_columns(pl.col("unit").replace_strict(mapping, return_dtype=pl.String))


KEY_SCHEMA = {"platform": pl.String, "project_id": pl.String, "field": pl.String}


@dataclass
class QualityTables:
    """The rows of every quality mart, gathered field by field."""

    parts: dict[str, list[pl.DataFrame]] = field(
        default_factory=lambda: {name: [] for name in SCHEMAS}
    )

    def add(self, name: str, key: tuple[str, str, str], frame: pl.DataFrame) -> None:
        keys = [pl.lit(v, pl.String).alias(k) for k, v in zip(KEYS, key, strict=True)]
        self.parts[name].append(frame.select(*keys, *_cast(SCHEMAS[name])))

    def frames(self) -> Iterator[tuple[str, pl.DataFrame]]:
        for name, parts in self.parts.items():
            empty = pl.DataFrame(schema=KEY_SCHEMA | SCHEMAS[name])
            yield name, pl.concat(parts, how="vertical") if parts else empty


def _cast(schema: dict[str, pl.DataType]) -> list[pl.Expr]:
    return [pl.col(name).cast(dtype) for name, dtype in schema.items()]


def build(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Compute the quality marts and write them as mart_quality_*, recomputing only the fields
    whose answers (or the settings behind the figures) changed since the last build."""
    options = {
        "bootstrap_samples": settings.agreement.publish_bootstrap_samples,
        "confidence": settings.agreement.confidence,
        "seed": settings.agreement.seed,
    }
    levels = settings.agreement.levels
    recipe = json.dumps({"version": MARTS_VERSION, **options, "levels": levels}, sort_keys=True)
    fields = con.sql(
        "SELECT platform, project_id, field, answers_checksum FROM mart_project_fields "
        "WHERE NOT has_regions"
    ).pl()
    kept = reusable_fields(con, fields, recipe)
    changed = fields.join(kept, on=KEYS, how="anti")
    tables = compute_fields(con, changed, options, settings)
    with memory_for_python(con, settings):
        add_region_fields(con, tables, options, settings)
    with transaction(con):  # all marts from one build, or none
        for name, frame in tables.frames():
            write_table(con, f"mart_quality_{name}", _stamped(name, frame, fields, recipe), kept)


def reusable_fields(
    con: duckdb.DuckDBPyConnection, fields: pl.DataFrame, recipe: str
) -> pl.DataFrame:
    """Fields the last build computed from the same answers with the same recipe."""
    try:
        previous = con.sql(
            "SELECT platform, project_id, field, answers_checksum FROM mart_quality_fields "
            "WHERE recipe = ?",
            params=[recipe],
        ).pl()
        for name in SCHEMAS:  # a table lost since then makes every field recomputed
            con.execute(f"SELECT 1 FROM mart_quality_{name} LIMIT 0")
    except (duckdb.CatalogException, duckdb.BinderException):  # first build, or an older one
        return pl.DataFrame(schema=KEY_SCHEMA)
    return previous.join(fields, on=[*KEYS, "answers_checksum"]).select(KEYS)


def compute_fields(
    con: duckdb.DuckDBPyConnection,
    changed: pl.DataFrame,
    options: dict[str, Any],
    settings: Settings,
) -> QualityTables:
    """Every figure of the `changed` fields, read one field at a time."""
    tables = QualityTables()
    if changed.is_empty():
        return tables
    try:
        with staged(con, changed_fields=changed.select(KEYS)):
            con.execute(ANSWERS_SQL)  # under the ETL's memory limit: DuckDB does this work
        names = Names(con, con.sql("SELECT code, worker_id FROM quality_coders").pl())
        with memory_for_python(con, settings):
            _compute_each_field(con, changed, options, names, tables, settings.agreement.levels)
    finally:
        for table in TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return tables


def _compute_each_field(
    con: duckdb.DuckDBPyConnection,
    changed: pl.DataFrame,
    options: dict[str, Any],
    names: Names,
    tables: QualityTables,
    levels: dict[str, str],
) -> None:
    for key in changed.select(KEYS).sort(KEYS).iter_rows():
        # one chunk: a column computed later would otherwise be chunked unlike the others, and
        # every select of them would copy them all to line them up
        answers = con.sql(FIELD_SQL, params=list(key)).pl().rechunk()
        if answers.height:
            add_field(tables, key, answers, options, names, levels)


def add_region_fields(
    con: duckdb.DuckDBPyConnection,
    tables: QualityTables,
    options: dict[str, Any],
    settings: Settings,
) -> None:
    """Span and box agreement of every field with regions."""
    keys = con.sql(
        "SELECT platform, project_id, field FROM mart_project_fields WHERE has_regions ORDER BY ALL"
    ).fetchall()
    thresholds = (settings.agreement.span_overlap_threshold, settings.agreement.box_iou_threshold)
    for key in keys:
        rows = con.sql(REGIONS_SQL, params=list(key)).pl()
        if rows.height:
            tables.add("regions", key, region_summary(rows, thresholds, options))


def _stamped(name: str, frame: pl.DataFrame, fields: pl.DataFrame, recipe: str) -> pl.DataFrame:
    """The fields table with the checksum and recipe each field was computed from."""
    if name != "fields":
        return frame
    checksums = fields.select(*KEYS, checksum="answers_checksum")
    return (
        frame.join(checksums, on=KEYS, how="left")
        .with_columns(answers_checksum=pl.col("checksum"), recipe=pl.lit(recipe))
        .drop("checksum")
    )


def add_field(
    tables: QualityTables,
    key: tuple[str, str, str],
    answers: pl.DataFrame,
    options: dict[str, Any],
    names: Names,
    levels: dict[str, str] | None = None,
) -> None:
    """Every quality figure of one project's field, from its answers (unit and coder codes,
    value, gold, status, week), added to `tables`; agreement at the field's level (`levels`:
    `[agreement] levels`, else inferred)."""
    answers = answers.with_columns(pl.col("value", "gold").cast(pl.String))
    kind = "free_text" if is_free_text(answers["value"]) else "categorical"
    level = None if kind == "free_text" else field_level(levels or {}, *key, answers["value"])
    tables.add("fields", key, field_summary(answers, kind, options, level))
    tables.add("annotators", key, names.of_coders(annotator_counts(answers), "worker_id"))
    if kind == "free_text":
        return
    tables.add("confusion", key, weekly_confusion(answers))
    units = unit_weeks(answers)
    tables.add("agreement", key, agreement_by(units, [], level.level, **options))
    weekly = agreement_by(units, ["week"], coefficients=WEEKLY, **options)
    coders = units.group_by("week").agg(coders=pl.col("coder").n_unique())
    tables.add("agreement_weekly", key, weekly.join(coders, on="week", how="left"))
    tables.add("pairwise", key, names.of_coders(busiest_pairs(answers), "coder_a", "coder_b"))
    tables.add("hot_spots", key, names.of_units(hot_spots(units)))


def write_table(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, kept: pl.DataFrame
) -> None:
    """Replace `table` with `frame` plus its own rows of the `kept` fields, sorted by field and
    week so that a page's reads of one field touch few row groups."""
    order = ", ".join([*KEYS, "week"] if "week" in frame.columns else KEYS)
    rows = "SELECT * FROM mart_rows"
    if kept.height:
        rows += (
            f" UNION ALL BY NAME SELECT * FROM {table} "
            "SEMI JOIN kept_fields USING (platform, project_id, field)"
        )
    replace_table(con, table, f"{rows} ORDER BY {order}", mart_rows=frame, kept_fields=kept)
