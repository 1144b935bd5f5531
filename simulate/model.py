"""The simulated workforce: platforms, projects, workers and the effects planted among them.

Every number a known-answer test checks is a named constant here, so `truth.json` and the
generator cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

DAYS = 90

# --- planted effects -----------------------------------------------------------------------
# Pay gap (MTurk): a qualification gates the better-paid HIT type, and it was granted to men
# far more often than to women, so women earn less per hour for the same work. The shares and
# rewards make the gap large enough for the published audit to find at p_adjusted < 0.01 among
# the ~40 men and women of the known-answer test's scale (0.5).
PAY_GAP_ATTRIBUTE = "gender"
PAY_GAP_GROUPS = ("man", "woman")  # reference group first
QUALIFIED_SHARE = {"man": 0.8, "woman": 0.1, "nonbinary": 0.5, None: 0.5}
# Without planted effects (`simulate --no-effects`) every group qualifies at this rate.
NEUTRAL_QUALIFIED_SHARE = 0.5
# Biased reviewer (Label Studio): rejects women's *correct* work far more often.
REVIEW_REJECT_CORRECT = 0.03
BIASED_REVIEW_REJECT_CORRECT = 0.30
BIASED_AGAINST = "woman"
# Label bias (Toloka toxicity): non-toxic texts written in one dialect are called toxic more.
LABEL_BIAS_ATTRIBUTE = "dialect"
LABEL_BIAS_GROUP = "aae"
LABEL_BIAS_EXTRA_FALSE_POSITIVE = 0.18
# Weak annotators and spammers (Toloka relevance, Appen sentiment).
WEAK_ACCURACY = 0.45
# A platform that pays late (earnings logs): days from work to payment.
PAYMENT_DELAY_DAYS = {"dataannotation": (1, 4), "outlier": (24, 40)}
LATE_PLATFORM = "outlier"
# Overwork: weeks in which a few workers put in 4 long sessions a day, 6 days a week.
OVERWORK_WEEKS = (5, 6, 7)  # week numbers counted from the first simulated day
# Slipping project: most of its regular workforce leaves in this day range.
SLIP_CHURN_DAYS = (40, 55)
SLIP_LEAVING_SHARE = 0.6


@dataclass(frozen=True)
class Platform:
    """A source platform as the simulator writes it."""

    platform: str
    kind: str
    currency: str
    worker_fee_rate: float
    timezone: str  # zone of naive times in its files


PLATFORMS: tuple[Platform, ...] = (
    Platform("mturk", "marketplace", "USD", 0.0, "America/Los_Angeles"),
    Platform("toloka", "marketplace", "USD", 0.03, "Europe/Moscow"),
    Platform("appen", "marketplace", "USD", 0.0, "America/Los_Angeles"),
    Platform("dataannotation", "marketplace", "USD", 0.0, "UTC"),
    Platform("outlier", "marketplace", "USD", 0.0, "UTC"),
    Platform("labelstudio", "tool", "USD", 0.0, "UTC"),
    Platform("prodigy", "tool", "USD", 0.0, "UTC"),
    Platform("toggl", "tracker", "USD", 0.0, "UTC"),
)
PLATFORM_BY_NAME = {p.platform: p for p in PLATFORMS}


@dataclass(frozen=True)
class Project:
    """A labelling project on one platform, with the parameters its assignments are drawn from."""

    platform: str
    project_id: str
    name: str
    task_type: str
    field: str  # the answer's field name in the export
    classes: tuple[str, ...]
    prevalence: tuple[float, ...]
    ordinal: bool
    labels_per_item: int
    gold_share: float
    median_seconds: float  # a typical worker's active time per task
    reward: float  # per task (per HIT, per Toloka task), 0 where the file carries no pay
    class_difficulty: tuple[float, ...]  # accuracy offset per class
    gold_accuracy_target: float = 0.85
    agreement_target: float = 0.6


PROJECTS: tuple[Project, ...] = (
    Project(
        "mturk", "tweet-emotion", "Tweet emotion", "classification", "emotion",
        ("anger", "fear", "joy", "sadness", "surprise", "neutral"),
        (0.15, 0.1, 0.2, 0.15, 0.1, 0.3), False, 3, 0.08, 40.0, 0.05,
        (0.0, -0.08, 0.03, -0.02, -0.12, 0.02),
    ),
    Project(
        "toloka", "toxicity", "Comment toxicity", "classification", "toxic",
        ("toxic", "not_toxic"), (0.3, 0.7), False, 3, 0.1, 20.0, 0.015, (0.0, 0.02),
        agreement_target=0.5,
    ),
    Project(
        "toloka", "relevance", "Search relevance 0-3", "rating", "relevance",
        ("0", "1", "2", "3"), (0.25, 0.3, 0.3, 0.15), True, 3, 0.12, 30.0, 0.025,
        (0.02, -0.06, -0.06, 0.0), agreement_target=0.5,
    ),
    Project(
        "appen", "sentiment", "Product review sentiment", "classification", "sentiment",
        ("positive", "negative", "neutral"), (0.45, 0.3, 0.25), False, 5, 0.1, 22.0, 0.0,
        (0.03, 0.0, -0.1),
    ),
    Project(
        "labelstudio", "support-intent", "Support ticket intent", "classification", "intent",
        ("billing", "bug", "account", "feature_request", "other"),
        (0.3, 0.25, 0.2, 0.15, 0.1), False, 2, 0.2, 75.0, 0.0,
        (0.02, 0.0, 0.0, -0.05, -0.12), agreement_target=0.7,
    ),
    Project(
        "prodigy", "abstract-screening", "Abstract screening", "classification", "answer",
        ("accept", "reject"), (0.35, 0.65), False, 2, 0.0, 30.0, 0.0, (-0.03, 0.02),
        agreement_target=0.7,
    ),
)  # fmt: skip
PROJECT_INDEX = {(p.platform, p.project_id): i for i, p in enumerate(PROJECTS)}
SLIPPING_PROJECT = ("appen", "sentiment")
# MTurk HIT types of the emotion project: the qualified one pays more.
MTURK_HIT_TYPES = {"standard": 0.05, "qualified": 0.1}

# Workers per platform at scale 1, and where they come from (ISO 3166-1 alpha-2, UTC offset).
# Label Studio has enough annotators that at scale 0.5 each gender the biased reviewer is
# audited on has five or more (the published audit's smallest group) and a permutation test
# over annotators can reach p < 0.01.
WORKERS_AT_SCALE_1 = {"mturk": 100, "toloka": 90, "appen": 60, "labelstudio": 60, "prodigy": 5}
REVIEWERS_AT_SCALE_1 = 3
FREELANCERS_AT_SCALE_1 = 12
COUNTRIES = {
    "mturk": {"US": 0.7, "IN": 0.2, "GB": 0.04, "CA": 0.04, "PH": 0.02},
    "toloka": {"RU": 0.25, "UA": 0.1, "KE": 0.15, "VE": 0.15, "IN": 0.15, "BR": 0.1, "ID": 0.1},
    "appen": {"VE": 0.3, "PH": 0.25, "IN": 0.2, "US": 0.1, "EG": 0.1, "NG": 0.05},
    "labelstudio": {"KE": 0.5, "UG": 0.3, "IN": 0.2},
    "prodigy": {"DE": 0.6, "CH": 0.4},
}
UTC_OFFSET = {
    "US": -6, "IN": 5.5, "GB": 0, "CA": -5, "PH": 8, "RU": 3, "UA": 2, "KE": 3, "VE": -4,
    "BR": -3, "ID": 7, "EG": 2, "NG": 1, "UG": 3, "DE": 1, "CH": 1,
}  # fmt: skip
ISO3 = {
    "US": "USA", "IN": "IND", "GB": "GBR", "CA": "CAN", "PH": "PHL", "RU": "RUS", "UA": "UKR",
    "KE": "KEN", "VE": "VEN", "BR": "BRA", "ID": "IDN", "EG": "EGY", "NG": "NGA", "UG": "UGA",
    "DE": "DEU", "CH": "CHE",
}  # fmt: skip
GENDERS = ("woman", "man", "nonbinary", None)
# None: left blank. The question is voluntary: about one in six leave it blank, so the "not
# stated" group is usually large enough to be shown (and to be the complement that hides a
# small group, rather than a group of stated answers).
GENDER_SHARE = (0.38, 0.42, 0.03, 0.17)
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+", None)
AGE_SHARE = (0.18, 0.34, 0.22, 0.12, 0.06, 0.08)


@dataclass
class Workers:
    """One row per worker identity on one platform (a freelancer has one per platform)."""

    platform: np.ndarray  # str
    raw_id: np.ndarray  # str
    country: np.ndarray  # ISO alpha-2
    utc_offset: np.ndarray  # hours
    gender: np.ndarray  # object, None when left blank
    age_band: np.ndarray  # object, None when left blank
    speed: np.ndarray  # multiplier on a project's median seconds (lower is faster)
    accuracy: np.ndarray  # base probability of a correct answer
    class_noise: np.ndarray  # (n, 6) per-class offsets: each worker has their own weak classes
    p_active: np.ndarray  # chance of working on a given weekday
    extra_sessions: np.ndarray  # Poisson mean of sessions beyond the first
    session_minutes: np.ndarray
    start_hour: np.ndarray  # local hour the first session usually starts
    join_day: np.ndarray
    leave_day: np.ndarray  # first day no longer active (DAYS = stayed)
    role: np.ndarray  # regular, spammer, weak, overworked, reviewer, biased_reviewer
    person: np.ndarray  # freelancer number, -1 for others
    qualified: np.ndarray  # MTurk: holds the qualification of the better-paid HIT type
    projects: np.ndarray  # (n, len(PROJECTS)) bool: projects the worker takes tasks from
    # False for `simulate --no-effects`: no pay gap, biased reviewer, label bias or overwork
    effects: bool = True

    def __len__(self) -> int:
        return len(self.raw_id)

    def on(self, platform: str) -> np.ndarray:
        return np.flatnonzero(self.platform == platform)


@dataclass
class Freelancer:
    """A person working on several platforms who tracks their own time in Toggl."""

    number: int
    toggl_user: str
    raw_ids: dict[str, str]  # platform -> raw id
    hourly_rate: dict[str, float] = field(default_factory=dict)  # logged-earnings platforms
    start_hour: float = 9.0
    utc_offset: float = 0.0
    country: str | None = None  # ISO alpha-2, as the freelancer states it in config.toml


@dataclass
class Population:
    """Everything drawn once per run: workers, freelancers, the calendar."""

    workers: Workers
    freelancers: list[Freelancer]
    first_day: date
    end_date: date
    scale: float

    def day(self, d: int) -> date:
        return self.first_day + timedelta(days=d)


def scaled(count: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(count * scale))


def build_population(seed: int, scale: float, end_date: date, effects: bool = True) -> Population:
    """Draw the workforce of one run; the same seed and scale give the same people. With
    `effects` False they are the same people with no fairness effect planted: qualifications
    granted at one rate to every group, no biased reviewer, no overworked workers (the label
    bias is left out where answers are drawn, `simulate.labelling.answers`)."""
    rng = np.random.default_rng([seed, 1])
    counts = {p: scaled(n, scale, 3) for p, n in WORKERS_AT_SCALE_1.items()}
    counts["labelstudio"] += scaled(REVIEWERS_AT_SCALE_1, scale, 3)
    platform = np.concatenate([np.full(n, p, dtype=object) for p, n in counts.items()])
    n = len(platform)
    country = np.empty(n, dtype=object)
    for p in counts:
        idx = np.flatnonzero(platform == p)
        names, shares = zip(*COUNTRIES[p].items(), strict=True)
        country[idx] = rng.choice(np.array(names, dtype=object), size=len(idx), p=shares)
    workers = Workers(
        platform=platform,
        raw_id=np.array([_raw_id(p, i, rng) for i, p in enumerate(platform)], dtype=object),
        country=country,
        utc_offset=np.array([UTC_OFFSET[c] for c in country], dtype=float),
        gender=rng.choice(np.array(GENDERS, dtype=object), size=n, p=GENDER_SHARE),
        age_band=rng.choice(np.array(AGE_BANDS, dtype=object), size=n, p=AGE_SHARE),
        speed=rng.lognormal(0.0, 0.3, n),
        accuracy=np.clip(rng.beta(14, 2.2, n), 0.78, 0.98),
        class_noise=rng.normal(0.0, 0.03, (n, 6)),
        p_active=rng.uniform(0.1, 0.34, n),
        extra_sessions=rng.uniform(0.1, 0.6, n),
        session_minutes=rng.uniform(20, 55, n),
        start_hour=rng.uniform(7, 21, n),
        join_day=np.where(rng.random(n) < 0.7, 0, rng.integers(0, DAYS - 10, n)),
        leave_day=np.where(rng.random(n) < 0.2, rng.integers(20, DAYS, n), DAYS),
        role=np.full(n, "regular", dtype=object),
        person=np.full(n, -1),
        qualified=np.zeros(n, dtype=bool),
        projects=np.zeros((n, len(PROJECTS)), dtype=bool),
        effects=effects,
    )
    _assign_projects(workers, rng)
    _plant_roles(workers, rng, scale)
    freelancers = _recruit_freelancers(workers, rng, scale)
    if not effects:  # the same draws above, so the same people; only the effects go
        workers.role[workers.role == "overworked"] = "regular"
        workers.role[workers.role == "biased_reviewer"] = "reviewer"
    first_day = end_date - timedelta(days=DAYS - 1)
    return Population(workers, freelancers, first_day, end_date, scale)


def _raw_id(platform: str, i: int, rng: np.random.Generator) -> str:
    """An id shaped like the platform's own (MTurk A..., Toloka hex, CrowdFlower integers)."""
    alnum = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    if platform == "mturk":
        return "A" + "".join(rng.choice(alnum, 13))
    if platform == "toloka":
        return "".join(rng.choice(np.array(list("0123456789abcdef")), 32))
    if platform == "appen":
        if rng.random() < 0.3:  # CrowdFlower ids can be 19-digit negative integers
            return str(-int(rng.integers(10**18, 9 * 10**18)))
        return str(int(rng.integers(1_000_000, 49_999_999)))
    if platform == "labelstudio":
        return str(10_000 + i)
    return f"screening-annotator{i:03d}"


def _assign_projects(workers: Workers, rng: np.random.Generator) -> None:
    for p, project in enumerate(PROJECTS):
        workers.projects[workers.platform == project.platform, p] = True
    toloka = workers.on("toloka")
    tox, rel = PROJECT_INDEX["toloka", "toxicity"], PROJECT_INDEX["toloka", "relevance"]
    pick = rng.random(len(toloka))
    workers.projects[toloka[pick < 0.45], rel] = False  # toxicity only
    workers.projects[toloka[(pick >= 0.45) & (pick < 0.7)], tox] = False  # relevance only
    mturk = workers.on("mturk")
    share = np.array([
        QUALIFIED_SHARE[g] if workers.effects else NEUTRAL_QUALIFIED_SHARE
        for g in workers.gender[mturk]
    ])  # fmt: skip
    workers.qualified[mturk] = rng.random(len(mturk)) < share


def _plant_roles(workers: Workers, rng: np.random.Generator, scale: float) -> None:
    """Spammers, weak annotators, overworked workers, reviewers; all stay the whole period."""
    plan = {
        ("toloka", "spammer"): 2,
        ("toloka", "weak"): 2,
        ("appen", "spammer"): 2,
        ("appen", "weak"): 2,
        ("mturk", "overworked"): 3,
        ("toloka", "overworked"): 2,
    }
    rel = PROJECT_INDEX["toloka", "relevance"]
    for (platform, role), count in plan.items():
        pool = [i for i in workers.on(platform) if workers.role[i] == "regular"]
        if platform == "toloka" and role != "overworked":
            pool = [i for i in pool if workers.projects[i, rel]]
        chosen = rng.choice(pool, scaled(count, scale), replace=False)
        workers.role[chosen] = role
    ls = workers.on("labelstudio")
    n_reviewers = scaled(REVIEWERS_AT_SCALE_1, scale, 3)
    reviewers = ls[-n_reviewers:]
    workers.role[reviewers] = "reviewer"
    workers.role[reviewers[0]] = "biased_reviewer"
    workers.projects[reviewers] = False
    planted = workers.role != "regular"
    workers.join_day[planted] = 0
    workers.leave_day[planted] = DAYS
    workers.p_active[planted] = np.maximum(workers.p_active[planted], 0.5)
    weak = workers.role == "weak"
    workers.accuracy[weak] = WEAK_ACCURACY
    spam = workers.role == "spammer"
    workers.speed[spam] = 0.35  # spammers click through fast
    slipping = PROJECT_INDEX[SLIPPING_PROJECT]
    leaving = np.flatnonzero(workers.projects[:, slipping] & (workers.role == "regular"))
    half = rng.choice(leaving, round(len(leaving) * SLIP_LEAVING_SHARE), replace=False)
    workers.leave_day[half] = rng.integers(*SLIP_CHURN_DAYS, len(half))
    workers.join_day[half] = 0


def _recruit_freelancers(
    workers: Workers, rng: np.random.Generator, scale: float
) -> list[Freelancer]:
    """Regular MTurk and Toloka workers who are the same person, plus two logged platforms."""
    n = scaled(FREELANCERS_AT_SCALE_1, scale, 2)
    regular = workers.role == "regular"
    mturk = rng.choice(np.flatnonzero((workers.platform == "mturk") & regular), n, replace=False)
    toloka = rng.choice(np.flatnonzero((workers.platform == "toloka") & regular), n, replace=False)
    people = []
    for k in range(n):
        m, t = mturk[k], toloka[k]
        # One person: same country, groups, habits and tenure on both platforms.
        for attr in ("country", "utc_offset", "gender", "age_band", "start_hour"):
            getattr(workers, attr)[t] = getattr(workers, attr)[m]
        workers.join_day[[m, t]] = 0
        workers.leave_day[[m, t]] = DAYS
        workers.p_active[[m, t]] = rng.uniform(0.5, 0.7)
        workers.start_hour[t] = (workers.start_hour[m] + 4) % 24  # Toloka after MTurk
        workers.person[[m, t]] = k
        people.append(
            Freelancer(
                number=k,
                toggl_user=f"Freelancer {k + 1:02d}",
                raw_ids={
                    "mturk": workers.raw_id[m],
                    "toloka": workers.raw_id[t],
                    "dataannotation": f"da-{rng.integers(10**6, 10**7)}",
                    "outlier": f"olr_{rng.integers(16**7, 16**8):08x}",
                },
                hourly_rate={"dataannotation": 20.0, "outlier": 15.0},
                start_hour=float(workers.start_hour[m]),
                utc_offset=float(workers.utc_offset[m]),
                country=str(workers.country[m]),
            )
        )
    return people
