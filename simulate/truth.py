"""`truth.json`: every planted parameter, and what it came to in the simulated data.

"planted" values are the model's parameters; "realized" values are computed from the rows
written, with the definitions of docs/METRICS.md, so a metric can be checked against either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl

from simulate import model as m
from simulate.engine import Ledger
from simulate.freelance import FreelanceRecords
from simulate.model import Population


@dataclass
class Truth:
    """What `simulate` planted and wrote; `as_dict()` is the content of truth.json."""

    seed: int
    scale: float
    end_date: str
    first_day: str
    assignments: int
    # False for `simulate --no-effects`: the fairness effects (pay gap, biased reviewer, label
    # bias, overwork) are then null in `planted`, since none was planted
    effects: bool = True
    files: list[dict[str, Any]] = field(default_factory=list)
    platforms: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    planted: dict[str, Any] = field(default_factory=dict)
    demo_freelancer: dict[str, Any] = field(default_factory=dict)
    demo_manager_projects: list[dict[str, str]] = field(default_factory=list)
    dirty: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def worker_ref(population: Population, i: int) -> dict[str, str]:
    w = population.workers
    return {"platform": str(w.platform[i]), "raw_id": str(w.raw_id[i])}


def pay_gap(population: Population, ledger: Ledger, seed: int) -> dict[str, Any]:
    """The MTurk gap by self-reported gender: planted (population) and realized ratios."""
    w = population.workers
    reference, group = m.PAY_GAP_GROUPS
    hourly = ledger.money["approved_reward"] / np.maximum(ledger.money["approved_active"], 1) * 3600
    mturk = (w.platform == "mturk") & (ledger.money["approved_active"] > 0)
    medians = {g: float(np.median(hourly[mturk & (w.gender == g)])) for g in (reference, group)}
    return {
        "platform": "mturk",
        "attribute": m.PAY_GAP_ATTRIBUTE,
        "reference_group": reference,
        "group": group,
        "mechanism": "a qualification gates the better-paid HIT type; granted to "
        f"{m.QUALIFIED_SHARE[reference]:.0%} of {reference} and {m.QUALIFIED_SHARE[group]:.0%} "
        f"of {group} workers",
        "reward_per_hit": dict(m.MTURK_HIT_TYPES),
        "planted_median_wage_ratio": round(_population_wage_ratio(seed), 4),
        "realized_paid_time_median_wage": {g: round(v, 4) for g, v in medians.items()},
        "realized_paid_time_median_wage_ratio": round(medians[group] / medians[reference], 4),
        "workers": {g: int((mturk & (w.gender == g)).sum()) for g in (reference, group)},
    }


def _population_wage_ratio(seed: int) -> float:
    """Median paid-time wage of the group over the reference group in the model's population:
    reward of the HIT type a worker qualifies for over their time per task."""
    rng = np.random.default_rng([seed, 99])
    emotion = m.PROJECTS[m.PROJECT_INDEX["mturk", "tweet-emotion"]]
    medians = []
    for g in m.PAY_GAP_GROUPS:
        n = 200_000
        qualified = rng.random(n) < m.QUALIFIED_SHARE[g]
        reward = np.where(qualified, m.MTURK_HIT_TYPES["qualified"], m.MTURK_HIT_TYPES["standard"])
        seconds = emotion.median_seconds * rng.lognormal(0.0, 0.3, n) * np.exp(0.45**2 / 2)
        medians.append(np.median(reward / seconds * 3600))
    return float(medians[1] / medians[0])


def biased_reviewer(population: Population, ledger: Ledger) -> dict[str, Any]:
    """Rejection rates of correct work, targeted group vs others, per reviewer."""
    w = population.workers
    reviewers = np.flatnonzero(np.isin(w.role, ["reviewer", "biased_reviewer"]))
    table = []
    for r in reviewers:
        counts = ledger.reviews[r]  # [targeted][correct][rejected]
        rates = {}
        for label, t in (("targeted", 1), ("others", 0)):
            correct = counts[t, 1]
            rates[label] = round(float(correct[1] / max(correct.sum(), 1)), 4)
            rates[f"{label}_correct_reviewed"] = int(correct.sum())
        table.append({**worker_ref(population, r), "role": str(w.role[r]), **rates})
    biased = int(np.flatnonzero(w.role == "biased_reviewer")[0])
    return {
        **worker_ref(population, biased),
        "project_id": "support-intent",
        "attribute": "gender",
        "against_group": m.BIASED_AGAINST,
        "planted_reject_rate_correct": {
            "targeted": m.BIASED_REVIEW_REJECT_CORRECT,
            "others": m.REVIEW_REJECT_CORRECT,
        },
        "other_reviewers_reject_rate_correct": m.REVIEW_REJECT_CORRECT,
        "realized_by_reviewer": table,
    }


def weak_annotators(population: Population, ledger: Ledger) -> list[dict[str, Any]]:
    w = population.workers
    out = []
    for i in np.flatnonzero(np.isin(w.role, ["weak", "spammer"])):
        gold = int(ledger.counts["gold"][i])
        out.append({
            **worker_ref(population, i),
            "role": str(w.role[i]),
            "planted_accuracy": None if w.role[i] == "spammer" else m.WEAK_ACCURACY,
            "gold_answered": gold,
            "realized_gold_accuracy": round(ledger.counts["gold_correct"][i] / max(gold, 1), 4),
        })  # fmt: skip
    return out


def regular_gold_accuracy_floor(
    population: Population, ledger: Ledger, min_gold: int
) -> dict[str, float]:
    """Per platform, the lowest gold accuracy among the other workers with `min_gold` or more
    gold answers: every planted weak annotator or spammer is below it."""
    w = population.workers
    gold = ledger.counts["gold"]
    floors = {}
    for platform in ("toloka", "appen"):
        keep = (w.platform == platform) & (w.role == "regular") & (gold >= min_gold)
        accuracy = ledger.counts["gold_correct"][keep] / gold[keep]
        floors[platform] = round(float(accuracy.min()), 4)
    return floors


def label_bias(ledger: Ledger) -> dict[str, Any]:
    """False-positive rate (non-toxic labelled toxic) by the texts' dialect group."""
    toxic, not_toxic = 0, 1
    rates = {}
    for name, g in (("aae", 1), ("sae", 0)):
        row = ledger.toxicity[g, not_toxic]
        rates[name] = round(float(row[toxic] / max(row.sum(), 1)), 4)
    return {
        "platform": "toloka",
        "project_id": "toxicity",
        "attribute": m.LABEL_BIAS_ATTRIBUTE,
        "group": m.LABEL_BIAS_GROUP,
        "label": "toxic",
        "planted_extra_false_positive": m.LABEL_BIAS_EXTRA_FALSE_POSITIVE,
        "realized_false_positive_rate": rates,
    }


def overwork(population: Population, ledger: Ledger) -> dict[str, Any]:
    """Weekly hours (sessions merged over gaps of a minute or less, Monday weeks, UTC) of the
    overworked, and the most anyone else worked in a week."""
    w = population.workers
    first_monday = population.first_day - timedelta(days=population.first_day.weekday())
    hours = ledger.weekly_seconds / 3600
    workers = []
    for i in np.flatnonzero(w.role == "overworked"):
        weeks = {
            (first_monday + timedelta(weeks=k)).isoformat(): round(float(h), 1)
            for k, h in enumerate(hours[i])
            if h > 48
        }
        workers.append({**worker_ref(population, i), "weeks_over_48h": weeks})
    others = hours[w.role != "overworked"]
    return {
        "threshold_hours": 48,
        "week_starts": "Monday, UTC",
        "hours_are": "session time: task intervals as exported, merged across gaps <= 1 minute",
        "workers": workers,
        "max_weekly_hours_of_others": round(float(others.max()), 1),
    }


def late_platform(records: FreelanceRecords) -> dict[str, Any]:
    paid = records.earnings.filter(pl.col("status") == "paid")
    delays = (
        paid.group_by("platform")
        .agg((pl.col("paid_day") - pl.col("day")).median().alias("median_delay_days"))
        .sort("platform")
    )
    return {
        "platform": m.LATE_PLATFORM,
        "planted_delay_days": {p: list(r) for p, r in m.PAYMENT_DELAY_DAYS.items()},
        "realized_median_delay_days": dict(delays.iter_rows()),
        "measured_from": "earnings lines: paid date minus the day worked",
    }


def demo_freelancer(
    population: Population, ledger: Ledger, records: FreelanceRecords
) -> dict[str, Any]:
    """Freelancer 1: ids per platform and expected earnings, hours and wages per platform."""
    person = population.freelancers[0]
    w = population.workers
    tracked = records.time_entries.filter(pl.col("person") == person.number).with_columns(
        seconds=pl.col("end") - pl.col("start")
    )
    logged = records.earnings.filter(
        (pl.col("person") == person.number) & (pl.col("status") != "rejected")
    )
    expected = {}
    for platform, raw in person.raw_ids.items():
        fee = m.PLATFORM_BY_NAME[platform].worker_fee_rate
        if platform in ("mturk", "toloka"):
            i = int(np.flatnonzero((w.platform == platform) & (w.raw_id == raw))[0])
            gross = float(ledger.money["approved_reward"][i])
            paid_hours = float(ledger.money["approved_active"][i]) / 3600
        else:
            mine = logged.filter(pl.col("platform") == platform)
            gross = float(mine["amount"].sum())
            paid_hours = float(mine["seconds"].sum()) / 3600
        hours = float(tracked.filter(pl.col("platform") == platform)["seconds"].sum()) / 3600
        net = gross * (1 - fee)
        expected[platform] = {
            "earnings": round(net, 2),
            "paid_hours": round(paid_hours, 2),
            "tracked_hours": round(hours, 2),
            "paid_time_hourly_wage": round(net / paid_hours, 2) if paid_hours else None,
            "effective_hourly_wage": round(net / hours, 2) if hours else None,
        }
    return {
        "toggl_user": person.toggl_user,
        "ids": dict(person.raw_ids),
        "currency": "USD",
        "expected": expected,
        "definitions": "earnings: approved rewards (MTurk, Toloka) or paid and pending logged "
        "amounts, after worker fees; paid_hours: active time of approved work or logged hours; "
        "tracked_hours: all Toggl time for the platform (tasks, searching, qualification, "
        "onboarding, admin), which covers every day worked there",
    }
