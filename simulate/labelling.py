"""What each task attempt produced: which item, which answer, and what the requester decided.

Items are handed out per project and day: the day's task slots are dealt round-robin to
`labels_per_item` replicas of each item, so an item's labels come from different workers at
different hours of the day, as they do when a batch is open all day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from simulate.activity import Slots
from simulate.model import (
    BIASED_AGAINST,
    BIASED_REVIEW_REJECT_CORRECT,
    LABEL_BIAS_EXTRA_FALSE_POSITIVE,
    MTURK_HIT_TYPES,
    PROJECTS,
    REVIEW_REJECT_CORRECT,
    Project,
    Workers,
)

HOUR = 3600.0
SUITE_SIZE = 5  # Toloka hands out tasks in suites (pages) of this many
LABEL_BIAS_DIALECT_SHARE = 0.3


@dataclass
class Items:
    """The items one project opened on one day."""

    first: int  # number of the first item (items are numbered per project from 0)
    truth: np.ndarray  # class index
    is_gold: np.ndarray
    attribute: np.ndarray  # data-subject group: 1 for the planted label-bias group


def open_items(project: Project, first: int, count: int, rng: np.random.Generator) -> Items:
    return Items(
        first=first,
        truth=rng.choice(len(project.classes), size=count, p=project.prevalence).astype(np.int8),
        is_gold=rng.random(count) < project.gold_share,
        attribute=(rng.random(count) < LABEL_BIAS_DIALECT_SHARE).astype(np.int8),
    )


def deal_items(slots: Slots, labels_per_item: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(slot rows kept, local item number of each, items opened), one label per worker and item.

    Slots in worker order are dealt round-robin over ceil(N / k) items, so each worker's tasks go
    to consecutive items (as when working through a batch), never twice to one item. A worker
    doing over 1/k of the day's tasks opens more items, which then get fewer labels each.
    """
    order = np.lexsort((slots.start, slots.worker))
    busiest = np.bincount(slots.worker).max() if len(order) else 0
    n_items = max(-(-len(order) // labels_per_item), int(busiest))
    local = np.arange(len(order)) % max(n_items, 1)
    return order, local, n_items


def answers(
    project: Project,
    workers: Workers,
    who: np.ndarray,
    items: Items,
    local: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(answer class, correct) for each labelled slot, from each worker's per-class accuracy."""
    truth = items.truth[local]
    offset = np.array(project.class_difficulty)[truth] + workers.class_noise[who, truth]
    accuracy = np.clip(workers.accuracy[who] + offset, 0.3, 0.995)
    weak = workers.role[who] == "weak"
    accuracy[weak] = workers.accuracy[who][weak]
    # planted label bias: dialect texts called toxic
    if project.project_id == "toxicity" and workers.effects:
        biased = (items.attribute[local] == 1) & (truth == project.classes.index("not_toxic"))
        accuracy[biased] -= LABEL_BIAS_EXTRA_FALSE_POSITIVE
    correct = rng.random(len(who)) < accuracy
    n = len(project.classes)
    if project.ordinal:  # ordinal mistakes land on a neighbouring grade
        step = np.where(rng.random(len(who)) < 0.5, -1, 1)
        step = np.where(truth + step < 0, 1, np.where(truth + step >= n, -1, step))
        wrong = truth + step
    else:
        wrong = (truth + rng.integers(1, n, len(who))) % n
    answer = np.where(correct, truth, wrong).astype(np.int8)
    spam = workers.role[who] == "spammer"
    answer[spam] = rng.integers(0, n, int(spam.sum()))
    return answer, answer == truth


def decide(
    project: Project,
    workers: Workers,
    frame: pl.DataFrame,
    end: float,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Status, decision time, reviewer and reward of each attempt, the way its platform works."""
    decide_on = {
        "mturk": _mturk_review,
        "toloka": _toloka_review,
        "appen": _appen_taint,
        "labelstudio": _labelstudio_review,
        "prodigy": _prodigy_ignore,
    }[project.platform]
    return decide_on(project, workers, frame, end, rng)


def _mturk_review(
    project: Project, workers: Workers, f: pl.DataFrame, end: float, rng: np.random.Generator
) -> pl.DataFrame:
    n = f.height
    who = f["worker"].to_numpy()
    gold_fail = f["is_gold"].to_numpy() & ~f["correct"].to_numpy()
    manual = rng.random(n) < 0.7
    reject = manual & (rng.random(n) < np.where(gold_fail, 0.7, 0.02))
    submit = f["submit"].to_numpy()
    decided = np.where(manual, submit + rng.uniform(2, 30, n) * HOUR, submit + 72 * HOUR)
    status = np.where(reject, "rejected", "approved").astype(object)
    status[decided > end] = "submitted"
    hit_type = np.where(workers.qualified[who], "qualified", "standard")
    reward = np.where(
        workers.qualified[who], MTURK_HIT_TYPES["qualified"], MTURK_HIT_TYPES["standard"]
    )
    return f.with_columns(
        status=pl.Series(status, dtype=pl.String),
        decided_at=np.where(decided > end, np.nan, decided),
        reward=reward,
        hit_type=pl.Series(hit_type, dtype=pl.String),
    )


def _toloka_review(
    project: Project, workers: Workers, f: pl.DataFrame, end: float, rng: np.random.Generator
) -> pl.DataFrame:
    """Toloka decides per suite (a page of tasks): one failed gold task can reject the page."""
    f = f.with_columns(suite=pl.col("session") * 1000 + pl.col("position") // SUITE_SIZE)
    suites = (
        f.group_by("suite")
        .agg(
            gold_fail=(pl.col("is_gold") & ~pl.col("correct")).any(),
            suite_start=pl.col("start").min(),
            suite_submit=pl.col("submit").max(),
            tasks=pl.len(),
        )
        .sort("suite")
    )
    k = suites.height
    fate = rng.random(k)
    decided = suites["suite_submit"].to_numpy() + rng.uniform(1, 48, k) * HOUR
    reject = suites["gold_fail"].to_numpy() & (rng.random(k) < 0.6)
    status = np.where(reject, "rejected", "approved").astype(object)
    status[decided > end] = "submitted"
    status[fate < 0.03] = "expired"  # time ran out before the worker submitted
    status[fate < 0.02] = "skipped"
    suites = suites.with_columns(
        status=pl.Series(status, dtype=pl.String),
        decided_at=np.where((decided > end) | (fate < 0.03), np.nan, decided),
        suite_reward=suites["tasks"].to_numpy() * project.reward,
    )
    return f.join(suites, on="suite", how="left").sort("start", "worker", "item")


def _appen_taint(
    project: Project, workers: Workers, f: pl.DataFrame, end: float, rng: np.random.Generator
) -> pl.DataFrame:
    """Judgments of contributors caught by test questions are tainted (dropped, unpaid)."""
    caught = np.isin(workers.role[f["worker"].to_numpy()], ["spammer", "weak"])
    tainted = caught & (rng.random(f.height) < 0.8)
    return f.with_columns(
        status=pl.Series(np.where(tainted, "rejected", "approved"), dtype=pl.String),
        decided_at=np.full(f.height, np.nan),
    )


def _labelstudio_review(
    project: Project, workers: Workers, f: pl.DataFrame, end: float, rng: np.random.Generator
) -> pl.DataFrame:
    """A share of annotations is reviewed; one reviewer rejects one group's correct work."""
    n = f.height
    reviewers = np.flatnonzero(np.isin(workers.role, ["reviewer", "biased_reviewer"]))
    reviewer = reviewers[rng.integers(0, len(reviewers), n)]
    reviewed = rng.random(n) < 0.6
    decided = f["submit"].to_numpy() + rng.uniform(1, 72, n) * HOUR
    reviewed &= decided <= end
    correct = f["correct"].to_numpy()
    targeted = (workers.role[reviewer] == "biased_reviewer") & (
        workers.gender[f["worker"].to_numpy()] == BIASED_AGAINST
    )
    reject_correct = np.where(targeted, BIASED_REVIEW_REJECT_CORRECT, REVIEW_REJECT_CORRECT)
    reject = reviewed & (rng.random(n) < np.where(correct, reject_correct, 0.75))
    skipped = rng.random(n) < 0.02
    status = np.where(reject, "rejected", np.where(reviewed, "approved", "submitted"))
    status = np.where(skipped, "skipped", status)
    return f.with_columns(
        status=pl.Series(status, dtype=pl.String),
        decided_at=np.where(reviewed & ~skipped, decided, np.nan),
        reviewer=np.where(reviewed & ~skipped, reviewer, -1),
    )


def _prodigy_ignore(
    project: Project, workers: Workers, f: pl.DataFrame, end: float, rng: np.random.Generator
) -> pl.DataFrame:
    ignored = rng.random(f.height) < 0.03
    return f.with_columns(
        status=pl.Series(np.where(ignored, "skipped", "submitted"), dtype=pl.String),
        decided_at=np.full(f.height, np.nan),
    )


def project_day(
    p: int,
    workers: Workers,
    slots: Slots,
    first_item: int,
    day: int,
    end: float,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, Items]:
    """Every attempt of project `p` on one day, with item, answer and decision."""
    project = PROJECTS[p]
    rows, local, n_items = deal_items(slots, project.labels_per_item)
    items = open_items(project, first_item, n_items, rng)
    who = slots.worker[rows]
    answer, correct = answers(project, workers, who, items, local, rng)
    frame = pl.DataFrame(
        {
            "worker": who,
            "item": first_item + local,
            "is_gold": items.is_gold[local],
            "truth": items.truth[local],
            "attribute": items.attribute[local],
            "answer": answer,
            "correct": correct,
            "start": slots.start[rows],
            "active": slots.active[rows],
            "submit": slots.end[rows],
            "session": slots.session[rows],
            "position": slots.position[rows],
            "day": np.full(len(rows), day),
        }
    ).filter(pl.col("submit") < end)
    frame = decide(project, workers, frame.sort("start", "worker"), end, rng)
    return frame, items
