"""Freelancers' own records: Toggl time entries for all their platforms, earnings logs for the
platforms that export nothing, and the unpaid time around paid work (searching for tasks,
qualification tests, unpaid onboarding, admin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from simulate.model import DAYS, PAYMENT_DELAY_DAYS, PROJECT_INDEX, PROJECTS, Population

CLIENTS = {
    "mturk": "Amazon Mechanical Turk",
    "toloka": "Toloka",
    "dataannotation": "DataAnnotation",
    "outlier": "Outlier",
}
LOGGED = {  # platforms with no export: (project, task type, tasks per hour, share rejected)
    "dataannotation": ("coding-chatbot-eval", "rating", 6, 0.04),
    "outlier": ("multimango-math", "generation", 3, 0.08),
}
ONBOARDING_DAYS = 14  # Outlier's unpaid onboarding and training at the start


@dataclass
class FreelanceRecords:
    """Everything freelancers wrote down: time entries and earnings lines (times in seconds)."""

    time_entries: pl.DataFrame  # person, platform, project, description, start, end
    earnings: pl.DataFrame  # person, platform, project, task_type, day, tasks, seconds, amount,
    # status, paid_day


def freelance_records(
    population: Population, sessions: list[pl.DataFrame], seed: int
) -> FreelanceRecords:
    """Time entries around the freelancers' MTurk and Toloka sessions, plus their logged work.

    Earnings lines are written from the logged sessions as the timer kept them (after overlaps
    are cut), so the hours a freelancer logs agree with the hours they tracked.
    """
    rng = np.random.default_rng([seed, 3])
    entries = [_marketplace_entries(sessions, rng), _logged_sessions(population, rng)]
    entries.append(_unpaid_extras(population, rng))
    time_entries = _without_overlaps(
        pl.concat([e for e in entries if e.height], how="diagonal_relaxed")
    )
    earnings = _earnings_lines(population, time_entries, rng)
    return FreelanceRecords(time_entries.drop("logged_day"), earnings)


def _marketplace_entries(sessions: list[pl.DataFrame], rng: np.random.Generator) -> pl.DataFrame:
    """Each session is tracked as task time, preceded by time spent finding the next batch."""
    if not sessions:
        return _empty_entries()
    s = pl.concat(sessions).sort("person", "start")
    search = rng.uniform(4, 20, s.height) * 60
    names = np.array([p.name for p in PROJECTS], dtype=object)[s["project"].to_numpy()]
    platform = s["platform"].to_numpy()
    finding = np.where(platform == "mturk", "Searching for HITs", "Searching for tasks")
    work = pl.DataFrame(
        {"person": s["person"], "platform": s["platform"], "project": list(names),
         "description": [f"{n} tasks" for n in names], "start": s["start"], "end": s["end"]}
    )  # fmt: skip
    looking = work.with_columns(
        description=pl.Series(finding),
        end=pl.col("start"),
        start=pl.col("start") - pl.Series(np.round(search)),
    )
    return pl.concat([looking, work], how="vertical_relaxed")


def _logged_sessions(population: Population, rng: np.random.Generator) -> pl.DataFrame:
    """Evening sessions on the platforms without exports (`logged_day` marks them)."""
    entries = []
    for person in population.freelancers:
        for platform, (project, *_) in LOGGED.items():
            chance = 0.45 if platform == "dataannotation" else 0.3
            days = np.flatnonzero(rng.random(DAYS) < chance)
            minutes = rng.lognormal(np.log(80), 0.4, len(days))
            local = person.start_hour + 9 + rng.normal(0, 0.7, len(days))
            start = np.round(days * 86400.0 + (local - person.utc_offset) * 3600.0)
            entries.append(pl.DataFrame(
                {"person": person.number, "platform": platform, "project": project,
                 "description": f"{project} tasks", "start": start,
                 "end": start + np.round(minutes * 60), "logged_day": days}
            ))  # fmt: skip
    return pl.concat(entries, how="vertical_relaxed")


def _earnings_lines(
    population: Population, entries: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """One earnings line per logged session: pay for its hours, a status and a payment day."""
    lines = []
    for person in population.freelancers:
        for platform, (project, task_type, per_hour, rejected_share) in LOGGED.items():
            mine = entries.filter(
                (pl.col("person") == person.number) & (pl.col("platform") == platform)
            ).drop_nulls("logged_day")
            days = mine["logged_day"].to_numpy()
            seconds = (mine["end"] - mine["start"]).to_numpy()
            hours = seconds / 3600
            tasks = np.maximum(1, np.round(hours * per_hour * rng.uniform(0.8, 1.2, len(days))))
            low, high = PAYMENT_DELAY_DAYS[platform]
            paid_day = days + rng.integers(low, high + 1, len(days))
            status = np.where(rng.random(len(days)) < rejected_share, "rejected", "paid")
            status = np.where((status == "paid") & (paid_day >= DAYS), "pending", status)
            lines.append(pl.DataFrame(
                {"person": person.number, "platform": platform, "project": project,
                 "task_type": task_type, "day": days, "tasks": tasks.astype(np.int64),
                 "seconds": seconds, "amount": np.round(hours * person.hourly_rate[platform], 2),
                 "status": status, "paid_day": np.where(status == "paid", paid_day, -1)}
            ))  # fmt: skip
    return pl.concat(lines, how="vertical_relaxed").sort("person", "platform", "day")


def _unpaid_extras(population: Population, rng: np.random.Generator) -> pl.DataFrame:
    """Qualification tests on MTurk, unpaid onboarding on Outlier, weekly payment admin."""
    rows = []
    emotion = PROJECTS[PROJECT_INDEX["mturk", "tweet-emotion"]].name
    for person in population.freelancers:
        base = person.start_hour - person.utc_offset
        for week in range(DAYS // 7):
            day = week * 7 + int(rng.integers(0, 5))
            rows.append(
                (
                    person.number,
                    "mturk",
                    emotion,
                    "Qualification test for new requester",
                    day * 86400.0 + (base - 1.5) * 3600,
                    rng.uniform(15, 40) * 60,
                )
            )
            admin_start = (day + 1) * 86400.0 + (base + 13) * 3600
            rows.append((person.number, "dataannotation", LOGGED["dataannotation"][0],
                         "Admin: invoice and payment check", admin_start,
                         rng.uniform(10, 25) * 60))  # fmt: skip
        for day in range(0, ONBOARDING_DAYS, 3):
            rows.append((person.number, "outlier", LOGGED["outlier"][0],
                         "Onboarding course (unpaid)", day * 86400.0 + (base + 6) * 3600,
                         rng.uniform(45, 90) * 60))  # fmt: skip
    person, platform, project, description, start, seconds = map(list, zip(*rows, strict=True))
    start = np.round(np.array(start))
    return pl.DataFrame(
        {"person": person, "platform": platform, "project": project, "description": description,
         "start": start, "end": start + np.round(np.array(seconds))}
    )  # fmt: skip


def _without_overlaps(entries: pl.DataFrame) -> pl.DataFrame:
    """A timer runs one entry at a time: an entry starting inside the previous one starts at its
    end, and entries left with under a minute are dropped."""
    entries = entries.filter(pl.col("start") >= 0, pl.col("end") <= DAYS * 86400.0)
    entries = entries.sort("person", "start", "end")
    previous_end = pl.col("end").cum_max().shift(1).over("person")
    return (
        entries.with_columns(start=pl.max_horizontal("start", previous_end.fill_null(0)))
        .filter(pl.col("end") - pl.col("start") >= 60)
        .sort("person", "start")
    )


def _empty_entries() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"person": pl.Int64, "platform": pl.String, "project": pl.String,
                "description": pl.String, "start": pl.Float64, "end": pl.Float64}
    )  # fmt: skip
