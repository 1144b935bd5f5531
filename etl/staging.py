"""Staging of a big file's parts: each part is parsed while the previous one is staged as
Parquet files, so memory holds one part at a time, and the warehouse takes them all in the
file's one transaction, so the file still loads whole or not at all.
"""

from __future__ import annotations

import queue
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl

from etl.settings import Settings
from etl.sources.base import REJECTS_SCHEMA
from etl.warehouse import staged

T = TypeVar("T")
_END = object()


def staging_folder(settings: Settings, pid: int) -> Path:
    """Where process `pid` stages the parts of the file it is loading."""
    return settings.data_dir / "tmp" / f"staging-{pid}"


def remove_leftover_parts(settings: Settings) -> None:
    """Delete the staged parts of killed runs: the warehouse never took them."""
    for leftover in (settings.data_dir / "tmp").glob("staging-*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()


class StagedParts:
    """The parts of one big file, staged as Parquet files (a folder per table) until the final
    merge takes them all in one transaction. Writing Parquet costs a fraction of appending to a
    database, and memory holds one part at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.part = 0
        self.remove()
        folder.mkdir(parents=True)

    def add(self, name: str, frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        table = self.folder / name
        table.mkdir(exist_ok=True)
        frame.write_parquet(table / f"{self.part:06d}.parquet", compression="lz4")

    def next_part(self) -> None:
        self.part += 1

    def tables(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if p.is_dir())

    def rows(self, name: str, columns: str = "*") -> str:
        """A SELECT of the staged rows of table `name` (columns missing in a part are null)."""
        pattern = str(self.folder / name / "*.parquet").replace("'", "''")
        return f"SELECT {columns} FROM read_parquet('{pattern}', union_by_name = true)"

    @contextmanager
    def views(self, con: duckdb.DuckDBPyConnection, prefix: str) -> Iterator[list[str]]:
        """Each staged table visible to SQL as the view `<prefix><table>` for the block; yields
        the tables' names."""
        names = self.tables()
        try:
            for name in names:
                con.execute(f"CREATE OR REPLACE TEMP VIEW {prefix}{name} AS {self.rows(name)}")
            yield names
        finally:
            for name in names:
                con.execute(f"DROP VIEW IF EXISTS {prefix}{name}")

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def prefetched(items: Iterator[T], ahead: int = 1) -> Iterator[T]:
    """`items`, produced by a background thread up to `ahead` in advance: the next part is
    parsed (Polars releases the GIL) while this one is staged (so does DuckDB), which keeps both
    cores busy. An error of the producer is raised here, in order."""
    handoff: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            put((None, exc))

    worker = threading.Thread(target=produce, name="crowdmeter-parse", daemon=True)
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def reject_repeats_of_earlier_parts(
    con: duckdb.DuckDBPyConnection, stage: StagedParts, frames: dict[str, pl.DataFrame]
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """An assignment an earlier part of the same file already staged is a repeated record:
    the first one is kept (as the importers do within a part) and this one rejected."""
    assignments = frames.get("assignments")
    earlier = "assignments" in stage.tables()
    if assignments is None or assignments.is_empty() or not earlier:
        return frames, pl.DataFrame(schema=REJECTS_SCHEMA)
    with staged(con, _part_uids=assignments.select("assignment_uid", "record_no")):
        repeated = con.sql(
            "SELECT p.assignment_uid, p.record_no FROM _part_uids p"
            f" SEMI JOIN ({stage.rows('assignments', 'assignment_uid')}) a"
            " USING (assignment_uid)"
        ).pl()
    if repeated.is_empty():
        return frames, pl.DataFrame(schema=REJECTS_SCHEMA)
    uids = repeated["assignment_uid"].implode()
    kept = {name: frame for name, frame in frames.items() if name not in ("workers", "items")}
    kept["assignments"] = assignments = assignments.filter(~pl.col("assignment_uid").is_in(uids))
    if "annotations" in frames:
        kept["annotations"] = frames["annotations"].filter(~pl.col("assignment_uid").is_in(uids))
    # Workers and items a part names come from its records: keep those the kept ones name.
    for name, key in (("workers", ["worker_id", "platform"]), ("items", ["project_id", "item_id"])):
        if name in frames:
            kept[name] = frames[name].join(assignments.select(key).unique(), on=key, how="semi")
    rejects = repeated.select(
        pl.col("record_no"),
        pl.format("assignment {} appears again; its first record was kept", "assignment_uid").alias(
            "reason"
        ),
        pl.lit(None, dtype=pl.String).alias("raw"),
    )
    return kept, rejects
