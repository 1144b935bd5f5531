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
