"""Who may see what: named actions mapped to roles with one check, the viewer's row scope as a
WHERE clause, and the suppression of small groups for viewers who see aggregates only.

Role names appear in this module only; pages and queries ask for an action
(`ensure(viewer, "per-worker-pay")`) or the viewer's scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from dashboard.url_state import Filters
from dashboard.users import User

EVERY_ROLE = frozenset({"admin", "manager", "freelancer", "auditor"})
# what one login's rows are: everything, the projects it is given, or its own worker ids
Scope = Literal["all", "projects", "workers"]
SCOPES: dict[str, Scope] = {
    "admin": "all",
    "auditor": "all",
    "manager": "projects",
    "freelancer": "workers",
}


class NotAllowed(Exception):
    """The viewer's role may not see this breakdown."""


@dataclass(frozen=True)
class Action:
    """Something a viewer may do, and the roles that may."""

    name: str
    description: str
    roles: frozenset[str]


def _actions(*actions: Action) -> dict[str, Action]:
    return {action.name: action for action in actions}


ACTIONS = _actions(
    Action("overview", "the Overview page", EVERY_ROLE),
    Action("earnings", "the Earnings page", EVERY_ROLE),
    Action(
        "quality",
        "Quality figures, which cover whole projects (freelancers see Earnings)",
        frozenset({"admin", "manager", "auditor"}),
    ),
    Action("pipeline", "the pipeline: runs, files, rejects", frozenset({"admin", "manager"})),
    Action(
        "pull-sources", "the pull sources, their errors, and running one now", frozenset({"admin"})
    ),
    Action(
        "per-worker-rows",
        "per-worker rows (auditors see aggregated figures only)",
        frozenset({"admin", "manager", "freelancer"}),
    ),
    Action(
        "small-groups",
        "figures of groups under min_group_size workers",
        frozenset({"admin", "manager", "freelancer"}),
    ),
    Action(
        "per-worker-pay",
        "whole-period per-worker pay across all projects (delays, wage floors, skip list)",
        frozenset({"admin", "freelancer"}),
    ),
    Action(
        "population-pay",
        "whole-period pay figures over every worker (published wages, delays by platform)",
        frozenset({"admin", "auditor"}),
    ),
    Action(
        "own-skip-threshold",
        "a skip list at a threshold of one's own choosing",
        frozenset({"freelancer"}),
    ),
    # the Fairness page (group comparisons) and the Project page (milestones, forecasts)
    Action("fairness-groups", "fairness audits by group", frozenset({"admin", "auditor"})),
    Action("project-tracking", "project tracking", frozenset({"admin", "manager"})),
    # a label per item is the project's deliverable, and rests on a unit's few raters: fewer
    # than min_group_size, so never an aggregate view (auditors)
    Action(
        "consensus-labels",
        "per-unit consensus labels (a project's labelled items)",
        frozenset({"admin", "manager"}),
    ),
)


def allowed(viewer: User, action: str) -> bool:
    """Whether the viewer's role may do `action` (a name in ACTIONS)."""
    return viewer.role in ACTIONS[action].roles


def ensure(viewer: User, action: str) -> None:
    """Raise NotAllowed unless the viewer's role may do `action`."""
    if not allowed(viewer, action):
        raise NotAllowed(f"Not open to the {viewer.role} role: {ACTIONS[action].description}.")


def scope_of(viewer: User) -> Scope:
    """Which rows the viewer's login covers."""
    if viewer.role not in SCOPES:
        raise NotAllowed(f"Unknown role {viewer.role!r}.")
    return SCOPES[viewer.role]


def suppresses_small_groups(viewer: User) -> bool:
    """Whether figures of fewer than `min_group_size` workers are withheld from the viewer."""
    return not allowed(viewer, "small-groups")


def suppress_small_groups(
    viewer: User,
    frame: pl.DataFrame,
    min_group_size: int,
    workers: str = "workers",
    complementary: bool = True,
) -> pl.DataFrame:
    """For viewers who see aggregates only, the rows with `min_group_size` workers or more.

    When the rows withheld have fewer workers than that between them, the smallest rows shown
    are withheld too, until they have (or nothing is left): otherwise the total of the view
    less the rows shown would give the small groups' figures (complementary suppression).
    `complementary` False for rows whose total is shown nowhere (medians, delays).
    """
    if not suppresses_small_groups(viewer) or frame.is_empty():
        return frame
    small = pl.col(workers) < min_group_size
    withheld = int(frame.filter(small)[workers].sum())
    if withheld == 0 or withheld >= min_group_size or not complementary:
        return frame.filter(~small)
    shown = frame.with_row_index("_order").filter(~small)
    # the smallest rows first, ties by their place in the frame, so the result is stable
    by_size = shown.sort(workers, "_order")
    covered = by_size[workers].cum_sum() + withheld
    # rows up to and including the first one that brings the withheld total to the size
    extra = int((covered < min_group_size).sum()) + 1
    dropped = set(by_size["_order"].head(extra).to_list())
    return shown.filter(~pl.col("_order").is_in(dropped)).drop("_order")


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


def row_scope(
    viewer: User,
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
    scope = scope_of(viewer)
    if suppresses_small_groups(viewer):
        # whole weeks only: two ranges a day apart would give that day's figures by difference
        filters = filters.whole_weeks()
    if scope == "projects":
        if not project:
            raise NotAllowed("This table has no project column to scope a manager by.")
        where.add(
            "list_contains($scope_projects::VARCHAR[], platform || ':' || project_id)",
            scope_projects=viewer.project_keys,
        )
    elif scope == "workers":
        if worker is None:
            raise NotAllowed("This table has no worker column to scope a freelancer by.")
        where.add(
            f"list_contains($scope_workers::VARCHAR[], {worker})",
            scope_workers=list(viewer.workers),
        )
    return with_filters(where, filters, day=day, project=project)


def with_filters(where: Where, filters: Filters, *, day: str | None, project: bool) -> Where:
    """`where` with the URL filters on a table's `day` column and its platform and project."""
    if day and filters.start:
        where.add(f"{day} >= $start", start=filters.start)
    if day and filters.end:
        where.add(f"{day} <= $end", end=filters.end)
    if project:
        with_platforms(where, filters)
    if project and filters.projects:
        where.add(
            "list_contains($projects::VARCHAR[], platform || ':' || project_id)",
            projects=list(filters.projects),
        )
    return where


def with_platforms(where: Where, filters: Filters, column: str = "platform") -> Where:
    """`where` with the URL's platform filter on `column`."""
    if filters.platforms:
        where.add(
            f"list_contains($platforms::VARCHAR[], {column})", platforms=list(filters.platforms)
        )
    return where
