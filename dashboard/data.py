"""The dashboard's only data access: one viewer's view of the newest snapshot, and the caches.

Queries (`dashboard/queries/<page>.py`) run through `ScopedData.frame` on the published snapshot
via `etl.reader.SnapshotReader`, with bound parameters only, and take the viewer's row scope
from `dashboard.access`. Results are cached per snapshot, SQL and parameters (which carry the
scope); rendered pages per snapshot, viewer scope and filters.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import cachetools
import polars as pl

from dashboard import access
from dashboard.access import Where
from dashboard.url_state import Filters
from dashboard.users import User
from etl.reader import SnapshotReader
from etl.settings import Settings

T = TypeVar("T")
# Rows sent to a grid, in the order the page ranks them; downloads carry them all. Every row is
# a JSON object in the page's response: at 2,000 rows the Earnings page weighed 1.7 MB and
# encoding it took most of a request's time under load.
GRID_ROWS = 500
QUERIES_KEPT = 512
# Rendered pages kept per web worker: every page under a few filter sets per scope for the newest
# snapshot; the largest holds four grids of GRID_ROWS rows.
PAGES_KEPT = 64


class SingleFlightCache:
    """A least-recently-used cache whose value for a key is computed once however many threads
    ask at the same time (after a new snapshot every viewer's first request misses)."""

    def __init__(self, size: int) -> None:
        self.entries: cachetools.LRUCache = cachetools.LRUCache(size)
        self._get = cachetools.cached(
            self.entries, key=lambda key, compute: key, condition=threading.Condition()
        )(lambda key, compute: compute())

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value kept for `key`, else `compute()`'s (kept for the next caller)."""
        return self._get(key, compute)


class ScopedData:
    """What one viewer may read from the newest snapshot."""

    def __init__(
        self,
        reader: SnapshotReader,
        viewer: User,
        settings: Settings,
        cache: SingleFlightCache | None = None,
        memos: SingleFlightCache | None = None,
    ) -> None:
        self.reader = reader
        self.viewer = viewer
        self.settings = settings
        self.cache = cache
        self.memos = memos

    @property
    def has_snapshot(self) -> bool:
        return self.reader.current_name() is not None

    @property
    def min_group_size(self) -> int:
        return self.settings.min_group_size

    @property
    def scope_kind(self) -> access.Scope:
        """Which rows the viewer's login covers: all, its projects', or its own work."""
        return access.scope_of(self.viewer)

    @property
    def suppresses_small_groups(self) -> bool:
        """Whether this viewer sees aggregates of at least `min_group_size` workers only."""
        return access.suppresses_small_groups(self.viewer)

    def allowed(self, action: str) -> bool:
        return access.allowed(self.viewer, action)

    def ensure(self, action: str) -> None:
        """Raise NotAllowed unless the viewer may do `action` (see dashboard.access.ACTIONS)."""
        access.ensure(self.viewer, action)

    def scope(
        self,
        filters: Filters,
        *,
        day: str | None = "day",
        worker: str | None = "worker_id",
        project: bool = True,
    ) -> Where:
        """The viewer's row scope and the filters over a table's columns (access.row_scope)."""
        return access.row_scope(self.viewer, filters, day=day, worker=worker, project=project)

    def suppress_small_groups(
        self, frame: pl.DataFrame, workers: str = "workers", complementary: bool = True
    ) -> pl.DataFrame:
        """For viewers who see aggregates only, drop rows of fewer than min_group_size workers
        (and the smallest others when those dropped are fewer together: see access)."""
        return access.suppress_small_groups(
            self.viewer, frame, self.min_group_size, workers, complementary
        )

    def frame(self, sql: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        """One bound query on the newest snapshot, cached per snapshot, SQL and parameters."""
        name = self.reader.current_name() or ""
        key = (name, sql, json.dumps(params or {}, sort_keys=True, default=str))

        def run() -> pl.DataFrame:
            return self.reader.frame(sql, params or None)

        return self.cache.get_or_compute(key, run) if self.cache else run()

    def memo(self, name: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
        """`compute()` once per snapshot, viewer scope and `params` (rendered pages)."""
        scope = {
            "role": self.viewer.role,
            "projects": self.viewer.project_keys,
            "workers": list(self.viewer.workers),
        }
        key = (
            self.reader.current_name() or "",
            name,
            json.dumps({**params, "scope": scope}, sort_keys=True, default=str),
        )
        return self.memos.get_or_compute(key, compute) if self.memos else compute()

    def has_table(self, table: str) -> bool:
        found = self.frame(
            "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = $table",
            {"table": table},
        )
        return bool(found["n"][0])


class DataSource:
    """One process's reader, query cache and page cache; hands each viewer their scoped view."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reader = SnapshotReader(settings)
        self.cache = SingleFlightCache(QUERIES_KEPT)
        self.memos = SingleFlightCache(PAGES_KEPT)

    def for_viewer(self, viewer: User) -> ScopedData:
        return ScopedData(self.reader, viewer, self.settings, self.cache, self.memos)
