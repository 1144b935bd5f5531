"""Read-only access to the newest published snapshot, for the dashboard and read-only commands.

`CURRENT` names the newest snapshot file; it is read on every request so a new publish is seen
at once. One read-only connection is kept per snapshot name (DuckDB caches instances by path,
and snapshot names are never reused), and each request gets its own `cursor()`, because one
connection shared across threads raises in duckdb 2.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from etl.settings import Settings

if TYPE_CHECKING:
    import polars as pl

# The newest run against the run the dashboard's figures (the marts) were last rebuilt after:
# a run publishes its rows before it rebuilds the marts, so between the two, or after a failed
# rebuild, the figures lag the rows (`figures_lag`).
FIGURES_SQL = """
SELECT (SELECT max(run_id) FROM etl_runs) AS data_run,
       (SELECT max(run_id) FROM mart_builds) AS figures_run,
       (SELECT max(finished_at) FROM mart_builds) AS figures_built_at
"""


# The platforms whose figures the newest build kept at an older build, and why.
LAGGING_SQL = """
SELECT platform, since_run, reason FROM mart_lagging
WHERE run_id = (SELECT max(run_id) FROM mart_builds) ORDER BY platform
"""


def figures_lag(row: dict[str, Any]) -> bool:
    """Whether `FIGURES_SQL`'s row has a run newer than the figures' last rebuild."""
    return row["data_run"] is not None and (row["figures_run"] or 0) < row["data_run"]


class NoSnapshot(Exception):
    """Nothing has been published yet."""


class SnapshotReader:
    """Cursors on the newest published snapshot of one data directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.snapshots_dir = settings.snapshots_dir
        self._connections: dict[str, duckdb.DuckDBPyConnection] = {}
        self._lock = threading.Lock()

    def current_name(self) -> str | None:
        """File name of the newest snapshot, or None before the first publish."""
        try:
            name = (self.snapshots_dir / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def _connection(self, name: str) -> duckdb.DuckDBPyConnection:
        with self._lock:
            con = self._connections.get(name)
            if con is None:
                con = duckdb.connect(
                    str(self.snapshots_dir / name),
                    read_only=True,
                    config={
                        "threads": self.settings.reader.threads,
                        "memory_limit": self.settings.reader.memory_limit,
                        "enable_external_access": False,
                    },
                )
                stale = [old for old in self._connections if old != name]
                for old in stale:  # keep the previous one: requests may still hold its cursors
                    if len(self._connections) > 1:
                        self._connections.pop(old).close()
                self._connections[name] = con
            return con

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the newest snapshot, closed when the block ends."""
        name = self.current_name()
        if name is None:
            raise NoSnapshot(
                f"No published snapshot in {self.snapshots_dir}. Load some data first: "
                "`crowdmeter ingest PATH...` or `crowdmeter demo`."
            )
        cur = self._connection(name).cursor()
        try:
            yield cur
        finally:
            cur.close()

    def frame(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pl.DataFrame:
        """Run one bound query on a fresh cursor and return a Polars frame."""
        # `.pl()` imports Polars, so a command that asks for no frame (`status`) loads none
        with self.cursor() as cur:
            return cur.sql(sql, params=params).pl() if params else cur.sql(sql).pl()

    def snapshot_path(self) -> Path | None:
        name = self.current_name()
        return None if name is None else self.snapshots_dir / name
