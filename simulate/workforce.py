"""One simulated workforce end to end: the population, its days of work, every export writer
and truth.json. `simulate(out_dir, seed=7, scale=1.0, end_date=DEFAULT_END_DATE) -> Truth`.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from simulate import DEFAULT_END_DATE, end_date_problem
from simulate import truth as t
from simulate.engine import Ledger, run_days
from simulate.freelance import CLIENTS, freelance_records
from simulate.model import (
    PLATFORMS,
    PROJECTS,
    Population,
    build_population,
)
from simulate.truth import Truth
from simulate.writers.base import Timeline
from simulate.writers.config import write_config
from simulate.writers.dirty import write_dirty
from simulate.writers.earnings import write_earnings
from simulate.writers.mturk import BATCH_IDS
from simulate.writers.plans import export_project_id, write_plans
from simulate.writers.toggl import write_toggl

FORMAT_OF_FOLDER = {"plans": "projects/milestones/scope_changes"}
PLANTED_EFFECT_PERMUTATIONS = 2000


def simulate(
    out_dir: Path,
    seed: int = 7,
    scale: float = 1.0,
    end_date: date = DEFAULT_END_DATE,
    effects: bool = True,
) -> Truth:
    """Write the exports, config.toml and truth.json of one simulated workforce into `out_dir`.

    The same seed, scale, end date and `effects` always give the same bytes. With `effects`
    False the workforce is the same with no fairness effect planted (no pay gap, biased
    reviewer, label bias or overworked workers; truth.json has `effects: false` and null for
    each): the data of a false-flag check.
    """
    if scale <= 0:
        raise ValueError(f"scale must be above 0, got {scale}")
    if problem := end_date_problem(end_date):
        raise ValueError(problem)
    out_dir = Path(out_dir)
    _remove_earlier_output(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    population = build_population(seed, scale, end_date, effects)
    ledger = run_days(population, out_dir, seed)
    records = freelance_records(population, ledger.freelance_sessions, seed)
    write_toggl(out_dir, population, records.time_entries, Timeline(population.first_day))
    write_earnings(out_dir, population, records.earnings)
    plans = write_plans(out_dir, population, ledger)
    dirty = write_dirty(out_dir, out_dir / "mturk" / _batch_file("standard"))
    write_config(
        out_dir / "config.toml",
        sources=_source_settings(),
        toggl=_toggl_settings(population),
        workers=_worker_settings(population),
        fairness=_fairness_settings(),
    )
    truth = Truth(
        seed=seed,
        scale=scale,
        end_date=end_date.isoformat(),
        first_day=population.first_day.isoformat(),
        assignments=ledger.assignments,
        files=_files(out_dir),
        platforms=[
            {
                "platform": p.platform,
                "kind": p.kind,
                "currency": p.currency,
                "worker_fee_rate": p.worker_fee_rate,
                "timezone": p.timezone,
            }
            for p in PLATFORMS
        ],  # fmt: skip
        projects=_projects(ledger),
        effects=effects,
        planted={
            "pay_gap": t.pay_gap(population, ledger, seed) if effects else None,
            "biased_reviewer": t.biased_reviewer(population, ledger) if effects else None,
            "weak_annotators": t.weak_annotators(population, ledger),
            "regular_gold_accuracy_floor": t.regular_gold_accuracy_floor(population, ledger, 30),
            "label_bias": t.label_bias(ledger) if effects else None,
            "slipping_project": plans["slipping_project"],
            "scope_change": plans["scope_change"],
            "late_platform": t.late_platform(records),
            "overwork": t.overwork(population, ledger) if effects else None,
        },
        demo_freelancer=t.demo_freelancer(population, ledger, records),
        demo_manager_projects=[
            {"platform": "appen", "project_id": export_project_id(3, 0)},
            {"platform": "labelstudio", "project_id": export_project_id(4, 0)},
        ],
        dirty=dirty,
    )
    (out_dir / "truth.json").write_text(json.dumps(truth.as_dict(), indent=2, sort_keys=True))
    return truth


OUTPUT_FOLDERS = ("mturk", "toloka", "appen", "labelstudio", "prodigy", "toggl", "earnings",
                  "plans", "dirty")  # fmt: skip


def _remove_earlier_output(out_dir: Path) -> None:
    """A second run into the same folder must not leave files of the first behind."""
    if not (out_dir / "truth.json").is_file():
        return
    for name in OUTPUT_FOLDERS:
        shutil.rmtree(out_dir / name, ignore_errors=True)
    for name in ("truth.json", "config.toml"):
        (out_dir / name).unlink(missing_ok=True)


def _batch_file(hit_type: str) -> str:
    return f"tweet-emotion_{hit_type}_Batch_{BATCH_IDS[hit_type]}_results.csv"


def _files(out_dir: Path) -> list[dict[str, str]]:
    files = []
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir)
        if path.is_file() and rel.parts[0] not in ("dirty",) and len(rel.parts) > 1:
            folder = rel.parts[0]
            files.append({"path": str(rel), "format": FORMAT_OF_FOLDER.get(folder, folder)})
    return files


def _projects(ledger: Ledger) -> list[dict]:
    out = []
    for (p, stream), daily in sorted(ledger.items_per_day.items()):
        project = PROJECTS[p]
        out.append({
            "platform": project.platform,
            "project_id": export_project_id(p, stream),
            "simulated_as": project.project_id,
            "task_type": project.task_type,
            "field": project.field,
            "classes": list(project.classes),
            "labels_per_item": project.labels_per_item,
            "gold_share": project.gold_share,
            "items": int(daily.sum()),
        })  # fmt: skip
    return out


def _source_settings() -> dict[str, dict]:
    attributes = {
        "mturk": ({"gender": "Answer.gender", "age_band": "Answer.age_band"}, {}),
        "toloka": ({}, {"dialect": "INPUT:dialect"}),
        "labelstudio": ({"gender": "completed_by.gender"}, {}),
    }
    # MTurk has no gold convention: the batches carry the gold answer in an input column.
    gold = {
        "mturk": {
            f"{p.field}.label": f"Input.gold_{p.field}" for p in PROJECTS if p.platform == "mturk"
        }
    }
    sources = {}
    for p in PLATFORMS:
        workers, items = attributes.get(p.platform, ({}, {}))
        sources[p.platform] = {
            "timezone": p.timezone,
            "currency": p.currency,
            "worker_fee_rate": p.worker_fee_rate,
            "worker_attributes": workers,
            "item_attributes": items,
            "gold_columns": gold.get(p.platform, {}),
        }
    return sources


def _fairness_settings() -> dict[str, int]:
    """Enough permutations for the planted effects to reach p_adjusted < 0.01 after Holm's
    correction: the review audit's largest family (four scopes of three groups) needs
    `permutations >= 12 / 0.01` (docs/METRICS.md, "Findings, tests and flags")."""
    return {"permutations": PLANTED_EFFECT_PERMUTATIONS}


def _worker_settings(population: Population) -> dict[str, dict]:
    """Each freelancer states their country for all their ids, as a real one would."""
    return {
        "country": {
            f"{platform}:{raw}": p.country
            for p in population.freelancers
            for platform, raw in p.raw_ids.items()
        }
    }


def _toggl_settings(population: Population) -> dict[str, dict]:
    return {
        "client_platform": {name: platform for platform, name in CLIENTS.items()},
        "user_worker": {
            p.toggl_user: [f"{platform}:{raw}" for platform, raw in p.raw_ids.items()]
            for p in population.freelancers
        },
    }
