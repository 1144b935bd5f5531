"""When people work: sessions per worker and day, and the task slots that fill each session.

Vectorised over the workers of one platform and one day, so memory follows the size of a day,
not of the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulate.model import OVERWORK_WEEKS, PROJECTS, Workers

TASK_SPREAD = 0.45  # log-sd of one worker's task times around their own median
MEAN_GAP_SECONDS = 8.0  # finding the next task inside a session
BREAK_SHARE = 0.04  # tasks followed by a short break (drink, chat, bathroom)
MEAN_BREAK_SECONDS = 150.0


@dataclass
class Sessions:
    """Work sessions of one platform-day; times are seconds since the first simulated day."""

    worker: np.ndarray
    project: np.ndarray  # index into PROJECTS
    start: np.ndarray
    minutes: np.ndarray


@dataclass
class Slots:
    """Tasks done in those sessions, one row per task attempt."""

    worker: np.ndarray
    project: np.ndarray
    session: np.ndarray  # index into the day's Sessions
    position: np.ndarray  # 0, 1, ... inside the session
    start: np.ndarray
    active: np.ndarray  # seconds on the task

    @property
    def end(self) -> np.ndarray:
        return self.start + self.active

    def subset(self, mask: np.ndarray) -> Slots:
        return Slots(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def exclusive_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running sum of `values` within consecutive groups of `counts`, starting each group at 0."""
    total = np.cumsum(values) - values
    firsts = np.repeat(np.cumsum(counts) - counts, counts)
    return total - total[firsts]


def day_sessions(
    workers: Workers,
    members: np.ndarray,
    day: int,
    weekday: int,
    week: int,
    rng: np.random.Generator,
) -> Sessions:
    """Sessions on `day` of the platform workers `members`, each working one of their projects.

    `week` counts Monday-based calendar weeks from the first simulated day's week.
    """
    overworking = (workers.role[members] == "overworked") & (week in OVERWORK_WEEKS)
    weekend = 0.7 if weekday >= 5 else 1.0
    chance = np.where(overworking, float(weekday != 6), workers.p_active[members] * weekend)
    on_duty = (day >= workers.join_day[members]) & (day < workers.leave_day[members])
    active = members[on_duty & (rng.random(len(members)) < chance)]
    long_day = overworking[np.searchsorted(members, active)]
    n_sessions = np.where(long_day, 4, 1 + rng.poisson(workers.extra_sessions[active]))
    who = np.repeat(active, n_sessions)
    long_session = np.repeat(long_day, n_sessions)
    minutes = np.where(
        long_session,
        rng.normal(165, 10, len(who)),
        rng.lognormal(np.log(workers.session_minutes[who]), 0.45),
    )
    breaks = np.where(long_session, rng.uniform(15, 40, len(who)), rng.uniform(20, 180, len(who)))
    local_hour = workers.start_hour[active] + rng.normal(0, 1.2, len(active))
    local_hour = np.where(long_day, 6.5, local_hour)
    first = day * 86400.0 + (local_hour - workers.utc_offset[active]) * 3600.0
    offsets = exclusive_cumsum((minutes + breaks) * 60.0, n_sessions)
    return Sessions(
        worker=who,
        project=_pick_projects(workers.projects[who], rng),
        start=np.repeat(first, n_sessions) + offsets,
        minutes=minutes,
    )


def _pick_projects(allowed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of each session's allowed projects, uniformly."""
    weights = allowed * rng.random(allowed.shape)
    return np.argmax(weights, axis=1)


def session_slots(workers: Workers, sessions: Sessions, rng: np.random.Generator) -> Slots:
    """Task attempts filling each session back to back, with short gaps and rare breaks."""
    median = np.array([p.median_seconds for p in PROJECTS])[sessions.project]
    typical = median * workers.speed[sessions.worker]
    per_task = typical * np.exp(TASK_SPREAD**2 / 2) + MEAN_GAP_SECONDS
    n_tasks = np.maximum(1, (sessions.minutes * 60.0 / per_task).astype(np.int64))
    session = np.repeat(np.arange(len(n_tasks)), n_tasks)
    active = np.round(np.repeat(typical, n_tasks) * rng.lognormal(0, TASK_SPREAD, len(session)))
    active = np.maximum(active, 2.0)
    gaps = rng.exponential(MEAN_GAP_SECONDS, len(session))
    gaps += (rng.random(len(session)) < BREAK_SHARE) * rng.exponential(
        MEAN_BREAK_SECONDS, len(session)
    )
    start = np.repeat(sessions.start, n_tasks) + exclusive_cumsum(active + np.round(gaps), n_tasks)
    return Slots(
        worker=sessions.worker[session],
        project=sessions.project[session],
        session=session,
        position=np.arange(len(session)) - np.repeat(np.cumsum(n_tasks) - n_tasks, n_tasks),
        start=np.round(start),
        active=active,
    )
