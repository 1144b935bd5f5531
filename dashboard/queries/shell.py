"""What the shell around every page reads: the filter choices and how far the figures lag."""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard.access import NotAllowed, Where, with_filters
from dashboard.data import ScopedData
from dashboard.url_state import Filters
from etl.reader import FIGURES_SQL, LAGGING_SQL, figures_lag

# Every row of recorded work, per worker, day, platform and project: assignments and what the
# pay ledger holds besides (time entries, earnings lines). Counts of "workers", "platforms" and
# "projects" and the filters' choices are all over these rows, on every page.
WORK_ROWS = (
    "SELECT worker_id, day, platform, project_id FROM mart_activity_daily UNION ALL "
    "SELECT worker_id, day, platform, project_id FROM mart_earnings_ledger"
)


def filter_options(data: ScopedData) -> pl.DataFrame:
    """Platforms and projects the viewer can pick, with the days their work spans:
    platform, project_id, name, first_day, last_day."""
    where = data.scope(Filters(), day=None)
    return data.frame(
        "SELECT a.platform, a.project_id, p.name, a.first_day, a.last_day FROM ("
        "SELECT platform, project_id, min(day) AS first_day, max(day) AS last_day "
        f"FROM ({WORK_ROWS}) {where.sql} GROUP BY ALL) a "
        "LEFT JOIN mart_projects p USING (platform, project_id) ORDER BY 1, 2",
        where.params,
    )


def figures_behind(data: ScopedData) -> dict[str, Any] | None:
    """The snapshot's newest run and the run its figures were built after, and the platforms
    whose figures the last build kept at an older one (`lagging`: platform, since_run,
    reason), when the marts lag the data (a run publishes its rows before it rebuilds the
    marts) or some platform's do; else None."""
    if not data.has_table("mart_builds"):  # a snapshot from before it: nothing to say
        return None
    row = data.frame(FIGURES_SQL).row(0, named=True)
    lagging = data.frame(LAGGING_SQL).to_dicts() if data.has_table("mart_lagging") else []
    if not figures_lag(row) and not lagging:
        return None
    return {**row, "lagging": lagging}


def ensure_no_small_complement(data: ScopedData, filters: Filters) -> None:
    """For viewers who see aggregates only, refuse filters that leave out fewer than
    `min_group_size` workers' rows (but some): the unfiltered view less the filtered one would
    give the figures of the workers left out."""
    if not data.suppresses_small_groups or not filters.narrows:
        return
    chosen = with_filters(Where(), filters.whole_weeks(), day="day", project=True)
    found = data.frame(
        f"SELECT count(DISTINCT worker_id)::BIGINT AS workers FROM ({WORK_ROWS}) "
        f"WHERE NOT ({' AND '.join(chosen.clauses)})",
        chosen.params,
    )
    left_out = int(found["workers"][0])
    if 0 < left_out < data.min_group_size:
        raise NotAllowed(
            f"These filters leave out the work of fewer than {data.min_group_size} workers, "
            "whose figures the difference to the whole would show. Widen the filters or "
            "clear them."
        )
