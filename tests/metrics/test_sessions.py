"""Work sessions on hand-computed cases, and their invariants on random task logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.sessions import (
    assign_sessions,
    sessions,
    task_active_seconds,
    throughput,
    work_intervals,
)

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def tasks(rows: list[tuple], worker: str = "w1", platform: str = "mturk") -> pl.DataFrame:
    """Assignments from (start seconds, end seconds[, active seconds]) after T0; None = null."""
    return pl.DataFrame(
        {
            "worker_id": [worker] * len(rows),
            "platform": [platform] * len(rows),
            "started_at": [None if r[0] is None else at(r[0]) for r in rows],
            "submitted_at": [None if r[1] is None else at(r[1]) for r in rows],
            "active_seconds": [r[2] if len(r) > 2 else None for r in rows],
        },
        schema_overrides={
            "started_at": pl.Datetime("us", "UTC"),
            "submitted_at": pl.Datetime("us", "UTC"),
            "active_seconds": pl.Float64,
        },
    )


def test_gap_just_under_the_threshold_joins_the_session() -> None:
    result = sessions(tasks([(0, 300), (359, 400)]), gap_minutes=1)
    assert result.height == 1
    assert result.row(0, named=True)["seconds"] == 400
    assert result.row(0, named=True)["gap_seconds"] == 59


def test_gap_exactly_at_the_threshold_joins_the_session() -> None:
    assert sessions(tasks([(0, 300), (360, 400)]), gap_minutes=1).height == 1


def test_gap_just_over_the_threshold_starts_a_new_session() -> None:
    result = sessions(tasks([(0, 300), (361, 400)]), gap_minutes=1)
    assert result.get_column("seconds").to_list() == [300, 39]
    assert result.get_column("gap_seconds").to_list() == [0, 0]


def test_overlapping_tasks_count_their_shared_time_once() -> None:
    # A 0-600 holds B 120-240 inside it; C 540-720 overlaps A's end.
    rows = assign_sessions(work_intervals(tasks([(0, 600), (120, 240), (540, 720)])), 1)
    assert rows.get_column("covered_seconds").to_list() == [600, 0, 120]
    assert rows.get_column("gap_seconds").to_list() == [0, 0, 0]
    assert sessions(tasks([(0, 600), (120, 240), (540, 720)]), 1)["seconds"].to_list() == [720]


def test_latest_end_so_far_not_last_end_decides_the_gap() -> None:
    # B ends before A does; C starts 50 s after A's end, 400 s after B's.
    result = sessions(tasks([(0, 600), (100, 200), (650, 700)]), gap_minutes=1)
    assert result.height == 1
    assert result.row(0, named=True)["gap_seconds"] == 50


def test_missing_start_uses_active_seconds_or_becomes_a_point() -> None:
    rows = assign_sessions(
        work_intervals(tasks([(None, 100, 40.0), (None, 130), (None, None, 5.0)])), 1
    )
    assert rows.height == 2  # no time at all: left out of sessions
    assert rows.get_column("work_start").to_list() == [at(60), at(130)]
    assert rows.get_column("covered_seconds").to_list() == [40, 0]
    assert rows.get_column("gap_seconds").to_list() == [0, 30]


def test_workers_and_platforms_never_share_a_session() -> None:
    frame = pl.concat(
        [tasks([(0, 100)]), tasks([(50, 150)], worker="w2"), tasks([(60, 160)], platform="toloka")]
    )
    assert sessions(frame, gap_minutes=1).height == 3


interval = st.tuples(st.integers(0, 3000), st.integers(0, 400)).map(lambda t: (t[0], t[0] + t[1]))


@settings(max_examples=60, deadline=None)
@given(st.lists(interval, min_size=1, max_size=25), st.sampled_from([0.0, 0.5, 1.0, 5.0]))
def test_session_time_is_covered_time_plus_gaps(spans: list[tuple], gap: float) -> None:
    result = sessions(tasks(spans), gap_minutes=gap)
    covered_seconds = sorted({s for start, end in spans for s in range(start, end)})
    assert result.get_column("covered_seconds").sum() == len(covered_seconds)
    for row in result.iter_rows(named=True):
        assert row["covered_seconds"] + row["gap_seconds"] == row["seconds"]
        assert row["gap_seconds"] <= gap * 60 * (row["tasks"] - 1)
    assert result.get_column("tasks").sum() == len(spans)


def test_throughput_uses_platform_active_time_else_the_session_share() -> None:
    # A has the platform's 200 active seconds; B, C and D none: each gets its covered time
    # plus the gap before it (B 70 + 30, C 80 + 20, D 90 + 10). D was returned: not completed.
    frame = tasks([(0, 300, 200.0), (330, 400), (420, 500), (510, 600)]).with_columns(
        status=pl.Series(["approved", "approved", "rejected", "returned"])
    )
    row = throughput(frame, gap_minutes=1, by=["platform"]).row(0, named=True)
    assert row["tasks_completed"] == 3
    assert row["active_hours"] * 3600 == 200 + 100 + 100 + 100
    assert row["median_seconds_per_task"] == 100
    assert row["tasks_per_active_hour"] == pytest.approx(3 / (500 / 3600))
    assert row["measured_share"] == 0.25


def test_a_task_suite_timed_once_shares_its_time_over_its_tasks():
    # Toloka: two pages of three tasks, each page timed by its start only, 60 s apart
    start = datetime(2024, 1, 1, 10)
    starts = [start] * 3 + [start + timedelta(seconds=60)] * 3
    page = pl.DataFrame(
        {
            "worker_id": ["w"] * 6,
            "platform": ["toloka"] * 6,
            "status": ["approved"] * 6,
            "started_at": starts,
            "submitted_at": [None] * 6,
            "active_seconds": [None] * 6,
        },
        schema_overrides={"submitted_at": pl.Datetime("us"), "active_seconds": pl.Float64},
    )
    seconds = task_active_seconds(page, 5.0).sort("work_start")["task_seconds"].to_list()
    assert seconds == [0.0, 0.0, 0.0, 20.0, 20.0, 20.0]  # the second page's 60 s, shared
    assert throughput(page, 5.0, [])["median_seconds_per_task"][0] == 10.0
