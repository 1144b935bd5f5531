"""The warehouse: the only module that opens `warehouse.duckdb` read-write.

Opening takes an exclusive OS lock on `data_dir/warehouse.lock` (one ETL process at a time; a
second one waits `lock_timeout_seconds`, then fails naming the holder's pid), then applies the
numbered migrations in `sql/schema/` that the warehouse has not recorded yet.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from etl.resources import SCHEMA_DIR
from etl.settings import Settings


class WarehouseBusy(Exception):
    """Another ETL process holds the writer lock."""


def migrations() -> list[Path]:
    """Schema files in the order they apply (`001_core.sql`, `002_...`)."""
    return sorted(SCHEMA_DIR.glob("[0-9][0-9][0-9]_*.sql"))


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations `con` has not recorded; return the names applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    done = {row[0] for row in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for path in migrations():
        if path.name in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(path.read_text())
            con.execute("INSERT INTO schema_migrations (name) VALUES (?)", [path.name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(path.name)
    return applied


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold the single-writer lock for the block, waiting at most `lock_timeout_seconds`."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "warehouse.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
