"""The warehouse: the only module that opens `warehouse.duckdb` read-write, and the one door
for writes.

Opening takes an exclusive OS lock on `data_dir/warehouse.lock` (one ETL process at a time; a
second one waits `lock_timeout_seconds`, then fails naming the holder's pid), then applies the
numbered migrations in `sql/schema/` that the warehouse has not recorded yet.

Writes go through here: `transaction()` is the only place a write transaction begins, commits
or rolls back; `staged()` shows Polars frames to SQL for a block; `replace_table()` rebuilds a
derived table and `replace_rows()` the rows of a table of the schema. The modules that know
what to write (merge, lineage, platforms, the marts) run their statements inside a
`transaction()` or hand their rows to these.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from etl.resources import SCHEMA_DIR
from etl.settings import Settings


class WarehouseBusy(Exception):
    """Another ETL process holds the writer lock."""


def migrations(folder: Path = SCHEMA_DIR) -> list[Path]:
    """Schema files in the order they apply: by their number (`001_core.sql`, `002_...`), as a
    number, so `1000_x.sql` comes after `999_y.sql`. Numbers need not follow on: migrations
    written on other branches fill gaps later, and each applies once, when first seen (every
    migration must therefore stand on its own, not on one numbered above it)."""
    numbered = [p for p in folder.glob("[0-9]*_*.sql") if p.name.partition("_")[0].isdigit()]
    return sorted(numbered, key=lambda p: (int(p.name.partition("_")[0]), p.name))


def apply_migrations(con: duckdb.DuckDBPyConnection, folder: Path = SCHEMA_DIR) -> list[str]:
    """Apply the migrations of `folder` that `con` has not recorded, in number order; return
    the names applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    done = {row[0] for row in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for path in migrations(folder):
        if path.name in done:
            continue
        with transaction(con):
            con.execute(path.read_text())
            con.execute("INSERT INTO schema_migrations (name) VALUES (?)", [path.name])
        applied.append(path.name)
    return applied


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction for the block: committed when it ends, rolled back when it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def staged(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """Each frame visible to SQL under its keyword's name for the block."""
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield
    except BaseException:
        # After a failed statement a transaction refuses all work, unregistering included:
        # the original error is the one that propagates.
        with contextlib.suppress(duckdb.Error):
            _unregister(con, frames)
        raise
    _unregister(con, frames)


def _unregister(con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame]) -> None:
    for name in frames:
        con.unregister(name)


def replace_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    query: str,
    params: list[Any] | None = None,
    **frames: pl.DataFrame,
) -> None:
    """Create `table` anew as the rows of `query`, which may read `frames` by their names."""
    with staged(con, **frames):
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {query}", params)


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Replace every row of `table` (its definition and constraints kept) with `frame`'s."""
    columns = ", ".join(frame.columns)
    with staged(con, replacement_rows=frame):
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM replacement_rows")


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write everything committed into the database file (before it is copied)."""
    con.execute("CHECKPOINT")


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold the single-writer lock for the block, waiting at most `lock_timeout_seconds`."""
    make_private(settings.data_dir)
    path = settings.data_dir / "warehouse.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + settings.lock_timeout_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                    raise WarehouseBusy(
                        f"Another Crowdmeter ETL process (pid {holder}) holds {path}. Wait for "
                        "it to finish, or stop it, then run this command again."
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def lower_cpu_priority(niceness: int) -> None:
    """Take niceness `niceness` (if higher) for every thread of this process.

    Publishing rebuilds every mart on every ingest; on a small machine shared with the web
    workers it would starve them. Linux keeps a niceness per thread and new threads inherit
    their creator's, so thread pools started earlier (Polars, DuckDB) are lowered one by one.
    """
    if niceness <= 0:
        return
    tasks = Path("/proc/self/task")
    threads = [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [0]
    for tid in threads:
        with contextlib.suppress(OSError):  # the thread may have ended meanwhile
            if os.getpriority(os.PRIO_PROCESS, tid) < niceness:
                os.setpriority(os.PRIO_PROCESS, tid, niceness)


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The read-write warehouse connection, under the writer lock, migrated to the newest schema.

    The process first lowers its CPU priority to `etl_nice`, for good: ETL commands end when
    their run does.
    """
    lower_cpu_priority(settings.etl_nice)
    umask = os.umask(PRIVATE_UMASK)  # what the writer creates (snapshots, spill files) is private
    with writer_lock(settings):
        con = duckdb.connect(str(settings.warehouse_path))
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET memory_limit = ?", [settings.etl_memory_limit])
            con.execute("SET temp_directory = ?", [str(settings.data_dir / "tmp")])
            apply_migrations(con)
            yield con
        finally:
            con.close()
            os.umask(umask)


PRIVATE_UMASK = 0o077
# The folders and files under data_dir that hold rows: only their owner may read them (any local
# user could otherwise read every row and bypass the dashboard's scoping).
PRIVATE_FOLDERS = ("", "snapshots", "tmp", "secrets")


def make_private(data_dir: Path) -> None:
    """Create `data_dir` if needed; its data folders 0700 and the files in them 0600 (which
    also tightens a data folder created by an earlier version)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in PRIVATE_FOLDERS:
        folder = data_dir / name
        if not folder.is_dir():
            continue
        folder.chmod(0o700)
        for path in folder.iterdir():
            if path.is_file() and not path.is_symlink():
                path.chmod(0o600)


@contextmanager
def memory_for_python(con: duckdb.DuckDBPyConnection, settings: Settings) -> Iterator[None]:
    """For a block whose working data is in Python's memory (the marts computed in Python):
    DuckDB's limit drops to `marts_memory_limit` and its allocator keeps 8 MB for reuse
    instead of 128 MB, so that the process's peak is Python's plus a little; both are put
    back after."""
    con.execute("SET memory_limit = ?", [settings.marts_memory_limit])
    con.execute("SET allocator_flush_threshold = '8MB'")
    try:
        yield
    finally:
        con.execute("SET memory_limit = ?", [settings.etl_memory_limit])
        con.execute("RESET allocator_flush_threshold")
