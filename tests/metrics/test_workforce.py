"""Workforce: active annotators per week, churn, weekly hours, per-annotator speed and flags."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from metrics.workforce import Bars, annotator_table, weekly_active, weekly_hours

MONDAY = datetime(2026, 3, 2, 9)


def tasks(rows: list[tuple[str, int, float | None]]) -> pl.DataFrame:
    """(worker, day offset from Monday March 2, active seconds) per task."""
    return pl.DataFrame(
        {
            "worker_id": [r[0] for r in rows],
            "submitted_at": [MONDAY + timedelta(days=r[1]) for r in rows],
            "active_seconds": [r[2] for r in rows],
        },
        schema_overrides={"active_seconds": pl.Float64},
    )


def test_active_joined_left_returned_and_churn_per_week() -> None:
    # week 1: a b c; week 2: a d; week 3: nobody; week 4: b
    work = tasks([("a", 0, 1), ("b", 1, 1), ("c", 2, 1), ("a", 7, 1), ("d", 8, 1), ("b", 21, 1)])
    found = weekly_active(work)
    assert found.select("active", "joined", "left", "returned").rows() == [
        (3, 3, 0, 0), (2, 1, 2, 0), (0, 0, 2, 0), (1, 0, 0, 1)
    ]  # fmt: skip
    assert found["churn_rate"].to_list() == [None, pytest.approx(2 / 3), 1.0, None]
    assert found["week"].to_list()[0] == date(2026, 3, 2)


def test_weekly_hours_per_annotator() -> None:
    work = tasks([("a", 0, 3600.0), ("a", 1, 1800.0), ("a", 7, 7200.0), ("b", 0, None)])
    first, second = date(2026, 3, 2), date(2026, 3, 9)
    assert weekly_hours(work).rows() == [
        ("a", first, 1.5, 2), ("a", second, 2.0, 1), ("b", first, 0.0, 1)
    ]  # fmt: skip


def test_annotator_speed_slowing_and_below_the_bar() -> None:
    rows = []
    for d in range(28):  # four weeks, 3 tasks a day each
        rows += [("steady", d, 60.0)] * 3
        rows += [("slowing", d, 60.0 if d < 14 else 120.0)] * 3
        rows += [("slow", d, 200.0)] * 3
        rows += [("untimed", d, None)] * 3
    quality = pl.DataFrame(
        {"worker_id": ["steady", "slowing", "slow"], "accuracy": [0.7, 0.9, 0.9]}
    )
    table = annotator_table(tasks(rows), date(2026, 3, 29), quality, Bars(accuracy=0.8))
    found = {r["worker_id"]: r for r in table.to_dicts()}
    assert found["steady"]["tasks_per_hour"] == pytest.approx(60.0)
    assert found["slowing"]["earlier_tasks_per_hour"] == pytest.approx(60.0)
    assert found["slowing"]["recent_tasks_per_hour"] == pytest.approx(30.0)
    assert found["slowing"]["speed_change"] == pytest.approx(-0.5)
    assert found["slowing"]["median_seconds"] == 90.0
    # median speed of the timed annotators: 40 an hour; half of it is 20; "slow" does 18
    flags = {w: (r["slowing"], r["below_bar"], len(r["reasons"])) for w, r in found.items()}
    assert flags == {
        "steady": (False, True, 1),  # accuracy under the bar
        "slowing": (True, False, 1),
        "slow": (False, True, 1),
        "untimed": (False, False, 0),
    }
    assert found["untimed"]["tasks_per_hour"] is None and found["untimed"]["tasks"] == 84


def test_too_few_tasks_give_no_slowing_verdict_and_later_work_is_ignored() -> None:
    rows = [("a", 0, 60.0)] * 5 + [("a", 20, 600.0)] * 5 + [("a", 40, 1.0)] * 50
    table = annotator_table(tasks(rows), date(2026, 3, 25), bars=Bars(min_tasks=6))
    assert table["tasks"].to_list() == [10] and table["slowing"].to_list() == [False]
    looser = annotator_table(tasks(rows), date(2026, 3, 25), bars=Bars(min_tasks=5))
    assert looser["slowing"].to_list() == [True]


def test_no_timed_work_flags_nobody_and_no_work_gives_empty_tables() -> None:
    untimed = tasks([("a", 0, None), ("b", 1, None)])
    table = annotator_table(untimed, date(2026, 3, 3))
    assert table.select("tasks_per_hour", "slowing", "below_bar").rows() == [
        (None, False, False), (None, False, False)
    ]  # fmt: skip
    assert annotator_table(untimed.clear(), date(2026, 3, 3)).is_empty()
    assert weekly_active(untimed.clear()).is_empty()
