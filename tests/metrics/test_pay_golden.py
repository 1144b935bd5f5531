"""Effective hourly pay on small cases computed by hand (the figures are in the comments)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from etl.sources.base import SCHEMAS
from metrics.pay import (
    MissingRate,
    effective_wages,
    pay_ledger,
    payment_delays,
    summarise_wages,
    unattributed_by_worker,
    wages_across_workers,
)

# The importers' canonical frames, which is what the warehouse holds.
ASSIGNMENT_SCHEMA = SCHEMAS["assignments"]
ENTRY_SCHEMA = SCHEMAS["time_entries"]
EARNING_SCHEMA = SCHEMAS["earnings"]
FX = pl.DataFrame(
    {
        "currency": ["USD", "EUR", "EUR", "EUR"],
        "day": [date(2000, 1, 1), date(2025, 3, 1), date(2025, 3, 4), date(2025, 3, 10)],
        "usd_per_unit": [1.0, 1.05, 1.08, 1.10],
    }
)


def t(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2025, 3, day, hh, mm, ss, tzinfo=UTC)


def frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    """A typed frame; money given as text like "1.20" becomes an exact decimal."""

    def value(key: str, row: dict):
        raw = row.get(key)
        return Decimal(raw) if isinstance(raw, str) and schema[key] == pl.Decimal(18, 6) else raw

    return pl.DataFrame([{k: value(k, r) for k in schema} for r in rows], schema=schema)


def task(start, end, status, reward="1.00", paid_at=None, **extra) -> dict:
    row = {
        "worker_id": "w1",
        "platform": "mturk",
        "project_id": "p1",
        "task_type": "sentiment",
        "started_at": start,
        "submitted_at": end,
        "status": status,
        "reward": reward,
        "currency": "USD",
        "paid_at": paid_at,
    }
    return row | extra


# One morning on MTurk (fee 10% for the test's sake):
#   T1 approved 10:00:00-10:10:00, $1.00 + $0.20 bonus, paid two days later
#   T2 rejected 10:10:30-10:15:30 (30 s gap)            T3 returned 10:16:00-10:18:00 (30 s gap)
#   T4 approved 10:17:00-10:27:00 overlaps T3 by 1 min: covers 10:18-10:27 = 540 s, paid day 7
#   T5 approved 10:40:00-10:50:00 after a 13 min break: a new session; approved, not paid yet
#   T6 submitted 10:50:20-10:55:20 (20 s gap), awaiting review
MORNING = [
    task(t(3, 10, 0), t(3, 10, 10), "approved", bonus="0.20", paid_at=t(5, 10, 10)),
    task(t(3, 10, 10, 30), t(3, 10, 15, 30), "rejected", reward="0.50"),
    task(t(3, 10, 16), t(3, 10, 18), "returned", reward="0.50", task_type="transcription"),
    task(t(3, 10, 17), t(3, 10, 27), "approved", paid_at=t(10, 10, 27)),
    task(t(3, 10, 40), t(3, 10, 50), "approved"),
    task(t(3, 10, 50, 20), t(3, 10, 55, 20), "submitted"),
]
FEES = {"mturk": 0.10}
NO_ENTRIES = frame([], ENTRY_SCHEMA)


def entry(start, end, activity="task", platform="mturk") -> dict:
    seconds = (end - start).total_seconds()
    return {"worker_id": "w1", "platform": platform, "started_at": start, "ended_at": end,
            "seconds": seconds, "activity": activity}  # fmt: skip


NO_EARNINGS = frame([], EARNING_SCHEMA)


def wages(assignments=MORNING, entries=None, earnings=None, by=("worker_id", "platform"), **kw):
    return effective_wages(
        frame(assignments, ASSIGNMENT_SCHEMA),
        NO_ENTRIES if entries is None else frame(entries, ENTRY_SCHEMA),
        NO_EARNINGS if earnings is None else frame(earnings, EARNING_SCHEMA),
        FX,
        kw.get("fees", FEES),
        by=list(by),
        gap_minutes=1.0,
        reporting_currency=kw.get("currency", "USD"),
    )


def test_morning_hours_by_kind_of_time() -> None:
    row = wages().row(0, named=True)
    assert row["approved_hours"] * 3600 == pytest.approx(600 + 540 + 600)
    assert row["rejected_hours"] * 3600 == pytest.approx(300)
    assert row["returned_hours"] * 3600 == pytest.approx(120)
    assert row["gap_hours"] * 3600 == pytest.approx(30 + 30 + 20)
    assert row["pending_hours"] * 3600 == pytest.approx(300)
    assert row["hours_worked"] * 3600 == pytest.approx(2240)
    assert (row["tasks_approved"], row["tasks_rejected"], row["tasks_returned"]) == (3, 1, 1)
    assert row["tasks_pending"] == 1


def test_morning_money_fees_and_pending() -> None:
    row = wages().row(0, named=True)
    assert row["gross_earnings"] == pytest.approx(3.20)  # 1.20 + 1.00 + 1.00
    assert row["fees"] == pytest.approx(0.32)
    assert row["net_earnings"] == pytest.approx(2.88)
    assert row["pending_payout"] == pytest.approx(0.90)  # T5 approved, unpaid, after fees
    assert row["pending_review"] == pytest.approx(0.90)  # T6


def test_morning_waterfall_from_paid_time_to_effective_wage() -> None:
    row = wages().row(0, named=True)
    assert row["gross_paid_time_wage"] == pytest.approx(3.20 / (1740 / 3600))  # 6.6207
    assert row["paid_time_wage"] == pytest.approx(2.88 / (1740 / 3600))  # 5.9586
    assert row["effective_wage"] == pytest.approx(2.88 / (2240 / 3600))  # 4.6286
    assert row["step_fees"] == pytest.approx(-0.32 / (1740 / 3600))
    assert row["step_rejected_work"] == pytest.approx(2.88 * 3600 / 2040 - 2.88 * 3600 / 1740)
    assert row["step_returned_work"] == pytest.approx(2.88 * 3600 / 2160 - 2.88 * 3600 / 2040)
    assert row["step_gaps_in_sessions"] == pytest.approx(2.88 * 3600 / 2240 - 2.88 * 3600 / 2160)
    assert row["step_time_tracking_adjustment"] == 0
    assert row["step_logged_unpaid_time"] == 0
    steps = sum(v for k, v in row.items() if k.startswith("step_"))
    assert row["gross_paid_time_wage"] + steps == pytest.approx(row["effective_wage"])


def test_gaps_and_overlaps_follow_their_tasks_by_task_type() -> None:
    by_type = {r["task_type"]: r for r in wages(by=["task_type"]).iter_rows(named=True)}
    # T3's 30 s gap before it belongs to transcription; its overlap with T4 counts for T3.
    assert by_type["transcription"]["returned_hours"] * 3600 == pytest.approx(120)
    assert by_type["transcription"]["gap_hours"] * 3600 == pytest.approx(30)
    assert by_type["sentiment"]["gap_hours"] * 3600 == pytest.approx(50)
    assert by_type["transcription"]["effective_wage"] == 0


def test_a_tracked_day_counts_tracked_time_instead_of_task_time() -> None:
    # Toggl says 10:00-11:00 on MTurk tasks plus a 30 min qualification test. Recorded task
    # time (2240 s worked + 300 s pending) gives way to the 3600 s tracked; pending stays out.
    entries = [
        entry(t(3, 10, 0), t(3, 11, 0)),
        entry(t(3, 12, 0), t(3, 12, 30), "qualification"),
    ]
    row = wages(entries=entries).row(0, named=True)
    assert row["tracking_adjustment_hours"] * 3600 == pytest.approx(3600 - 2540)
    assert row["unpaid_logged_hours"] == pytest.approx(0.5)
    assert row["hours_worked"] * 3600 == pytest.approx(3600 - 300 + 1800)
    assert row["effective_wage"] == pytest.approx(2.88 / (5100 / 3600))


def test_overlapping_tracked_entries_count_once() -> None:
    entries = [
        entry(t(3, 10, 0), t(3, 11, 0)),
        entry(t(3, 10, 30), t(3, 11, 30)),
    ]
    row = wages(entries=entries).row(0, named=True)
    assert row["hours_worked"] * 3600 == pytest.approx(5400 - 300)


def logged(day: int, amount: str, status: str = "paid", paid_day: int | None = 4, **extra) -> dict:
    row = {
        "worker_id": "w1",
        "platform": "dataannotation",
        "project_id": None,
        "task_type": "coding",
        "day": date(2025, 3, day),
        "tasks": 3,
        "seconds": 3600.0,
        "amount": amount,
        "currency": "EUR",
        "status": status,
        "paid_at": None if paid_day is None else t(paid_day, 18, 0),
    }
    return row | extra


def test_logged_earnings_in_euros_convert_at_the_payment_day() -> None:
    # 20 EUR paid on 4 March (1.08) and 10 EUR paid on 7 March (nearest earlier rate: 4 March).
    earnings = [logged(4, "20"), logged(5, "10", paid_day=7)]
    row = wages(assignments=[], earnings=earnings).row(0, named=True)
    assert row["gross_earnings"] == pytest.approx(30 * 1.08)
    assert row["effective_wage"] == pytest.approx(30 * 1.08 / 2)


def test_a_day_with_tracked_time_and_logged_earnings() -> None:
    # 1 h logged; Toggl has 1.5 h of tasks and a 30 min qualification test that day.
    entries = [
        entry(t(4, 9, 0), t(4, 10, 30), "task", "dataannotation"),
        entry(t(4, 11, 0), t(4, 11, 30), "qualification", "dataannotation"),
        entry(t(4, 14, 0), t(4, 15, 0), "task", None),
    ]
    row = wages(assignments=[], earnings=[logged(4, "20")], entries=entries).row(0, named=True)
    assert row["approved_hours"] == pytest.approx(1.0)
    assert row["tracking_adjustment_hours"] == pytest.approx(0.5)
    assert row["unpaid_logged_hours"] == pytest.approx(0.5)
    assert row["paid_time_wage"] == pytest.approx(21.60)
    assert row["effective_wage"] == pytest.approx(21.60 / 2)
    unattributed = unattributed_by_worker(frame(entries, ENTRY_SCHEMA))
    assert unattributed.select("entries", "hours").rows() == [(1, 1.0)]


def test_logged_line_without_hours_waits_for_tracked_time() -> None:
    earnings = [logged(4, "20", seconds=None)]
    row = wages(assignments=[], earnings=earnings).row(0, named=True)
    assert row["untimed_earnings"] == pytest.approx(21.60)
    assert row["effective_wage"] is None


def test_logged_line_on_a_day_with_task_logs_is_not_counted_twice() -> None:
    earnings = [logged(3, "5", platform="mturk", currency="USD")]
    assert wages(earnings=earnings).row(0, named=True)["gross_earnings"] == pytest.approx(3.20)


def test_pending_and_rejected_log_lines() -> None:
    earnings = [logged(4, "20"), logged(5, "10", status="pending", paid_day=None),
                logged(6, "0", status="rejected")]  # fmt: skip
    row = wages(assignments=[], earnings=earnings).row(0, named=True)
    assert row["gross_earnings"] == pytest.approx(20 * 1.08 + 10 * 1.08)
    assert row["pending_payout"] == pytest.approx(10 * 1.08)
    assert row["rejected_hours"] == pytest.approx(1.0)
    assert row["effective_wage"] == pytest.approx(30 * 1.08 / 3)


def test_reporting_in_euros_uses_the_rate_of_each_payment_day() -> None:
    row = wages(currency="EUR", fees={}).row(0, named=True)
    # T1 paid 5 March (rate of 4 March: 1.08), T4 paid 10 March (1.10), T5 unpaid: the rate
    # of its submission day, 3 March (rate of 1 March: 1.05).
    assert row["gross_earnings"] == pytest.approx(1.20 / 1.08 + 1.00 / 1.10 + 1.00 / 1.05)


def test_a_currency_without_rates_is_named() -> None:
    with pytest.raises(MissingRate, match="KES"):
        wages(assignments=[task(t(3, 10, 0), t(3, 10, 5), "approved", currency="KES")])


def test_tools_without_prices_have_no_wage() -> None:
    rows = [task(t(3, 10, 0), t(3, 10, 5), "approved", reward=None, platform="labelstudio")]
    row = wages(assignments=rows).row(0, named=True)
    assert row["unpriced_hours"] * 3600 == pytest.approx(300)  # shown as "no pay data"
    assert row["approved_hours"] == 0 and row["effective_wage"] is None


def test_hours_on_a_tool_without_prices_leave_the_wage_alone() -> None:
    # 5 priced minutes for $1 on MTurk, 10 minutes in Label Studio (no pay recorded there)
    paid = task(t(3, 10, 0), t(3, 10, 5), "approved", reward="1.00")
    tool = task(t(3, 11, 0), t(3, 11, 10), "approved", reward=None, platform="labelstudio")
    row = wages(assignments=[paid, tool], by=()).row(0, named=True)
    # the net over the 5 priced minutes (12 x net an hour), not over 15
    assert row["net_earnings"] > 0
    assert row["effective_wage"] == pytest.approx(row["net_earnings"] * 12)
    assert row["unpriced_hours"] * 60 == pytest.approx(10)


def test_weeks_start_on_monday() -> None:
    late = task(t(9, 10, 0), t(9, 10, 10), "approved")  # Sunday 9 March
    weeks = wages(assignments=[*MORNING, late], by=["week"])
    assert weeks.get_column("week").to_list() == [date(2025, 3, 3)]
    monday = task(t(10, 10, 0), t(10, 10, 10), "approved")
    assert wages(assignments=[*MORNING, monday], by=["week"]).height == 2


def test_payment_delays_median_and_90th_percentile() -> None:
    delays = payment_delays(frame(MORNING, ASSIGNMENT_SCHEMA), NO_EARNINGS, by=["platform"])
    row = delays.row(0, named=True)
    assert row["paid"] == 2
    assert row["median_delay_days"] == pytest.approx(4.5)  # 2 and 7 days
    assert row["p90_delay_days"] == pytest.approx(2 + 0.9 * 5)
    assert row["unpaid_earned"] == 1  # T5
    # As of the newest time in the data (T4's payment), T5 has waited 7 days less 23 minutes.
    age = (t(10, 10, 27) - t(3, 10, 50)).total_seconds() / 86400
    assert row["oldest_unpaid_days"] == pytest.approx(age)


def test_medians_and_means_across_workers() -> None:
    other = [task(t(3, 9, 0), t(3, 10, 0), "approved", reward="30", worker_id="w2")]
    ledger = pay_ledger(
        frame([*MORNING, *other], ASSIGNMENT_SCHEMA), NO_ENTRIES, NO_EARNINGS, FX, {}, 1.0, "USD"
    )
    spread = wages_across_workers(ledger, ["platform"]).row(0, named=True)
    w1 = 3.20 / (2240 / 3600)
    assert spread["median_effective_wage"] == pytest.approx((w1 + 30) / 2)
    assert spread["mean_effective_wage"] == pytest.approx((w1 + 30) / 2)
    assert spread["pooled_effective_wage"] == pytest.approx(33.20 / (5840 / 3600))
    assert spread["workers"] == 2
    per_worker = summarise_wages(ledger, ["worker_id"])
    assert per_worker.get_column("worker_id").to_list() == ["w1", "w2"]


def test_a_log_in_local_days_meets_tracked_time_in_utc_once() -> None:
    # The worker is 5 hours behind UTC and logs 1 h on 4 and on 5 March (local days). Tracked:
    # 20:00-21:30 local on the 4th (01:00-02:30 UTC on the 5th) and 23:45-00:15 local on the
    # 5th (04:45-05:15 UTC on the 6th), which crosses local midnight.
    entries = [
        entry(t(5, 1, 0), t(5, 2, 30), "task", "dataannotation"),
        entry(datetime(2025, 3, 6, 4, 45, tzinfo=UTC), t(6, 5, 15), "task", "dataannotation"),
    ]
    earnings = [logged(4, "20"), logged(5, "20")]
    row = wages(assignments=[], earnings=earnings, entries=entries).row(0, named=True)
    assert row["hours_worked"] == pytest.approx(2.0)  # 1.5 h + 0.5 h tracked, nothing twice
    by_day = wages(assignments=[], earnings=earnings, entries=entries, by=["day"])
    assert by_day.get_column("day").to_list() == [date(2025, 3, d) for d in (4, 5, 6)]
    assert by_day.get_column("hours_worked").to_list() == pytest.approx([1.5, 0.25, 0.25])


def test_a_tracked_entry_across_midnight_is_split_between_days() -> None:
    entries = [entry(t(3, 23, 30), t(4, 0, 30))]
    priced = task(t(3, 9, 0), t(3, 9, 5), "approved")  # the platform records pay
    days = wages(assignments=[priced], entries=entries, by=["day"])
    assert days.get_column("day").to_list() == [date(2025, 3, 3), date(2025, 3, 4)]
    tracked = days.get_column("tracking_adjustment_hours").to_list()
    assert tracked[1] == pytest.approx(0.5)
    assert tracked[0] == pytest.approx(0.5 - 5 / 60)  # the task's 5 minutes were no extra time
    alone = wages(assignments=[], entries=entries, by=["day"])  # no pay data at all
    assert alone.get_column("unpriced_hours").to_list() == pytest.approx([0.5, 0.5])
