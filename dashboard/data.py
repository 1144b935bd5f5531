"""The dashboard's only data access: the viewer's row scope and the URL filters on every query.

Queries run on the published snapshot through `etl.reader.SnapshotReader`, with bound
parameters only. Admins see all rows, managers their projects, freelancers their own
pseudonyms, auditors aggregates of at least `min_group_size` workers and no per-worker rows.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode

import polars as pl

from dashboard.users import User
from etl.reader import FIGURES_SQL, SnapshotReader, figures_lag
from etl.settings import Settings
from metrics.pay import COUNTS, MONEY, SECONDS

MAX_FILTER_VALUES = 50
MAX_FILTER_CHARS = 400
T = TypeVar("T")
# Rows sent to a grid, in the order the page ranks them; downloads carry them all. Every row is
# a JSON object in the page's response: at 2,000 rows the Earnings page weighed 1.7 MB and
# encoding it took most of a request's time under load.
GRID_ROWS = 500
# Rendered pages kept per web worker: every page under a few filter sets per scope for the newest
# snapshot; the largest holds four grids of GRID_ROWS rows.
PAGES_KEPT = 64
PAY_COLUMNS = [*SECONDS, *COUNTS, *MONEY]  # the ledger's additive columns
# whole-period wage tables etl/marts/earnings.py publishes for the unfiltered view
PUBLISHED_WAGES = {
    "overall": "mart_earnings_wages_overall",
    "weekly": "mart_earnings_wages_weekly",
    "task_types": "mart_earnings_wages_task_types",
    "platforms": "mart_earnings_wages_platforms",
    "workers": "mart_earnings_by_worker",
}


class NotAllowed(Exception):
    """The viewer's role may not see this breakdown."""


@dataclass(frozen=True)
class Filters:
    """Date range, platforms and projects ('PLATFORM:PROJECT') chosen in the URL."""

    start: date | None = None
    end: date | None = None
    platforms: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    focus: str = ""  # what the page zooms in on (the Quality page's project field)

    @classmethod
    def from_query(cls, search: str | None) -> Filters:
        """Filters from a URL query string; values that do not parse are dropped."""
        # only the first fields are read, so a hostile URL costs no more than a long one
        fields = (search or "").lstrip("?").split("&")[: 4 * MAX_FILTER_VALUES]
        query = parse_qs("&".join(fields))
        start, end = _date(query.get("from")), _date(query.get("to"))
        if start and end and start > end:
            start, end = end, start
        focus = next(iter(_values(query.get("focus"))), "")
        return cls(start, end, _values(query.get("platform")), _values(query.get("project")), focus)

    def to_query(self) -> str:
        """The URL query string of these filters ('' when none is set)."""
        pairs: list[tuple[str, str]] = []
        if self.start:
            pairs.append(("from", self.start.isoformat()))
        if self.end:
            pairs.append(("to", self.end.isoformat()))
        pairs += [("platform", p) for p in self.platforms]
        pairs += [("project", p) for p in self.projects]
        if self.focus:
            pairs.append(("focus", self.focus))
        return "?" + urlencode(pairs) if pairs else ""


@dataclass(frozen=True)
class FieldKey:
    """One answered field of one project: what the Quality page zooms in on."""

    platform: str
    project_id: str
    field: str

    # the separator cannot occur in platform names; the field takes whatever follows
    SEPARATOR = "\x1f"

    def to_focus(self) -> str:
        """The field as the URL's `focus` value."""
        return self.SEPARATOR.join((self.platform, self.project_id, self.field))

    @classmethod
    def from_focus(cls, focus: str | None) -> FieldKey | None:
        """The field a `focus` value names, or None when it names none."""
        parts = (focus or "").split(cls.SEPARATOR, 2)
        return cls(*parts) if len(parts) == 3 and all(parts) else None


def _date(values: list[str] | None) -> date | None:
    try:
        return date.fromisoformat(values[0][:10]) if values else None
    except ValueError:
        return None


def _values(values: list[str] | None) -> tuple[str, ...]:
    cleaned = {v for v in values or [] if 0 < len(v) <= MAX_FILTER_CHARS}
    return tuple(sorted(cleaned)[:MAX_FILTER_VALUES])


@dataclass
class Where:
    """A WHERE clause built from fragments and their bound parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, clause: str, **params: Any) -> Where:
        self.clauses.append(clause)
        self.params.update(params)
        return self

    @property
    def sql(self) -> str:
        return "WHERE " + " AND ".join(self.clauses) if self.clauses else ""


class QueryCache:
    """Results keyed by snapshot name, SQL and bound parameters (which carry the scope)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[tuple[str, str, str], threading.Lock] = {}

    def get_or_compute(self, key: tuple[str, str, str], compute: Callable[[], T]) -> T:
        """The value kept for `key`, else `compute()`'s, computed once however many threads
        ask at the same time (after a new snapshot every viewer's first request misses)."""
        found = self.get(key)
        if found is not None:
            return found
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
        try:
            with flight:
                found = self.get(key)
                if found is None:
                    found = compute()
                    self.put(key, found)
        finally:
            with self._lock:
                self._flights.pop(key, None)
        return found

    def get(self, key: tuple[str, str, str]) -> Any:
        with self._lock:
            frame = self._items.get(key)
            if frame is not None:
                self._items.move_to_end(key)
            return frame

    def put(self, key: tuple[str, str, str], frame: Any) -> None:
        with self._lock:
            self._items[key] = frame
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class ScopedData:
    """What one viewer may read from the newest snapshot."""

    def __init__(
        self,
        reader: SnapshotReader,
        viewer: User,
        settings: Settings,
        cache: QueryCache | None = None,
        memos: QueryCache | None = None,
    ) -> None:
        self.reader = reader
        self.viewer = viewer
        self.settings = settings
        self.cache = cache
        self.memos = memos

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def has_snapshot(self) -> bool:
        return self.reader.current_name() is not None

    @property
    def aggregated_only(self) -> bool:
        return self.viewer.role == "auditor"

    @property
    def min_group_size(self) -> int:
        return self.settings.min_group_size

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

    def scope(
        self,
        filters: Filters,
        *,
        day: str | None = "day",
        worker: str | None = "worker_id",
        project: bool = True,
    ) -> Where:
        """The viewer's row scope and the filters as one WHERE clause over a table's columns.

        `day` and `worker` name the table's date and worker columns (None when it has none);
        `project` says whether it has platform and project_id columns.
        """
        where = Where()
        role = self.viewer.role
        if role == "manager":
            if not project:
                raise NotAllowed("This table has no project column to scope a manager by.")
            where.add(
                "list_contains($scope_projects::VARCHAR[], platform || ':' || project_id)",
                scope_projects=self.viewer.project_keys,
            )
        elif role == "freelancer":
            if worker is None:
                raise NotAllowed("This table has no worker column to scope a freelancer by.")
            where.add(
                f"list_contains($scope_workers::VARCHAR[], {worker})",
                scope_workers=list(self.viewer.workers),
            )
        elif role not in ("admin", "auditor"):
            raise NotAllowed(f"Unknown role {role!r}.")
        return self._filter(where, filters, day=day, project=project)

    @staticmethod
    def _filter(where: Where, filters: Filters, *, day: str | None, project: bool) -> Where:
        if day and filters.start:
            where.add(f"{day} >= $start", start=filters.start)
        if day and filters.end:
            where.add(f"{day} <= $end", end=filters.end)
        if project and filters.platforms:
            where.add(
                "list_contains($platforms::VARCHAR[], platform)", platforms=list(filters.platforms)
            )
        if project and filters.projects:
            where.add(
                "list_contains($projects::VARCHAR[], platform || ':' || project_id)",
                projects=list(filters.projects),
            )
        return where

    def suppress_small_groups(self, frame: pl.DataFrame, workers: str = "workers") -> pl.DataFrame:
        """For auditors, drop rows with fewer than `min_group_size` workers behind them."""
        if not self.aggregated_only or frame.is_empty():
            return frame
        return frame.filter(pl.col(workers) >= self.min_group_size)

    def require_per_worker(self) -> None:
        """Refuse per-worker breakdowns to auditors, who see aggregates only."""
        if self.aggregated_only:
            raise NotAllowed("Auditors see aggregated figures only, not per-worker rows.")

    # -- filter choices ---------------------------------------------------------------------

    def filter_options(self) -> pl.DataFrame:
        """Platforms and projects the viewer can pick: platform, project_id, name."""
        where = self.scope(Filters(), day=None)
        return self.frame(
            "SELECT DISTINCT a.platform, a.project_id, p.name "
            f"FROM (SELECT DISTINCT platform, project_id FROM mart_activity_daily {where.sql}) a "
            "LEFT JOIN mart_projects p USING (platform, project_id) ORDER BY 1, 2",
            where.params,
        )

    # -- overview ---------------------------------------------------------------------------

    def activity_totals(self, filters: Filters) -> dict[str, Any]:
        """Headline counts and rates over the viewer's scope and filters."""
        where = self.scope(filters)
        row = self.frame(
            "SELECT count(DISTINCT platform)::BIGINT AS platforms, "
            "count(DISTINCT platform || ':' || project_id)::BIGINT AS projects, "
            "count(DISTINCT worker_id)::BIGINT AS workers, "
            "coalesce(sum(assignments), 0)::BIGINT AS assignments, "
            "coalesce(sum(active_seconds), 0)::DOUBLE / 3600 AS active_hours, "
            "(sum(gold_correct) / NULLIF(sum(gold_answered), 0))::DOUBLE AS gold_accuracy, "
            "coalesce(sum(gold_answered), 0)::BIGINT AS gold_answered, "
            "(sum(rejected) / NULLIF(sum(reviewed), 0))::DOUBLE AS rejection_rate, "
            "coalesce(sum(reviewed), 0)::BIGINT AS reviewed, "
            "min(day) AS first_day, max(day) AS last_day "
            f"FROM mart_activity_daily {where.sql}",
            where.params,
        ).row(0, named=True)
        if self.aggregated_only and row["workers"] < self.min_group_size:
            row.update(gold_accuracy=None, rejection_rate=None, suppressed=True)
        return row

    def weekly_activity(self, filters: Filters) -> pl.DataFrame:
        """Assignments and active workers per ISO week and platform."""
        where = self.scope(filters)
        frame = self.frame(
            "SELECT date_trunc('week', day)::DATE AS week, platform, "
            "sum(assignments)::BIGINT AS assignments, count(DISTINCT worker_id)::BIGINT AS workers "
            f"FROM mart_activity_daily {where.sql} GROUP BY ALL ORDER BY week, platform",
            where.params,
        )
        return self.suppress_small_groups(frame)

    def project_summary(self, filters: Filters) -> pl.DataFrame:
        """One row per project in scope: volume, workers, review and gold outcomes."""
        where = self.scope(filters)
        frame = self.frame(
            "SELECT a.platform, a.project_id, any_value(p.name) AS name, "
            "sum(a.assignments)::BIGINT AS assignments, "
            "count(DISTINCT a.worker_id)::BIGINT AS workers, "
            "(sum(a.approved) / NULLIF(sum(a.reviewed), 0))::DOUBLE AS approval_rate, "
            "(sum(a.gold_correct) / NULLIF(sum(a.gold_answered), 0))::DOUBLE AS gold_accuracy, "
            "sum(a.active_seconds)::DOUBLE / 3600 AS active_hours, "
            "min(a.day) AS first_day, max(a.day) AS last_day "
            f"FROM mart_activity_daily a LEFT JOIN mart_projects p USING (platform, project_id) "
            f"{where.sql} GROUP BY a.platform, a.project_id ORDER BY assignments DESC",
            where.params,
        )
        return self.suppress_small_groups(frame)

    def freshness(self) -> dict[str, Any]:
        """Snapshot name, when the last successful run finished and the newest work in scope."""
        runs = self.frame(
            "SELECT max(finished_at) AS last_run_at FROM etl_runs "
            "WHERE status IN ('succeeded', 'partial')"
        ).row(0, named=True)
        where = self.scope(Filters())
        newest = self.frame(
            f"SELECT max(day) AS newest_day FROM mart_activity_daily {where.sql}", where.params
        ).row(0, named=True)
        return {"snapshot": self.reader.current_name(), **runs, **newest}

    def figures_behind(self) -> dict[str, Any] | None:
        """The snapshot's newest run and the run its figures were built after, when the marts
        lag the data (a run publishes its rows before it rebuilds the marts); else None."""
        if not self.has_table("mart_builds"):  # a snapshot from before it: nothing to say
            return None
        row = self.frame(FIGURES_SQL).row(0, named=True)
        return row if figures_lag(row) else None

    # -- quality ----------------------------------------------------------------------------
    # The Quality page reads the mart_quality_* tables (etl/marts/quality.py). They are kept by
    # week, so a date range selects the whole weeks it touches; agreement over a field's whole
    # period is published as such, since coefficients do not add up over weeks.

    def quality_fields(self, filters: Filters) -> pl.DataFrame:
        """Categorical fields of the projects in scope with answers in the chosen weeks, most
        answered first: their units, coders, weeks and the bootstrap behind their intervals."""
        where = self._quality_projects(filters)
        if filters.start:
            where.add("last_week >= date_trunc('week', $start::DATE)", start=filters.start)
        if filters.end:
            where.add("first_week <= $end", end=filters.end)
        where.add("kind = 'categorical'")
        frame = self.frame(
            f"SELECT * FROM mart_quality_fields {where.sql} "
            "ORDER BY answers DESC, platform, project_id, field",
            where.params,
        )
        return self.suppress_small_groups(frame, "coders")

    def field_info(self, field: FieldKey) -> dict[str, Any] | None:
        """One row of `quality_fields` (whole period), or None when out of scope."""
        where = self._quality_projects(Filters())
        self._one_field(where, field)
        frame = self.frame(f"SELECT * FROM mart_quality_fields {where.sql}", where.params)
        frame = self.suppress_small_groups(frame, "coders")
        return frame.row(0, named=True) if frame.height else None

    def field_agreement(self, field: FieldKey) -> pl.DataFrame:
        """Every coefficient of one field over its whole period, with its interval."""
        where = self._field_aggregate(field, Filters())
        return self.frame(
            "SELECT coefficient, n_units, n_pairable_values, value, ci_low, ci_high, "
            f"undefined_reason FROM mart_quality_agreement {where.sql} ORDER BY coefficient",
            where.params,
        )

    def field_weekly_agreement(self, field: FieldKey, filters: Filters) -> pl.DataFrame:
        """Coefficients per week of the units' first rating, in the chosen weeks."""
        where = self._field(field, filters)
        frame = self.frame(
            "SELECT week, coefficient, n_units, n_pairable_values, coders, value, ci_low, "
            f"ci_high, undefined_reason FROM mart_quality_agreement_weekly {where.sql} "
            "ORDER BY week, coefficient",
            where.params,
        )
        return self.suppress_small_groups(frame, "coders")

    def field_confusion(self, field: FieldKey, filters: Filters) -> pl.DataFrame:
        """Gold answer x answer given (`true`, `observed`, `count`) summed over the weeks."""
        where = self._field_aggregate(field, filters)
        return self.frame(
            'SELECT "true", observed, sum("count")::BIGINT AS "count" '
            f"FROM mart_quality_confusion {where.sql} GROUP BY ALL ORDER BY ALL",
            where.params,
        )

    def field_hot_spots(self, field: FieldKey, filters: Filters) -> pl.DataFrame:
        """The least agreed units first in the chosen weeks (each week keeps its worst
        `HOT_SPOTS`, so the worst of any range of weeks are among them)."""
        info = self.field_info(field)
        where = self._field_aggregate(field, filters)
        return self.frame(
            "SELECT unit, week, n_ratings, agreement, majority, answers "
            f"FROM mart_quality_hot_spots {where.sql} "
            "ORDER BY agreement, n_ratings DESC, unit LIMIT $hot_spots",
            {**where.params, "hot_spots": info["hot_spots_per_week"] if info else 0},
        )

    def field_annotators(self, field: FieldKey, filters: Filters) -> pl.DataFrame:
        """Per annotator of one field (per-worker rows, not for auditors): answers, gold answered
        and right, reviewed and rejected assignments, ratings compared with the others' majority
        and agreeing with it, summed over the chosen weeks."""
        self.require_per_worker()
        where = self._field(field, filters, worker="worker_id")
        return self.frame(
            "SELECT worker_id, sum(answers)::BIGINT AS answers, "
            "sum(gold_answered)::BIGINT AS gold_answered, "
            "sum(gold_correct)::BIGINT AS gold_correct, sum(reviewed)::BIGINT AS reviewed, "
            "sum(rejected)::BIGINT AS rejected, "
            "sum(consensus_compared)::BIGINT AS consensus_compared, "
            "sum(consensus_agree)::BIGINT AS consensus_agree "
            f"FROM mart_quality_annotators {where.sql} GROUP BY worker_id "
            "ORDER BY answers DESC, worker_id",
            where.params,
        )

    def field_pairs(self, field: FieldKey) -> pl.DataFrame:
        """Cohen's kappa between the field's busiest annotators, whole period (per-worker)."""
        self.require_per_worker()
        where = self._field(field, Filters())
        if self.viewer.role == "freelancer":
            where.add(
                "list_contains($scope_workers::VARCHAR[], coder_a) "
                "AND list_contains($scope_workers::VARCHAR[], coder_b)",
                scope_workers=list(self.viewer.workers),
            )
        return self.frame(
            "SELECT coder_a, coder_b, n_shared_units, percent_agreement, cohen_kappa "
            f"FROM mart_quality_pairwise {where.sql} ORDER BY coder_a, coder_b",
            where.params,
        )

    def _quality_projects(self, filters: Filters) -> Where:
        if self.viewer.role == "freelancer":
            raise NotAllowed("Quality figures cover whole projects; freelancers see Earnings.")
        return self.scope(filters, day=None, worker=None)

    def _field(self, field: FieldKey, filters: Filters, worker: str | None = None) -> Where:
        """The viewer's scope, one field and the weeks the date range touches."""
        if worker is None:
            where = self._quality_projects(filters)
        else:
            where = self.scope(filters, day=None, worker=worker)
        self._one_field(where, field)
        if filters.start:
            where.add("week >= date_trunc('week', $start::DATE)", start=filters.start)
        if filters.end:
            where.add("week <= $end", end=filters.end)
        return where

    @staticmethod
    def _one_field(where: Where, field: FieldKey) -> None:
        where.add(
            "platform = $platform AND project_id = $project_id AND field = $field",
            platform=field.platform,
            project_id=field.project_id,
            field=field.field,
        )

    def field_coders(self, field: FieldKey, filters: Filters) -> int:
        """Distinct annotators of one field in the chosen weeks (in the viewer's scope)."""
        where = self._field(field, filters)
        found = self.frame(
            "SELECT count(DISTINCT worker_id)::BIGINT AS coders "
            f"FROM mart_quality_annotators {where.sql}",
            where.params,
        )
        return int(found["coders"][0])

    def _field_aggregate(self, field: FieldKey, filters: Filters) -> Where:
        """`_field`, matching no row when an auditor would see a group that is too small."""
        where = self._field(field, filters)
        if self.field_suppressed(field, filters):
            where.add("false")
        return where

    def field_suppressed(self, field: FieldKey, filters: Filters) -> bool:
        """For auditors, whether fewer than `min_group_size` annotators are behind the figures."""
        if not self.aggregated_only:
            return False
        return self.field_coders(field, filters) < self.min_group_size

    # -- earnings ---------------------------------------------------------------------------

    def pay_sums(self, filters: Filters, by: Sequence[str]) -> pl.DataFrame:
        """The ledger's additive pay columns summed per `by` (ledger keys, or `week`) over the
        viewer's rows, with the distinct `workers` behind each group.

        The sums are done here, on the snapshot, so that `metrics.pay` only derives the wages of
        a few rows: the ledger itself has one row per worker and day.
        """
        where = self.scope(filters)
        keys = ["date_trunc('week', day)::DATE AS week" if b == "week" else b for b in by]
        # per worker the count is 1: no need to count
        workers = "1" if "worker_id" in by else "count(DISTINCT worker_id)"
        sums = [f"sum({c})::{'BIGINT' if c in COUNTS else 'DOUBLE'} AS {c}" for c in PAY_COLUMNS]
        positions = ", ".join(str(i + 1) for i in range(len(by)))
        grouped = f"GROUP BY {positions} ORDER BY {positions}" if by else ""
        return self.frame(
            f"SELECT {', '.join([*keys, f'{workers}::BIGINT AS workers', *sums])}"
            f" FROM mart_earnings_ledger {where.sql} {grouped}",
            where.params,
        )

    def published_wages(
        self, table: str, filters: Filters, columns: Sequence[str] = ()
    ) -> pl.DataFrame | None:
        """A wage table computed at publish over every worker and the whole period (see
        PUBLISHED_WAGES), with `columns` only when named: the view of admins and auditors
        without filters; None for any other."""
        if table not in PUBLISHED_WAGES:
            raise NotAllowed(f"No published wage table {table!r}.")
        unfiltered = replace(filters, focus="") == Filters()
        if self.viewer.role not in ("admin", "auditor") or not unfiltered:
            return None
        picked = ", ".join(f'"{c}"' for c in columns) if columns else "* EXCLUDE (currency)"
        return self.frame(f"SELECT {picked} FROM {PUBLISHED_WAGES[table]}")

    def worker_pay_table(
        self, table: str, filters: Filters, columns: Sequence[str] = ()
    ) -> pl.DataFrame:
        """Whole-period per-worker pay rows (by_worker, fairpay, skiplist) of admins and
        freelancers, with `columns` only when named; they carry no project, so managers are
        not given them."""
        if table not in ("by_worker", "fairpay", "skiplist"):
            raise NotAllowed(f"No per-worker pay table {table!r}.")
        self.require_per_worker()
        if self.viewer.role == "manager":
            raise NotAllowed("Per-worker pay across all projects is not open to managers.")
        where = self._whole_period_scope(filters)
        # column names come from the page's code, never from the request
        picked = ", ".join(f'"{c}"' for c in columns) if columns else "* EXCLUDE (currency)"
        return self.frame(
            f"SELECT {picked} FROM mart_earnings_{table} {where.sql} ORDER BY platform, worker_id",
            where.params,
        )

    def _whole_period_scope(self, filters: Filters) -> Where:
        """The viewer's scope over per-worker pay tables of the whole period: they carry no
        day or project, so only the platform filter applies."""
        where = self.scope(Filters(), day=None, project=False)
        if filters.platforms:
            where.add(
                "list_contains($platforms::VARCHAR[], platform)", platforms=list(filters.platforms)
            )
        return where

    def skip_list_below(self, threshold: float, filters: Filters) -> pl.DataFrame:
        """A freelancer's skip list at a wage `threshold` of their choosing (whole period, as
        the published list), worked out from their own ledger rows."""
        from etl.pay import worker_skip_list

        if self.viewer.role != "freelancer":
            raise NotAllowed("A skip list at a chosen threshold is a freelancer's own view.")
        where = self._whole_period_scope(filters)

        def compute() -> pl.DataFrame:
            ledger = self.frame(f"SELECT * FROM mart_earnings_ledger {where.sql}", where.params)
            listed = worker_skip_list(ledger, pl.DataFrame(), self.settings, threshold)
            return listed.sort("platform", "worker_id", "kind", "name")

        return self.memo(
            "skip_list_below", {"threshold": threshold, "where": where.params}, compute
        )

    def platform_pay_delays(self, filters: Filters) -> pl.DataFrame:
        """Payment delays and unpaid work per platform, over all workers (an aggregate)."""
        if self.viewer.role not in ("admin", "auditor"):
            raise NotAllowed("Platform-wide payment figures are for admins and auditors.")
        where = Where()
        if filters.platforms:
            where.add(
                "list_contains($platforms::VARCHAR[], platform)", platforms=list(filters.platforms)
            )
        return self.frame(
            f"SELECT * FROM mart_earnings_delays {where.sql} ORDER BY platform", where.params
        )

    # -- pipeline ---------------------------------------------------------------------------

    def _file_scope(self, filters: Filters) -> Where:
        """Files the viewer may see: a manager only files that brought rows for their projects."""
        if self.viewer.role not in ("admin", "manager"):
            raise NotAllowed("Only admins and managers see the pipeline.")
        where = Where()
        if self.viewer.role == "manager":
            where.add(
                "f.file_id IN (SELECT file_id FROM mart_file_projects WHERE list_contains("
                "$scope_projects::VARCHAR[], platform || ':' || project_id))",
                scope_projects=self.viewer.project_keys,
            )
        if filters.platforms:
            where.add(
                "list_contains($platforms::VARCHAR[], f.source)", platforms=list(filters.platforms)
            )
        if filters.projects:
            where.add(
                "f.file_id IN (SELECT file_id FROM mart_file_projects WHERE list_contains("
                "$projects::VARCHAR[], platform || ':' || project_id))",
                projects=list(filters.projects),
            )
        if filters.start:
            where.add("timezone('UTC', r.started_at)::DATE >= $start", start=filters.start)
        if filters.end:
            where.add("timezone('UTC', r.started_at)::DATE <= $end", end=filters.end)
        return where

    def pipeline_runs(self, filters: Filters) -> pl.DataFrame:
        """One row per ETL run with its files and row counts (files in scope only)."""
        where = self._file_scope(filters)
        return self.frame(
            "SELECT r.run_id, r.trigger, r.status, r.started_at, r.finished_at, "
            "count(f.file_id)::BIGINT AS files, "
            "count(f.file_id) FILTER (WHERE f.status = 'failed')::BIGINT AS failed_files, "
            "coalesce(sum(f.rows_read), 0)::BIGINT AS rows_read, "
            "coalesce(sum(f.rows_inserted), 0)::BIGINT AS rows_inserted, "
            "coalesce(sum(f.rows_updated), 0)::BIGINT AS rows_updated, "
            "coalesce(sum(f.rows_rejected), 0)::BIGINT AS rows_rejected "
            f"FROM etl_runs r JOIN etl_files f USING (run_id) {where.sql} "
            "GROUP BY ALL ORDER BY r.run_id DESC",
            where.params,
        )

    def pipeline_files(self, filters: Filters) -> pl.DataFrame:
        """One row per input file with its counts, status and error."""
        where = self._file_scope(filters)
        return self.frame(
            "SELECT f.file_id, f.run_id, f.source, f.format, f.path, f.status, f.rows_read, "
            "f.rows_inserted, f.rows_updated, f.rows_rejected, f.loaded_at, f.error, f.sha256 "
            f"FROM etl_files f JOIN etl_runs r USING (run_id) {where.sql} "
            "ORDER BY f.file_id DESC",
            where.params,
        )

    def pipeline_rejects(self, filters: Filters, limit: int | None = GRID_ROWS) -> pl.DataFrame:
        """Quarantined records with their file and reason (`limit` None for all of them)."""
        where = self._file_scope(filters)
        params = dict(where.params)
        limit_sql = ""
        if limit is not None:
            limit_sql, params["limit"] = "LIMIT $limit", int(limit)
        return self.frame(
            "SELECT x.file_id, f.path, f.source, x.record_no, x.reason, x.raw "
            f"FROM etl_rejects x JOIN etl_files f USING (file_id) JOIN etl_runs r USING (run_id) "
            f"{where.sql} ORDER BY x.file_id DESC, x.record_no {limit_sql}",
            params,
        )

    def reject_reasons(self, filters: Filters) -> pl.DataFrame:
        """Rejected records counted by reason, most frequent first."""
        where = self._file_scope(filters)
        return self.frame(
            "SELECT x.reason, count(*)::BIGINT AS records, count(DISTINCT x.file_id)::BIGINT "
            "AS files FROM etl_rejects x JOIN etl_files f USING (file_id) "
            f"JOIN etl_runs r USING (run_id) {where.sql} GROUP BY 1 ORDER BY records DESC",
            where.params,
        )

    def source_freshness(self, filters: Filters) -> pl.DataFrame:
        """Per source platform: last load, newest work, failed files and reject rate."""
        files = self._file_scope(filters)
        work = self.scope(Filters(platforms=filters.platforms, projects=filters.projects))
        return self.frame(
            "WITH files AS (SELECT coalesce(f.source, 'unknown') AS platform, "
            "count(*)::BIGINT AS files, "
            "count(*) FILTER (WHERE f.status = 'failed')::BIGINT AS failed_files, "
            "sum(f.rows_read)::BIGINT AS rows_read, sum(f.rows_rejected)::BIGINT AS rows_rejected, "
            "max(f.loaded_at) FILTER (WHERE f.status <> 'failed') AS last_loaded_at "
            f"FROM etl_files f JOIN etl_runs r USING (run_id) {files.sql} GROUP BY 1), "
            "work AS (SELECT platform, max(day) AS newest_work_day "
            f"FROM mart_activity_daily {work.sql} GROUP BY 1) "
            "SELECT files.*, (rows_rejected / NULLIF(rows_read, 0))::DOUBLE AS reject_rate, "
            "work.newest_work_day FROM files LEFT JOIN work USING (platform) ORDER BY platform",
            {**files.params, **work.params},
        )


class DataSource:
    """One process's reader, query cache and page cache; hands each viewer their scoped view."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reader = SnapshotReader(settings)
        self.cache = QueryCache()
        self.memos = QueryCache(PAGES_KEPT)

    def for_viewer(self, viewer: User) -> ScopedData:
        return ScopedData(self.reader, viewer, self.settings, self.cache, self.memos)
