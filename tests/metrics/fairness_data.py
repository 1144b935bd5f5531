"""Simulated inputs of the fairness audits, with or without planted effects (shared by tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

MONDAY = datetime(2025, 1, 6, tzinfo=UTC)


def people(workers: int, seed: int) -> pl.DataFrame:
    """Workers with a self-reported gender (some left blank: not stated) and an age band."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["f", "m", "x", ""], workers, p=[0.45, 0.45, 0.05, 0.05]).tolist()
    age = rng.choice(["18-29", "30-49", "50+"], workers).tolist()
    return pl.DataFrame({"worker_id": [f"w{i}" for i in range(workers)], "gender": gender,
                         "age": age})  # fmt: skip


def pay_cells(people: pl.DataFrame, seed: int, gap: float = 0.0) -> pl.DataFrame:
    """Cells worker x task type; group f is paid `gap` less for the same work."""
    rng = np.random.default_rng(seed)
    rows = []
    for worker, gender in people.select("worker_id", "gender").iter_rows():
        for task, base in (("transcribe", 12.0), ("moderate", 20.0)):
            hours = float(rng.gamma(3, 3))
            wage = base * (1 - gap if gender == "f" else 1) * rng.lognormal(0, 0.2)
            rows.append((worker, task, f"p{rng.integers(3)}", hours, wage * hours,
                         float(rng.integers(1, 400)), float(rng.uniform(0, 0.5))))  # fmt: skip
    schema = ["worker_id", "task_type", "project_id", "hours", "earnings", "tenure_days",
              "fragmented_share"]  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def reviews(people: pl.DataFrame, seed: int, bias: float = 0.0, n: int = 4000) -> pl.DataFrame:
    """Reviews by three reviewers; r2 rejects correct work of group f `bias` more often."""
    rng = np.random.default_rng(seed)
    ids, gender = people["worker_id"].to_list(), people["gender"].to_list()
    rows = []
    for _ in range(n):
        i, reviewer = int(rng.integers(len(ids))), f"r{rng.integers(3)}"
        correct = bool(rng.random() < 0.8)
        p = (0.05 + (bias if reviewer == "r2" and gender[i] == "f" else 0)) if correct else 0.5
        rows.append((ids[i], reviewer, "rejected" if rng.random() < p else "approved", correct))
    return pl.DataFrame(rows, schema=["worker_id", "reviewer_id", "status", "gold_correct"],
                        orient="row")  # fmt: skip


def answers(people: pl.DataFrame, seed: int, fpr_bias: float = 0.0, items: int = 600):
    """Three answers per item on a binary label; items of subject group d with a negative gold
    answer are labelled positive `fpr_bias` more often."""
    rng = np.random.default_rng(seed)
    ids = people["worker_id"].to_list()
    rows = []
    for item in range(items):
        subject, gold = str(rng.choice(["d", "l"])), rng.random() < 0.4
        for w in rng.choice(len(ids), 3, replace=False):
            p = 0.85 if gold else 0.1 + (fpr_bias if subject == "d" else 0.0)
            rows.append((item, ids[w], str(int(rng.random() < p)), str(int(gold)), subject))
    frame = pl.DataFrame(rows, schema=["item_id", "worker_id", "value", "gold", "skin"],
                         orient="row")  # fmt: skip
    return frame.join(people.select("worker_id", "gender"), on="worker_id")


def work(people: pl.DataFrame, seed: int, overwork: float = 0.0) -> pl.DataFrame:
    """Four weeks of daily work; group f works `overwork` hours a day more."""
    rng = np.random.default_rng(seed)
    rows = []
    for worker, gender in people.select("worker_id", "gender").iter_rows():
        for day in range(28):
            if rng.random() < 0.3:
                continue
            start = MONDAY + timedelta(days=day, hours=float(rng.uniform(7, 20)))
            hours = max(0.25, rng.normal(6, 2) + (overwork if gender == "f" else 0))
            task = str(rng.choice(["moderation", "transcription"], p=[0.2, 0.8]))
            rows.append((worker, start, start + timedelta(hours=hours), task))
    return pl.DataFrame(rows, schema=["worker_id", "started_at", "submitted_at", "task_type"],
                        orient="row")  # fmt: skip
