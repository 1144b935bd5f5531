"""Merge one file's canonical rows into the warehouse, keyed on stable ids. Facts (assignments,
time entries, earnings lines, project plans, milestones, scope changes) are inserted when their
key is new and updated in place when a re-export changed them, so the same bytes twice change
nothing. Annotations follow their assignment: an assignment whose answers changed has them
replaced as a set. Workers, items and projects seen in facts are added when missing and enriched
(country, attributes, gold, seen dates) when the file knows more.

When two files hold the same record (the same key), the newer record wins: the one whose own
times are later (`RECORD_TIMES`: an assignment's latest of started, submitted, reviewed and
paid; no time is older than any), and on equal times the one of the file loaded later, a
file's place being that of the first load of its bytes. So loading the files in either order
ends with the same rows, and re-reading an older file (`ingest --again`) changes no record a
newer one wrote; its answers are kept with their assignment.

A file's rows reach the merge as SQL relations named `<prefix><table>`: registered Polars
frames for a file read whole, or views over the Parquet files a big file's parts were staged
in (`etl.staging.StagedParts`). Runs inside the caller's `etl.warehouse.transaction()`.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from etl.sources.base import SCHEMAS
from etl.warehouse import staged

# table -> key columns; every other canonical column is compared and overwritten on change.
FACT_KEYS: dict[str, tuple[str, ...]] = {
    "assignments": ("assignment_uid",),
    "time_entries": ("entry_uid",),
    "earnings": ("earning_uid",),
    "projects": ("platform", "project_id"),
    "milestones": ("platform", "project_id", "name"),
    "scope_changes": ("platform", "project_id", "changed_on"),
}
# table -> the times a record carries, the latest of which says how new it is (none: by the
# load order of the files alone).
RECORD_TIMES: dict[str, tuple[str, ...]] = {
    "assignments": ("started_at", "submitted_at", "reviewed_at", "paid_at"),
    "time_entries": ("started_at", "ended_at"),
    "earnings": ("day", "paid_at"),
    "projects": (),
    "milestones": (),
    "scope_changes": (),
}
# A file's place in the load order: the first file row of its bytes.
FILE_ORDER_SQL = """
CREATE OR REPLACE TEMP TABLE _file_order AS
SELECT file_id, min(file_id) OVER (PARTITION BY sha256) AS place FROM etl_files
"""
ANNOTATION_COLUMNS = ("assignment_uid", "field", "value", "value_num", "region", "gold_value",
                      "ordinal")  # fmt: skip
UTC = pl.Datetime("us", "UTC")
# What the dimension merges read: derived per part, so a file read in parts stages them too.
SEEN_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "workers_seen": {"worker_id": pl.String, "platform": pl.String, "country": pl.String,
                     "attributes": pl.String, "first": UTC, "last": UTC},
    "items_seen": {"platform": pl.String, "project_id": pl.String, "item_id": pl.String,
                   "gold_value": pl.String, "attributes": pl.String},
    "projects_seen": {"platform": pl.String, "project_id": pl.String, "task_type": pl.String},
}  # fmt: skip


def merge_file(
    con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame], file_id: int
) -> tuple[int, int]:
    """Merge one whole file's `frames` (pseudonymised); return (inserted, updated) facts."""
    rows = merge_rows(frames)
    names = [name for name, frame in rows.items() if not frame.is_empty()]
    with staged(con, **{f"_stage_{name}": rows[name] for name in names}):
        return merge_relations(con, "_stage_", names, file_id)


def merge_rows(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The rows the merge reads, derived from one file's (or one part's) canonical frames."""
    rows = {
        table: _latest_per_key(frames[table], key).drop("record_no", strict=False)
        for table, key in FACT_KEYS.items()
        if table in frames
    }
    if "assignments" in rows:
        rows["assignments"] = rows["assignments"].with_columns(pl.col("is_gold").fill_null(False))
    if "annotations" in frames:
        rows["annotations"] = frames["annotations"].unique(
            subset=["assignment_uid", "field", "ordinal"], keep="last", maintain_order=True
        )
    rows["workers_seen"] = workers_seen(frames)
    rows["items_seen"] = items_seen(frames)
    rows["projects_seen"] = projects_seen(frames)
    return rows


def merge_relations(
    con: duckdb.DuckDBPyConnection, prefix: str, names: Sequence[str], file_id: int
) -> tuple[int, int]:
    """Merge the relations `<prefix><name>` for the given names; return (inserted, updated)."""
    inserted = updated = 0
    con.execute(FILE_ORDER_SQL)
    older: list[str] = []
    for table, key in FACT_KEYS.items():
        if table in names:
            older.append(mark_older(con, table, f"{prefix}{table}", key, file_id))
            ins, upd = merge_facts(con, table, f"{prefix}{table}", key, file_id)
            inserted += ins
            updated += upd
    if "annotations" in names:
        kept = "_older_assignments" if "assignments" in names else None
        merge_annotations(con, f"{prefix}annotations", file_id, kept)
    for table in ["_file_order", *older]:
        con.execute(f"DROP TABLE {table}")
    if "workers_seen" in names:
        upsert_workers(con, f"{prefix}workers_seen", file_id)
    if "items_seen" in names:
        upsert_items(con, f"{prefix}items_seen", file_id)
    if "projects_seen" in names:
        add_missing_projects(con, f"{prefix}projects_seen", file_id)
    return inserted, updated


def _latest_per_key(frame: pl.DataFrame, key: Sequence[str]) -> pl.DataFrame:
    """A file naming one key twice keeps its last record (a later line corrects an earlier one)."""
    if frame.is_empty() or frame.select(pl.struct(key).n_unique()).item() == frame.height:
        return frame
    return frame.unique(subset=list(key), keep="last", maintain_order=True)


def _record_time(table: str, alias: str) -> str:
    """SQL for how new a record of `table` is: its latest time, or -infinity with none."""
    times = [f"{alias}.{c}::TIMESTAMPTZ" for c in RECORD_TIMES[table]]
    latest = f"greatest({', '.join(times)})" if times else "NULL"
    return f"coalesce({latest}, '-infinity'::TIMESTAMPTZ)"


def mark_older(
    con: duckdb.DuckDBPyConnection,
    table: str,
    relation: str,
    key: Sequence[str],
    file_id: int,
) -> str:
    """Keep in the temp table `_older_<table>` (returned) the keys of `relation` whose stored
    record is newer than the file's: by their own times, then by the files' load order."""
    match = " AND ".join(f"t.{k} = s.{k}" for k in key)
    mine, theirs = _record_time(table, "s"), _record_time(table, "t")
    name = f"_older_{table}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {', '.join(f's.{k}' for k in key)} "
        f"FROM {relation} AS s JOIN {table} AS t ON {match} "
        "JOIN _file_order AS o ON o.file_id = t.file_id "
        f"WHERE {theirs} > {mine} OR ({theirs} = {mine} AND o.place > "
        "(SELECT place FROM _file_order WHERE file_id = ?))",
        [file_id],
    )
    return name


def merge_facts(
    con: duckdb.DuckDBPyConnection,
    table: str,
    relation: str,
    key: Sequence[str],
    file_id: int,
) -> tuple[int, int]:
    """Update rows whose values changed (unless `mark_older` kept the stored one), insert rows
    whose key is new; return both counts."""
    columns = [c for c in SCHEMAS[table] if c != "record_no"]
    compared = [c for c in columns if c not in key]
    match = " AND ".join(f"t.{k} = s.{k}" for k in key)
    changed = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in compared) or "false"
    sets = ", ".join([*(f"{c} = s.{c}" for c in compared), "file_id = ?"])
    newer = " AND ".join(f"o.{k} = s.{k}" for k in key)
    updated = con.execute(
        f"UPDATE {table} AS t SET {sets} FROM {relation} AS s WHERE {match} AND ({changed})"
        f" AND NOT EXISTS (SELECT 1 FROM _older_{table} AS o WHERE {newer})",
        [file_id],
    ).fetchall()[0][0]
    names = ", ".join(columns)
    inserted = con.execute(
        f"INSERT INTO {table} ({names}, file_id) SELECT {names}, ? FROM {relation} AS s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE {match})",
        [file_id],
    ).fetchall()[0][0]
    return int(inserted), int(updated)


def merge_annotations(
    con: duckdb.DuckDBPyConnection, relation: str, file_id: int, kept: str | None = None
) -> None:
    """Replace the answers of every assignment whose set of answers differs from the stored one,
    except those of the assignments in the table `kept` (a newer record of theirs is stored)."""
    cols = ", ".join(ANNOTATION_COLUMNS)
    cmp = cols.replace("region", "region::VARCHAR")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _known AS SELECT DISTINCT assignment_uid FROM annotations"
        f" WHERE assignment_uid IN (SELECT assignment_uid FROM {relation})"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _replace AS
        SELECT DISTINCT assignment_uid FROM (
            (SELECT {cmp} FROM {relation} WHERE assignment_uid IN (SELECT * FROM _known)
             EXCEPT
             SELECT {cmp} FROM annotations WHERE assignment_uid IN (SELECT * FROM _known))
            UNION ALL
            (SELECT {cmp} FROM annotations WHERE assignment_uid IN (SELECT * FROM _known)
             EXCEPT
             SELECT {cmp} FROM {relation} WHERE assignment_uid IN (SELECT * FROM _known))
        )
        """
    )
    if kept is not None:  # left as they are: neither replaced nor added to
        con.execute(f"DELETE FROM _replace WHERE assignment_uid IN (SELECT * FROM {kept})")
        con.execute(f"INSERT INTO _known SELECT assignment_uid FROM {kept}")
    con.execute("DELETE FROM annotations WHERE assignment_uid IN (SELECT * FROM _replace)")
    con.execute(
        f"INSERT INTO annotations ({cols}, file_id) SELECT {cols}, ? FROM {relation}"
        " WHERE assignment_uid NOT IN (SELECT * FROM _known)"
        " OR assignment_uid IN (SELECT * FROM _replace)",
        [file_id],
    )
    # the record (an assignment and its answers) now comes from this file: its place in the
    # load order decides the next tie
    con.execute(
        "UPDATE assignments SET file_id = ? WHERE file_id <> ?"
        " AND assignment_uid IN (SELECT * FROM _replace)",
        [file_id, file_id],
    )
    con.execute("DROP TABLE _known; DROP TABLE _replace")


def workers_seen(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Workers named by facts (with first and last activity) or by the file's worker profiles."""
    spans = (
        ("assignments", pl.coalesce("started_at", "submitted_at"), pl.col("submitted_at")),
        ("time_entries", pl.col("started_at"), pl.col("ended_at")),
        ("earnings", pl.col("day").cast(UTC), pl.col("day").cast(UTC)),
    )
    parts = [
        frames[name].select(
            "worker_id", "platform", first.alias("first"), last.alias("last")
        ).drop_nulls(["worker_id", "platform"])
        for name, first, last in spans
        if name in frames and not frames[name].is_empty()
    ]  # fmt: skip
    if "workers" in frames and not frames["workers"].is_empty():
        parts.append(frames["workers"].select("worker_id", "platform", "country", "attributes"))
    return pl.concat([_empty("workers_seen"), *parts], how="diagonal_relaxed").select(
        list(SEEN_SCHEMAS["workers_seen"])
    )


def items_seen(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Items named by assignments, with gold answers and data-subject attributes when given."""
    parts = [_empty("items_seen")]
    if "assignments" in frames:
        parts.append(frames["assignments"].select("platform", "project_id", "item_id").unique())
    if "items" in frames:
        parts.append(frames["items"])
    return pl.concat(parts, how="diagonal_relaxed").select(list(SEEN_SCHEMAS["items_seen"]))


def projects_seen(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Projects that assignments name, with their task type."""
    if "assignments" not in frames:
        return _empty("projects_seen")
    return (
        frames["assignments"]
        .group_by("platform", "project_id")
        .agg(pl.col("task_type").drop_nulls().first())
    )


def _empty(name: str) -> pl.DataFrame:
    return pl.DataFrame(schema=SEEN_SCHEMAS[name])


def upsert_workers(con: duckdb.DuckDBPyConnection, relation: str, file_id: int) -> None:
    con.execute(
        f"""
        INSERT INTO workers (worker_id, platform, country, attributes, first_seen, last_seen,
                             file_id)
        SELECT worker_id, platform, any_value(country) FILTER (country IS NOT NULL),
               any_value(attributes) FILTER (attributes IS NOT NULL)::JSON,
               min(first), max(last), ?
        FROM {relation} GROUP BY worker_id, platform
        ON CONFLICT (worker_id, platform) DO UPDATE SET
            country = COALESCE(excluded.country, workers.country),
            attributes = COALESCE(excluded.attributes, workers.attributes),
            first_seen = LEAST(excluded.first_seen, workers.first_seen),
            last_seen = GREATEST(excluded.last_seen, workers.last_seen)
        """,
        [file_id],
    )


def upsert_items(con: duckdb.DuckDBPyConnection, relation: str, file_id: int) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _items AS
        SELECT platform, project_id, item_id,
               any_value(gold_value) FILTER (gold_value IS NOT NULL) AS gold_value,
               any_value(attributes) FILTER (attributes IS NOT NULL)::JSON AS attributes
        FROM {relation} GROUP BY platform, project_id, item_id
        """
    )
    key = "t.platform = s.platform AND t.project_id = s.project_id AND t.item_id = s.item_id"
    con.execute(
        f"""
        UPDATE items AS t SET
            gold_value = COALESCE(s.gold_value, t.gold_value),
            attributes = COALESCE(s.attributes, t.attributes)
        FROM _items AS s
        WHERE {key} AND (
            (s.gold_value IS NOT NULL AND s.gold_value IS DISTINCT FROM t.gold_value) OR
            (s.attributes IS NOT NULL AND s.attributes IS DISTINCT FROM t.attributes))
        """
    )
    con.execute(
        f"""
        INSERT INTO items (platform, project_id, item_id, gold_value, attributes, file_id)
        SELECT platform, project_id, item_id, gold_value, attributes, ?
        FROM _items AS s WHERE NOT EXISTS (SELECT 1 FROM items AS t WHERE {key});
        """,
        [file_id],
    )
    con.execute("DROP TABLE _items")


def add_missing_projects(con: duckdb.DuckDBPyConnection, relation: str, file_id: int) -> None:
    """Projects that appear in assignments but have no plan yet get a row with their task type."""
    con.execute(
        f"""
        INSERT INTO projects (platform, project_id, name, task_type, file_id)
        SELECT platform, project_id, project_id,
               any_value(task_type) FILTER (task_type IS NOT NULL), ?
        FROM {relation} GROUP BY platform, project_id
        ON CONFLICT (platform, project_id) DO UPDATE SET
            task_type = COALESCE(projects.task_type, excluded.task_type)
        """,
        [file_id],
    )


def fill_in_worker_countries(
    con: duckdb.DuckDBPyConnection, countries: list[tuple[str, str, str]]
) -> None:
    """Set the country of workers whose exports gave none, from (country, platform, worker_id)."""
    con.executemany(
        "UPDATE workers SET country = ? WHERE platform = ? AND worker_id = ? AND country IS NULL",
        countries,
    )
