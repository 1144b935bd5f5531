"""The day loop: for each day and platform, draw sessions, fill them with tasks, decide, write.

Each platform-day has its own random stream (seeded by seed, platform and day), so output
depends only on the seed, the scale and the end date, never on chunking. A `Ledger` keeps the
per-worker sums the truth file and the MTurk approval-rate columns need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from simulate.activity import Slots, day_sessions, session_slots
from simulate.labelling import project_day
from simulate.model import DAYS, PROJECTS, Population, Project, Workers
from simulate.writers.appen import AppenWriter
from simulate.writers.base import Timeline
from simulate.writers.labelstudio import LabelStudioWriter
from simulate.writers.mturk import MturkWriter
from simulate.writers.prodigy import ProdigyWriter
from simulate.writers.toloka import TolokaWriter

WRITERS = {
    "mturk": MturkWriter,
    "toloka": TolokaWriter,
    "appen": AppenWriter,
    "labelstudio": LabelStudioWriter,
    "prodigy": ProdigyWriter,
}
PLATFORM_SEED = {name: i for i, name in enumerate(WRITERS)}


@dataclass
class Ledger:
    """Running sums per worker, project and day, for truth.json and later writers."""

    n_workers: int
    n_weeks: int
    counts: dict[str, np.ndarray] = field(init=False)
    money: dict[str, np.ndarray] = field(init=False)
    weekly_seconds: np.ndarray = field(init=False)
    items_per_day: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)  # (p, stream)
    # items accepted per day as the project marts count them (docs/METRICS.md, "Burn-up")
    accepted_per_day: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    reviews: np.ndarray = field(init=False)  # reviewer x (target group?) x correct? x rejected?
    toxicity: np.ndarray = field(init=False)  # dialect group x truth x answer
    freelance_sessions: list[pl.DataFrame] = field(default_factory=list)
    assignments: int = 0

    def __post_init__(self) -> None:
        n = self.n_workers
        names = ("assignments", "approved", "decided", "gold", "gold_correct", "rejected")
        self.counts = {k: np.zeros(n, dtype=np.int64) for k in names}
        names = ("approved_reward", "approved_active", "active", "paid_active")
        self.money = {k: np.zeros(n) for k in names}
        self.weekly_seconds = np.zeros((n, self.n_weeks))
        self.reviews = np.zeros((n, 2, 2, 2), dtype=np.int64)
        self.toxicity = np.zeros((2, 2, 2), dtype=np.int64)

    @property
    def history(self) -> dict[str, np.ndarray]:
        return self.counts

    def add_sessions(self, population: Population, frame: pl.DataFrame, week: int) -> None:
        """Hours worked per worker and week, and freelancers' sessions for their Toggl logs,
        from the attempts as written."""
        worked = worked_stretches(frame)
        np.add.at(
            self.weekly_seconds[:, min(week, self.n_weeks - 1)],
            worked["worker"].to_numpy(),
            (worked["end"] - worked["start"]).to_numpy(),
        )
        bounds = (
            frame.group_by("session", "worker")
            .agg(pl.col("start").min(), pl.col("submit").max().alias("end"))
            .sort("session", "worker")
        )
        person = population.workers.person[bounds["worker"].to_numpy()]
        mine = bounds.filter(pl.Series(person >= 0))
        if mine.height:
            self.freelance_sessions.append(
                mine.with_columns(
                    person=pl.Series(population.workers.person[mine["worker"].to_numpy()]),
                    project=pl.lit(int(frame["project"][0])),
                    platform=pl.lit(PROJECTS[int(frame["project"][0])].platform),
                ).drop("session")
            )

    def add(self, population: Population, project: Project, frame: pl.DataFrame) -> None:
        """Count one project-day of attempts."""
        who = frame["worker"].to_numpy()
        status = frame["status"].to_numpy()
        approved = status == "approved"
        gold = frame["is_gold"].to_numpy() & ~np.isin(status, ["skipped", "expired"])
        correct = frame["correct"].to_numpy()
        active = self._recorded_seconds(frame)
        self.assignments += frame.height
        for name, mask in (
            ("assignments", np.ones(len(who), dtype=bool)),
            ("approved", approved),
            ("decided", np.isin(status, ["approved", "rejected"])),
            ("rejected", status == "rejected"),
            ("gold", gold),
            ("gold_correct", gold & correct),
        ):
            np.add.at(self.counts[name], who[mask], 1)
        reward = self._reward(project, frame)
        np.add.at(self.money["approved_reward"], who[approved], reward[approved])
        np.add.at(self.money["approved_active"], who[approved], active[approved])
        np.add.at(self.money["active"], who, active)
        if project.platform == "labelstudio":
            self._add_reviews(population, frame, gold, correct)
        if project.project_id == "toxicity":
            answered = ~np.isin(status, ["skipped", "expired"])
            np.add.at(
                self.toxicity,
                (
                    frame["attribute"].to_numpy()[answered],
                    frame["truth"].to_numpy()[answered],
                    frame["answer"].to_numpy()[answered],
                ),
                1,
            )

    @staticmethod
    def _recorded_seconds(frame: pl.DataFrame) -> np.ndarray:
        """Task time as the export records it: Toloka times whole suites, so each task gets its
        share of the suite's wall-clock time, gaps between its tasks included."""
        if "suite_start" in frame.columns:
            suite = (frame["suite_submit"] - frame["suite_start"]) / frame["tasks"]
            return suite.to_numpy()
        return frame["active"].to_numpy()

    @staticmethod
    def _reward(project: Project, frame: pl.DataFrame) -> np.ndarray:
        if "reward" in frame.columns:
            return frame["reward"].to_numpy()
        return np.full(frame.height, project.reward)

    def _add_reviews(
        self, population: Population, frame: pl.DataFrame, gold: np.ndarray, correct: np.ndarray
    ) -> None:
        reviewer = frame["reviewer"].to_numpy()
        reviewed = reviewer >= 0
        targeted = population.workers.gender[frame["worker"].to_numpy()] == "woman"
        rejected = frame["status"].to_numpy() == "rejected"
        np.add.at(
            self.reviews,
            (
                reviewer[reviewed],
                targeted[reviewed].astype(int),
                correct[reviewed].astype(int),
                rejected[reviewed].astype(int),
            ),
            1,
        )


def worked_stretches(frame: pl.DataFrame, gap_seconds: float = 60.0) -> pl.DataFrame:
    """Stretches of work per worker as docs/METRICS.md defines sessions: task intervals as the
    export records them (Toloka: whole suites), merged while the next starts within
    `gap_seconds` of the latest end so far."""
    if "suite_start" in frame.columns:
        intervals = frame.select("worker", start="suite_start", end="suite_submit").unique()
    else:
        intervals = frame.select("worker", "start", end="submit")
    latest = pl.col("end").cum_max().shift(1).over("worker")
    return (
        intervals.sort("worker", "start", "end")
        .with_columns(new=(pl.col("start") > latest + gap_seconds).fill_null(True))
        .with_columns(stretch=pl.col("new").cum_sum().over("worker"))
        .group_by("worker", "stretch")
        .agg(pl.col("start").min(), pl.col("end").max())
        .sort("worker", "stretch")
    )


def run_days(population: Population, out: Path, seed: int) -> Ledger:
    """Simulate every day and stream the platform exports into `out`."""
    timeline = Timeline(population.first_day)
    writers = {name: cls(out, population, timeline) for name, cls in WRITERS.items()}
    first_weekday = population.first_day.weekday()
    ledger = Ledger(len(population.workers), (first_weekday + DAYS) // 7 + 1)
    end = DAYS * 86400.0
    item_counter = np.zeros(len(PROJECTS), dtype=np.int64)
    workers = population.workers
    for day in range(DAYS):
        weekday = (first_weekday + day) % 7
        week = (first_weekday + day) // 7
        for platform, writer in writers.items():
            rng = np.random.default_rng([seed, 2, PLATFORM_SEED[platform], day])
            on_platform = [p for p, project in enumerate(PROJECTS) if project.platform == platform]
            members = np.flatnonzero(workers.projects[:, on_platform].any(axis=1))
            sessions = day_sessions(workers, members, day, weekday, week, rng)
            slots = session_slots(workers, sessions, rng)
            for p in on_platform:
                for stream, part in enumerate(_streams(workers, slots, p)):
                    frame, items = project_day(
                        p, workers, part, int(item_counter[p]), day, end, rng
                    )
                    item_counter[p] += len(items.truth)
                    daily = ledger.items_per_day.setdefault((p, stream), np.zeros(DAYS, int))
                    daily[day] += len(items.truth)
                    accepted = ledger.accepted_per_day.setdefault((p, stream), np.zeros(DAYS, int))
                    accepted[day] += accepted_items(PROJECTS[p], frame) if frame.height else 0
                    if frame.height:
                        frame = frame.with_columns(project=pl.lit(p))
                        ledger.add(population, PROJECTS[p], frame)
                        ledger.add_sessions(population, frame, week)
                        writer.write(PROJECTS[p], frame, ledger.history)
    _write_survey(writers["mturk"], population)
    for writer in writers.values():
        writer.close()
    return ledger


# Platforms whose simulated work is never reviewed: a submitted label there is accepted.
UNREVIEWED = ("prodigy",)


def accepted_items(project: Project, frame: pl.DataFrame) -> int:
    """Items of one project-day with at least one accepted label: approved, or submitted on a
    platform that reviews nothing (the marts' definition; every item is worked on one day)."""
    accepted = pl.col("status") == "approved"
    if project.platform in UNREVIEWED:
        accepted = accepted | (pl.col("status") == "submitted")
    return frame.filter(accepted)["item"].n_unique()


def _streams(workers: Workers, slots: Slots, p: int) -> list[Slots]:
    """The slot sets items are dealt from: MTurk deals each HIT type's batch separately."""
    mine = slots.subset(slots.project == p)
    if PROJECTS[p].platform != "mturk":
        return [mine]
    qualified = workers.qualified[mine.worker]
    return [mine.subset(~qualified), mine.subset(qualified)]


def _write_survey(writer: MturkWriter, population: Population) -> None:
    w = population.workers
    idx = w.on("mturk")
    start = w.join_day[idx] * 86400.0 + (w.start_hour[idx] - w.utc_offset[idx]) * 3600.0 - 300
    writer.write_survey(idx, start)
