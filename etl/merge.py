"""Merge one file's canonical frames into the warehouse, keyed on stable ids.

Facts (assignments, time entries, earnings lines, project plans, milestones) are inserted when
their key is new and updated in place when a re-export changed them, so the same bytes twice
change nothing. Annotations follow their assignment: an assignment whose answers changed has
them replaced as a set. Workers, items and projects seen in facts are added when missing and
enriched (country, attributes, gold, seen dates) when the file knows more.
Runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
import polars as pl

from etl.sources.base import SCHEMAS

# table -> key columns; every other canonical column is compared and overwritten on change.
FACT_KEYS: dict[str, tuple[str, ...]] = {
    "assignments": ("assignment_uid",),
    "time_entries": ("entry_uid",),
    "earnings": ("earning_uid",),
    "projects": ("platform", "project_id"),
    "milestones": ("platform", "project_id", "name"),
}
ANNOTATION_COLUMNS = ("field", "value", "value_num", "region", "gold_value", "ordinal")


@contextmanager
def staged(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    """`frame` visible to SQL as `name` for the block. After a failed statement the transaction
    refuses all work, unregistering included, so the original error is the one that propagates."""
    con.register(name, frame)
    yield  # an error in the block propagates from here, skipping the unregister
    con.unregister(name)


def merge_file(
    con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame], file_id: int
) -> tuple[int, int]:
    """Merge `frames` (pseudonymised) stamped with `file_id`; return (inserted, updated) facts."""
    inserted = updated = 0
    for table, key in FACT_KEYS.items():
        frame = frames.get(table)
        if frame is None or frame.is_empty():
            continue
        ins, upd = merge_facts(con, table, _latest_per_key(frame, key), key, file_id)
        inserted += ins
        updated += upd
    if (ann := frames.get("annotations")) is not None and not ann.is_empty():
        merge_annotations(con, ann, file_id)
    merge_workers(con, frames, file_id)
    merge_items(con, frames, file_id)
    _add_missing_projects(con, frames, file_id)
    return inserted, updated


def _latest_per_key(frame: pl.DataFrame, key: Sequence[str]) -> pl.DataFrame:
    """A file naming one key twice keeps its last record (a later line corrects an earlier one)."""
    if frame.select(pl.struct(key).n_unique()).item() == frame.height:
        return frame
    return frame.unique(subset=list(key), keep="last", maintain_order=True)


def merge_facts(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    key: Sequence[str],
    file_id: int,
) -> tuple[int, int]:
    """Update rows whose values changed, insert rows whose key is new; return both counts."""
    columns = [c for c in SCHEMAS[table] if c != "record_no"]
    compared = [c for c in columns if c not in key]
    rows = frame.select(columns).with_columns(pl.lit(file_id, dtype=pl.Int64).alias("file_id"))
    if table == "assignments":
        rows = rows.with_columns(pl.col("is_gold").fill_null(False))
    with staged(con, "_stage", rows):
        match = " AND ".join(f"t.{k} = s.{k}" for k in key)
        changed = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in compared) or "false"
        sets = ", ".join(f"{c} = s.{c}" for c in [*compared, "file_id"])
        updated = con.execute(
            f"UPDATE {table} AS t SET {sets} FROM _stage AS s WHERE {match} AND ({changed})"
        ).fetchone()[0]
        names = ", ".join([*columns, "file_id"])
        inserted = con.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM _stage AS s"
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE {match})"
        ).fetchone()[0]
    return int(inserted), int(updated)


def merge_annotations(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, file_id: int) -> None:
    """Replace the answers of every assignment whose set of answers differs from the stored one."""
    rows = frame.unique(subset=["assignment_uid", "field", "ordinal"], keep="last").with_columns(
        pl.lit(file_id, dtype=pl.Int64).alias("file_id")
    )
    cols = ", ".join(["assignment_uid", *ANNOTATION_COLUMNS])
    cmp = cols.replace("region", "region::VARCHAR")
    with staged(con, "_stage_ann", rows):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _known AS SELECT DISTINCT assignment_uid FROM annotations"
            " WHERE assignment_uid IN (SELECT assignment_uid FROM _stage_ann)"
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _replace AS
            SELECT DISTINCT assignment_uid FROM (
                (SELECT {cmp} FROM _stage_ann WHERE assignment_uid IN (SELECT * FROM _known)
                 EXCEPT
                 SELECT {cmp} FROM annotations WHERE assignment_uid IN (SELECT * FROM _known))
                UNION ALL
                (SELECT {cmp} FROM annotations WHERE assignment_uid IN (SELECT * FROM _known)
                 EXCEPT
                 SELECT {cmp} FROM _stage_ann WHERE assignment_uid IN (SELECT * FROM _known))
            )
            """
        )
        con.execute("DELETE FROM annotations WHERE assignment_uid IN (SELECT * FROM _replace)")
        con.execute(
            f"INSERT INTO annotations ({cols}, file_id) SELECT {cols}, file_id FROM _stage_ann"
            " WHERE assignment_uid NOT IN (SELECT * FROM _known)"
            " OR assignment_uid IN (SELECT * FROM _replace)"
        )
        con.execute("DROP TABLE _known; DROP TABLE _replace")


def merge_workers(
    con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame], file_id: int
) -> None:
    """Workers named by this file, with country/attributes when known and seen dates."""
    seen = [
        frames[name].select(
            "worker_id",
            "platform",
            pl.coalesce(start, "submitted_at" if name == "assignments" else start).alias("first"),
            pl.col(end).alias("last"),
        )
        for name, start, end in (
            ("assignments", "started_at", "submitted_at"),
            ("time_entries", "started_at", "ended_at"),
        )
        if name in frames and not frames[name].is_empty()
    ]
    if "earnings" in frames and not frames["earnings"].is_empty():
        day = pl.col("day").cast(pl.Datetime("us", "UTC"))
        seen.append(
            frames["earnings"].select(
                "worker_id", "platform", day.alias("first"), day.alias("last")
            )
        )
    profile = frames.get("workers")
    parts = [s.drop_nulls(["worker_id", "platform"]) for s in seen]
    if profile is not None and not profile.is_empty():
        parts.append(profile.select("worker_id", "platform"))
    if not parts:
        return
    workers = pl.concat([p.select("worker_id", "platform") for p in parts]).unique()
    if seen:
        dates = (
            pl.concat(seen)
            .group_by("worker_id", "platform")
            .agg(pl.col("first").min(), pl.col("last").max())
        )
        workers = workers.join(dates, on=["worker_id", "platform"], how="left")
    else:
        workers = workers.with_columns(
            pl.lit(None, pl.Datetime("us", "UTC")).alias("first"),
            pl.lit(None, pl.Datetime("us", "UTC")).alias("last"),
        )
    if profile is not None and not profile.is_empty():
        known = profile.group_by("worker_id", "platform").agg(
            pl.col("country").drop_nulls().first(), pl.col("attributes").drop_nulls().first()
        )
        workers = workers.join(known, on=["worker_id", "platform"], how="left")
    else:
        workers = workers.with_columns(
            pl.lit(None, pl.String).alias("country"), pl.lit(None, pl.String).alias("attributes")
        )
    with staged(con, "_stage_workers", workers.with_columns(pl.lit(file_id).alias("file_id"))):
        con.execute(
            """
            INSERT INTO workers (worker_id, platform, country, attributes, first_seen, last_seen,
                                 file_id)
            SELECT worker_id, platform, country, attributes::JSON, first, last, file_id
            FROM _stage_workers
            ON CONFLICT (worker_id, platform) DO UPDATE SET
                country = COALESCE(excluded.country, workers.country),
                attributes = COALESCE(excluded.attributes, workers.attributes),
                first_seen = LEAST(excluded.first_seen, workers.first_seen),
                last_seen = GREATEST(excluded.last_seen, workers.last_seen)
            """
        )


def merge_items(
    con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame], file_id: int
) -> None:
    """Items named by assignments, with gold answers and data-subject attributes when given."""
    parts = []
    if "assignments" in frames and not frames["assignments"].is_empty():
        parts.append(
            frames["assignments"]
            .select("platform", "project_id", "item_id")
            .unique()
            .with_columns(
                pl.lit(None, pl.String).alias("gold_value"),
                pl.lit(None, pl.String).alias("attributes"),
            )
        )
    if "items" in frames and not frames["items"].is_empty():
        parts.append(frames["items"])
    if not parts:
        return
    items = (
        pl.concat(parts, how="vertical_relaxed")
        .group_by("platform", "project_id", "item_id")
        .agg(pl.col("gold_value").drop_nulls().first(), pl.col("attributes").drop_nulls().first())
        .with_columns(pl.lit(file_id, dtype=pl.Int64).alias("file_id"))
    )
    key = "t.platform = s.platform AND t.project_id = s.project_id AND t.item_id = s.item_id"
    with staged(con, "_stage_items", items):
        con.execute(
            f"""
            UPDATE items AS t SET
                gold_value = COALESCE(s.gold_value, t.gold_value),
                attributes = COALESCE(s.attributes::JSON, t.attributes)
            FROM _stage_items AS s
            WHERE {key} AND (
                (s.gold_value IS NOT NULL AND s.gold_value IS DISTINCT FROM t.gold_value) OR
                (s.attributes IS NOT NULL AND s.attributes::JSON IS DISTINCT FROM t.attributes))
            """
        )
        con.execute(
            f"""
            INSERT INTO items (platform, project_id, item_id, gold_value, attributes, file_id)
            SELECT platform, project_id, item_id, gold_value, attributes::JSON, file_id
            FROM _stage_items AS s WHERE NOT EXISTS (SELECT 1 FROM items AS t WHERE {key})
            """
        )


def _add_missing_projects(
    con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame], file_id: int
) -> None:
    """Projects that appear in assignments but have no plan yet get a row with their task type."""
    if "assignments" not in frames or frames["assignments"].is_empty():
        return
    seen = (
        frames["assignments"]
        .group_by("platform", "project_id")
        .agg(pl.col("task_type").drop_nulls().first())
        .with_columns(pl.lit(file_id, dtype=pl.Int64).alias("file_id"))
    )
    with staged(con, "_stage_projects", seen):
        con.execute(
            """
            INSERT INTO projects (platform, project_id, name, task_type, file_id)
            SELECT platform, project_id, project_id, task_type, file_id FROM _stage_projects
            ON CONFLICT (platform, project_id) DO UPDATE SET
                task_type = COALESCE(projects.task_type, excluded.task_type)
            """
        )
