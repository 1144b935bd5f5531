"""Burn-up, throughput and cycle time on small histories computed by hand."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from metrics.burnup import (
    burnup,
    cycle_time_summary,
    cycle_times,
    daily_throughput,
    scope_at,
    scope_units,
    weekly_throughput,
)

SUNDAY = date(2026, 3, 1)


def day(n: int) -> date:
    return date(2026, 3, n)


def test_daily_throughput_counts_accepted_units_and_keeps_zero_days() -> None:
    accepted = pl.DataFrame({"day": [day(2), day(2), day(5), None]})
    daily = daily_throughput(accepted, start=day(1), end=day(6))
    assert daily.rows() == [
        (day(1), 0), (day(2), 2), (day(3), 0), (day(4), 0), (day(5), 1), (day(6), 0)
    ]  # fmt: skip


def test_daily_throughput_from_counts_and_from_timestamps() -> None:
    counts = pl.DataFrame({"on": [datetime(2026, 3, 2, 23), datetime(2026, 3, 3, 1)], "n": [4, 3]})
    assert daily_throughput(counts, day="on", units="n").rows() == [(day(2), 4), (day(3), 3)]
    empty = pl.DataFrame(schema={"day": pl.Date})
    assert daily_throughput(empty).is_empty()


def test_weekly_throughput_sums_iso_weeks_and_says_how_many_days_each_covers() -> None:
    # Sunday March 1 closes the week of February 23; March 2-8 is a full week; March 9 starts one
    daily = pl.DataFrame({"day": [day(n) for n in range(1, 10)], "units": list(range(1, 10))})
    assert weekly_throughput(daily).rows() == [
        (date(2026, 2, 23), 1, 1), (day(2), 2 + 3 + 4 + 5 + 6 + 7 + 8, 7), (day(9), 9, 1)
    ]  # fmt: skip


def test_burnup_golden_with_a_scope_change() -> None:
    daily = pl.DataFrame({"day": [day(1), day(2), day(3), day(4)], "units": [5, 0, 5, 10]})
    changes = pl.DataFrame({"day": [date(2026, 2, 20), day(3)], "scope": [20, 30]})
    line = burnup(daily, changes)
    assert line.select("day", "done", "scope", "remaining", "scope_changed").rows() == [
        (day(1), 5, 20, 15, False),
        (day(2), 5, 20, 15, False),
        (day(3), 10, 30, 20, True),
        (day(4), 20, 30, 10, False),
    ]


def test_burnup_before_any_scope_and_past_the_scope() -> None:
    daily = pl.DataFrame({"day": [day(1), day(2)], "units": [5, 30]})
    line = burnup(daily, pl.DataFrame({"day": [day(2)], "scope": [20]}))
    assert line.select("scope", "remaining").rows() == [(None, None), (20, 0)]


def test_a_scope_changed_twice_on_one_day_keeps_the_last() -> None:
    changes = pl.DataFrame({"day": [day(1), day(1)], "scope": [10, 12]})
    daily = pl.DataFrame({"day": [day(1)], "units": [1]})
    assert burnup(daily, changes)["scope"].to_list() == [12]
    assert scope_at(changes, day(1)) == 12 and scope_at(changes, date(2026, 2, 1)) is None


def test_scope_is_target_items_times_labels_per_item() -> None:
    assert scope_units(500, 3) == 1500 and scope_units(500, 0) == 500


def test_cycle_time_from_first_start_to_last_acceptance() -> None:
    work = pl.DataFrame(
        {
            "item_id": ["i1", "i1", "i2", "i3"],
            "started_at": [datetime(2026, 3, 1, 8), datetime(2026, 3, 1, 9),
                           datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 8)],
            "accepted_at": [datetime(2026, 3, 1, 10), datetime(2026, 3, 1, 14),
                            datetime(2026, 3, 2, 9), None],
        }
    )  # fmt: skip
    cycles = cycle_times(work)
    assert cycles.select("item_id", "hours").rows() == [("i1", 6.0), ("i2", 1.0)]
    summary = cycle_time_summary(cycles)
    assert summary == {"n_items": 2, "median_hours": 3.5, "p85_hours": 6.0, "mean_hours": 3.5}
    assert cycle_time_summary(cycles.clear())["median_hours"] is None
