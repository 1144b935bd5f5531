"""Workload: hand-made weeks, breaks, nights in the worker's time zone, sensitive hours, and a
planted overworked group found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from metrics.fairness.findings import ALL_GROUPS, AuditSettings
from metrics.fairness.workload import night_seconds_before, worker_workload, workload

MONDAY = datetime(2025, 1, 6, tzinfo=UTC)  # winter: Berlin is UTC+1


def tasks(*rows: tuple[str, datetime, float, str]) -> pl.DataFrame:
    """(worker, start, hours, task type) -> task rows."""
    return pl.DataFrame(
        {
            "worker_id": [r[0] for r in rows],
            "started_at": [r[1] for r in rows],
            "submitted_at": [r[1] + timedelta(hours=r[2]) for r in rows],
            "task_type": [r[3] for r in rows],
        }
    )


def one(frame: pl.DataFrame, worker: str = "w") -> dict:
    return frame.filter(pl.col("worker_id") == worker).row(0, named=True)


def test_night_seconds_by_hand():
    hour = 3600
    # from Monday 21:00 to Tuesday 07:00 local: 22-24 and 0-6, 8 hours
    a, b = 21 * hour, (24 + 7) * hour
    assert (night_seconds_before(np.array([b])) - night_seconds_before(np.array([a])))[
        0
    ] == 8 * hour


def test_night_work_is_counted_on_the_workers_clock_where_known():
    work = tasks(
        ("w", MONDAY + timedelta(hours=21), 2.5, "t"), ("v", MONDAY + timedelta(hours=21), 2.5, "t")
    )
    zones = pl.DataFrame({"worker_id": ["w"], "time_zone": ["Europe/Berlin"]})
    per_worker = worker_workload(work, zones)
    assert one(per_worker, "w")["night_hours"] == pytest.approx(2.5)  # 22:00-00:30 in Berlin
    assert one(per_worker, "v")["night_hours"] == pytest.approx(1.5)  # 22:00-23:30 UTC


def test_a_pause_of_fifteen_minutes_is_a_break_and_a_shorter_one_is_not():
    start = MONDAY + timedelta(hours=8)
    pause = tasks(("w", start, 2.0, "t"), ("w", start + timedelta(hours=2, minutes=14), 2.0, "t"))
    rest = tasks(("w", start, 2.0, "t"), ("w", start + timedelta(hours=2, minutes=15), 2.0, "t"))
    paused = one(worker_workload(pause))
    assert paused["long_stretches"] == 1
    assert paused["hours"] == pytest.approx(4 + 14 / 60)  # the short pause is work time
    rested = one(worker_workload(rest))
    assert rested["long_stretches"] == 0 and rested["hours"] == pytest.approx(4.0)


def test_weeks_over_48_hours_and_sensitive_hours():
    days = [("w", MONDAY + timedelta(days=d, hours=8), 10.0, "moderation") for d in range(5)]
    days += [("w", MONDAY + timedelta(days=7, hours=8), 10.0, "transcription")]
    per_worker = one(worker_workload(tasks(*days), sensitive_task_types=["moderation"]))
    assert (per_worker["weeks"], per_worker["weeks_over_48h"]) == (2, 1)
    assert per_worker["hours"] == pytest.approx(60.0)
    assert per_worker["sensitive_hours"] == pytest.approx(50.0)
    assert per_worker["long_stretches"] == 6


def test_findings_by_hand_with_everyone_beside_the_groups():
    rows = []
    for i in range(6):  # group a: 40 h in one week; group b: 50 h in one week
        hours = 8.0 if i < 3 else 10.0
        rows += [(f"w{i}", MONDAY + timedelta(days=d, hours=8), hours, "t") for d in range(5)]
    people = pl.DataFrame({"worker_id": [f"w{i}" for i in range(6)], "shift": list("aaabbb")})
    found = workload(tasks(*rows), people, "shift", "a",
                     settings=AuditSettings(50, 50, min_group_size=1))  # fmt: skip
    weekly = {f.group: f for f in found if f.measure == "average_weekly_hours"}
    assert weekly[ALL_GROUPS].estimate == pytest.approx(45.0)
    assert weekly["b"].estimate == pytest.approx(50.0) and weekly["b"].flag == "over_48h"
    assert weekly["a"].flag is None and weekly[ALL_GROUPS].n == 6
    share = {f.group: f.estimate for f in found if f.measure == "share_weeks_over_48h"}
    assert share == {ALL_GROUPS: 0.5, "a": 0.0, "b": 1.0}
    difference = next(f for f in found if f.measure == "average_weekly_hours_difference")
    assert difference.estimate == pytest.approx(10.0) and difference.reference == "a"


def test_a_planted_overworked_group_is_found():
    rng = np.random.default_rng(3)
    rows, people = [], []
    for i in range(80):
        team = "b" if i % 4 == 0 else "a"
        people.append((f"w{i}", team))
        for week in range(4):
            daily = rng.normal(11.0 if team == "b" else 7.0, 1.0)
            for d in range(5):
                start = MONDAY + timedelta(days=7 * week + d, hours=float(rng.uniform(6, 9)))
                rows.append((f"w{i}", start, max(0.5, daily), "t"))
    people_frame = pl.DataFrame(people, schema=["worker_id", "team"], orient="row")
    found = workload(tasks(*rows), people_frame, "team", settings=AuditSettings(200, 1000, seed=1))
    weekly = {f.group: f for f in found if f.measure == "average_weekly_hours_difference"}
    assert weekly["b"].flag == "workload_gap" and weekly["b"].p_adjusted < 0.01
    assert weekly["b"].ci_low < 20 < weekly["b"].ci_high
    over = {f.group: f for f in found if f.measure == "share_weeks_over_48h_difference"}
    assert over["b"].estimate > 0.8 and over["b"].p_adjusted < 0.01
    assert {f.group for f in found if f.flag == "over_48h"} == {"b"}


def days_of(worker: str, week: int, hours: list[float]) -> list[tuple[str, datetime, float, str]]:
    """One task a day from 06:00 of `week`'s Monday on, of the given hours."""
    start = MONDAY + timedelta(weeks=week, hours=6)
    return [(worker, start + timedelta(days=d), h, "t") for d, h in enumerate(hours)]


def test_a_week_over_48_hours_is_tested_on_its_days_as_a_t_test():
    """The week's p-value is scipy's one-sided one-sample t-test of its days' hours against
    48 / days; weeks at or under 48 h are not tested."""
    from scipy import stats

    week = [11.0, 12.5, 10.5, 11.5, 12.0, 9.0]
    work = tasks(*days_of("w", 0, week), *days_of("w", 1, [8.0] * 5))
    (p,) = one(worker_workload(work))["over_48h_p"]
    expected = stats.ttest_1samp(week, 48 / len(week), alternative="greater").pvalue
    assert p == pytest.approx(expected, rel=1e-9)


def test_workers_credibly_over_48_hours_are_counted_per_group_never_named():
    """Two workers of group b work six 11-hour days in one week: counted. A worker of group a
    goes over 48 h only through one 40-hour 'day' (a task left open): not credible. Nobody
    else is over. Holm runs over the three weeks over 48 h, conditionalized at 1/2."""
    rows = [*days_of("b1", 1, [11.0, 11.5, 10.5, 11.0, 12.0, 11.0]),
            *days_of("b2", 2, [10.5, 11.0, 11.5, 12.0, 11.0, 10.0]),
            *days_of("a1", 1, [3.0, 4.0, 2.0, 40.0])]  # fmt: skip
    for i in range(8):
        for week in range(3):
            rows += days_of(f"{'ab'[i % 2]}{i + 2}", week, [7.0] * 5)
    people = pl.DataFrame(
        {"worker_id": ["b1", "b2", "a1", *[f"{'ab'[i % 2]}{i + 2}" for i in range(8)]]}
    ).with_columns(shift=pl.col("worker_id").str.slice(0, 1))
    found = workload(tasks(*rows), people, "shift", settings=AuditSettings(50, 50, seed=1))
    counts = {f.group: f for f in found if f.measure == "workers_over_48h"}
    assert set(counts) == {ALL_GROUPS, "a", "b"}  # groups only, never a worker
    assert {g: (f.estimate, f.n) for g, f in counts.items()} == {
        ALL_GROUPS: (2, 11),
        "a": (0, 5),
        "b": (2, 6),
    }
    p = {w: one(worker_workload(tasks(*rows)), w)["over_48h_p"][0] for w in ("b1", "b2", "a1")}
    assert p["a1"] > 0.25  # its one long day: no evidence of a week over the limit
    holm = sorted([3 * 2 * min(p["b1"], p["b2"]), 2 * 2 * max(p["b1"], p["b2"])])
    assert counts["b"].p_adjusted == pytest.approx(holm[0])
    assert counts[ALL_GROUPS].p_adjusted == counts["b"].p_adjusted
    assert counts["b"].flag == "overworked" and counts["b"].p_adjusted < 0.01
    assert counts["a"].flag is None and counts["a"].p_adjusted == pytest.approx(min(1, 2 * p["a1"]))
    assert "2 of the 6 workers of 'b'" in counts["b"].reason


def test_no_week_over_48_hours_is_no_test():
    rows = [r for i in range(6) for r in days_of(f"w{i}", 0, [8.0] * 5)]
    people = pl.DataFrame({"worker_id": [f"w{i}" for i in range(6)], "shift": list("aaabbb")})
    settings = AuditSettings(20, 20, min_group_size=1)
    found = workload(tasks(*rows), people, "shift", settings=settings)
    counts = [f for f in found if f.measure == "workers_over_48h"]
    assert len(counts) == 3 and all(f.p_adjusted is None and f.estimate == 0 for f in counts)
    assert all(f.flag is None for f in counts)


def test_a_small_group_of_overworked_workers_is_suppressed_with_its_complement():
    rows = [*days_of("c1", 0, [11.0] * 6), *days_of("c2", 0, [12.0, 11.0, 11.5, 12.0, 11, 10])]
    rows += [r for i in range(12) for r in days_of(f"w{i}", 0, [8.0] * 5)]
    ids = ["c1", "c2", *[f"w{i}" for i in range(12)]]
    people = pl.DataFrame({"worker_id": ids, "shift": ["c", "c"] + list("ab") * 6})
    found = workload(tasks(*rows), people, "shift", settings=AuditSettings(20, 20))
    counts = {f.group: f for f in found if f.measure == "workers_over_48h"}
    assert counts["c"].flag == "suppressed" and counts["c"].estimate is None
    assert sum(counts[g].flag == "suppressed" for g in "abc") == 2  # a complement beside it
    assert counts[ALL_GROUPS].estimate == 2
