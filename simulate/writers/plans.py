"""Project plans, milestones and scope changes as CSV, in the templates of docs/templates:
scope, due dates, budgets and quality targets a project manager sets up front, and the one
scope change planted on the way.

Targets are in accepted items (an item counts once, on the day of its first accepted label, as
the project marts count it: docs/METRICS.md, "Burn-up") and follow what each project really
had accepted, so all but one project are on track; the slipping project was planned on its
early pace, before half its workforce left. Planning on items opened instead would put the
projects that reject much or leave work unreviewed (Toloka, Label Studio) behind their plans.

One on-track project has its scope raised part-way (`SCOPE_CHANGE`): the client adds items, the
final milestone follows the new scope, the budget does not. The raise fits the project's average
pace over the simulated days (truth.json: `days_needed_at_that_pace` under
`days_left_to_final_due`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from simulate.engine import Ledger
from simulate.model import (
    DAYS,
    MTURK_HIT_TYPES,
    PROJECTS,
    SLIP_CHURN_DAYS,
    SLIP_LEAVING_SHARE,
    SLIPPING_PROJECT,
    Population,
)
from simulate.writers.appen import JOB_ID
from simulate.writers.labelstudio import PROJECT_NUMBER
from simulate.writers.mturk import BATCH_IDS
from simulate.writers.toloka import POOLS

PLAN_DAYS = 120  # every project is planned to finish 120 days after the first simulated day
MILESTONE_DAYS = {"Pilot": 29, "Main batch": 74, "Final delivery": PLAN_DAYS - 1}
PLANNED_GROWTH = 1.1
COST_PER_LABEL = 0.04  # vendor and in-house tools: planned cost per label, USD
REQUESTER_FEE = 0.2  # marketplace commission on top of rewards
PROJECT_COLUMNS = ("platform", "project_id", "name", "task_type", "starts_on", "due_on",
                   "target_items", "labels_per_item", "budget", "currency",
                   "gold_accuracy_target", "agreement_target")  # fmt: skip
MILESTONE_COLUMNS = ("platform", "project_id", "name", "due_on", "target_items")
SCOPE_CHANGE_COLUMNS = ("platform", "project_id", "changed_on", "target_items", "reason")
# The planted scope change: the project (platform, simulated project, stream), the day it
# takes effect, the growth of the final target, the reason. Label Studio's project keeps a
# steady pace, so a forecast made two weeks after the raise still gives every milestone over 50%
# at every scale (the others' late slowdowns would put a raised final delivery under it).
SCOPE_CHANGE = {"project": ("labelstudio", "support-intent", 0), "day": 45, "growth": 0.05,
                "reason": "the client added tickets from a new product line"}  # fmt: skip


def export_project_id(p: int, stream: int) -> str:
    """The project id the importer derives from each export (batch, pool, job, project, dataset)."""
    project = PROJECTS[p]
    if project.platform == "mturk":
        return str(list(BATCH_IDS.values())[stream])
    return {
        "toloka": lambda: str(POOLS[project.project_id]),
        "appen": lambda: str(JOB_ID),
        "labelstudio": lambda: str(PROJECT_NUMBER),
        "prodigy": lambda: project.project_id,
    }[project.platform]()


def project_name(p: int, stream: int) -> str:
    project = PROJECTS[p]
    if project.platform == "mturk":
        return f"{project.name} ({list(BATCH_IDS)[stream]} HITs)"
    return project.name


def write_plans(out: Path, population: Population, ledger: Ledger) -> dict[str, Any]:
    """Write projects.csv, milestones.csv and scope_changes.csv; return their planted truths
    (`slipping_project`, `scope_change`)."""
    projects, milestones, changes, slip, change = [], [], [], {}, {}
    day = population.day
    for (p, stream), daily in sorted(ledger.accepted_per_day.items()):
        project = PROJECTS[p]
        pid = export_project_id(p, stream)
        done = np.cumsum(daily)
        slipping = (project.platform, project.project_id) == SLIPPING_PROJECT
        # the slipping project was planned on its early pace plus the hires that never came
        early_rate = float(daily[: SLIP_CHURN_DAYS[0]].mean()) * PLANNED_GROWTH
        steady_rate = float(done[-1] / DAYS)
        targets = {
            "Pilot": int(0.9 * done[MILESTONE_DAYS["Pilot"]]),
            "Main batch": int(
                early_rate * (MILESTONE_DAYS["Main batch"] + 1)
                if slipping
                else 0.9 * done[MILESTONE_DAYS["Main batch"]]
            ),
            "Final delivery": int((early_rate if slipping else 0.9 * steady_rate) * PLAN_DAYS),
        }
        per_label = _cost_per_label(p, stream)
        budget = targets["Final delivery"] * project.labels_per_item * per_label
        planned = targets["Final delivery"]  # the scope the plan starts with
        if (project.platform, project.project_id, stream) == SCOPE_CHANGE["project"]:
            change = _scope_change(project.platform, pid, planned, done, day)
            changes.append(tuple(change[c] for c in ("platform", "project_id", "changed_on",
                                                     "to_items", "reason")))  # fmt: skip
            targets["Final delivery"] = change["to_items"]  # the final milestone follows it
        for name, due in MILESTONE_DAYS.items():
            milestones.append((project.platform, pid, name, day(due).isoformat(), targets[name]))
        projects.append((
            project.platform, pid, project_name(p, stream), project.task_type,
            day(0).isoformat(), day(PLAN_DAYS - 1).isoformat(), planned,
            project.labels_per_item, f"{budget:.2f}", "USD", project.gold_accuracy_target,
            project.agreement_target,
        ))  # fmt: skip
        if slipping:
            slip = _slip_truth(project.platform, pid, targets, done, day)
    _write(out / "plans" / "projects.csv", PROJECT_COLUMNS, projects)
    _write(out / "plans" / "milestones.csv", MILESTONE_COLUMNS, milestones)
    _write(out / "plans" / "scope_changes.csv", SCOPE_CHANGE_COLUMNS, changes)
    return {"slipping_project": slip, "scope_change": change}


def _scope_change(
    platform: str, pid: str, planned: int, done: np.ndarray, day: Callable[[int], date]
) -> dict[str, Any]:
    """The planted change of the scope and what the project's real pace makes of it."""
    to_items = int(round(planned * (1 + SCOPE_CHANGE["growth"])))
    rate = float(done[-1] / DAYS)
    return {
        "platform": platform,
        "project_id": pid,
        "changed_on": day(SCOPE_CHANGE["day"]).isoformat(),
        "from_items": planned,
        "to_items": to_items,
        "reason": SCOPE_CHANGE["reason"],
        "final_milestone_follows": "Final delivery",
        "budget_raised": False,
        "final_due_on": day(PLAN_DAYS - 1).isoformat(),
        "items_done_by_end": int(done[-1]),
        "items_per_day": round(rate, 1),
        "days_needed_at_that_pace": round((to_items - int(done[-1])) / max(rate, 1e-9), 1),
        "days_left_to_final_due": PLAN_DAYS - DAYS,
    }


def _cost_per_label(p: int, stream: int) -> float:
    project = PROJECTS[p]
    if project.platform == "mturk":
        return list(MTURK_HIT_TYPES.values())[stream] * (1 + REQUESTER_FEE)
    if project.reward:
        return project.reward * (1 + REQUESTER_FEE)
    return COST_PER_LABEL


def _slip_truth(
    platform: str, pid: str, targets: dict, done: np.ndarray, day: Callable[[int], date]
) -> dict[str, Any]:
    due = MILESTONE_DAYS["Main batch"]
    rate_after = float(np.diff(done[SLIP_CHURN_DAYS[1] :]).mean())
    remaining = targets["Final delivery"] - int(done[-1])
    return {
        "platform": platform,
        "project_id": pid,
        "milestone": "Main batch",
        "due_on": day(due).isoformat(),
        "target_items": targets["Main batch"],
        "items_done_by_due": int(done[due]),
        "cause": "{:.0%} of its regular workers left between days {} and {}".format(
            SLIP_LEAVING_SHARE, *SLIP_CHURN_DAYS
        ),
        "final_milestone": "Final delivery",
        "final_due_on": day(PLAN_DAYS - 1).isoformat(),
        "final_target_items": targets["Final delivery"],
        "items_done_by_end": int(done[-1]),
        "items_per_day_after_churn": round(rate_after, 1),
        "days_needed_at_that_pace": round(remaining / max(rate_after, 1e-9), 1),
        "days_left_to_final_due": PLAN_DAYS - DAYS,
    }


def _write(path: Path, columns: tuple[str, ...], rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
