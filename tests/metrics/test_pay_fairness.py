"""Fair-pay checks on hand-made ledgers: hours below the local floor, and the skip list."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics.fairpay import below_floor_share, hourly_floors, skip_list
from metrics.pay import COUNTS, LEDGER_KEYS, MONEY, SECONDS

FX = pl.DataFrame(
    {
        "currency": ["USD", "PHP"],
        "day": [date(2000, 1, 1), date(2025, 1, 1)],
        "usd_per_unit": [1.0, 0.02],
    }
)
FLOORS = pl.DataFrame(
    {
        "country": ["PH", "PH", "PH", "US"],
        "region": ["NCR", "Visayas", "NCR", ""],
        "currency": ["PHP", "PHP", "PHP", "USD"],
        "amount": [800.0, 500.0, 1000.0, 7.25],
        "unit": ["day", "day", "day", "hour"],
        "hours_basis": [None, None, None, None],
        "effective_from": [date(2025, 1, 1), date(2025, 1, 1), date(2025, 3, 2), date(2009, 7, 24)],
        "source": ["wage order A", "wage order V", "wage order B", "FLSA"],
    }
)


def ledger(rows: list[dict]) -> pl.DataFrame:
    """Ledger rows: seconds, counts and money default to zero."""
    zeros = dict.fromkeys([*SECONDS, *MONEY], 0.0) | dict.fromkeys(COUNTS, 0)
    full = [zeros | {"project_id": "p1", "task_type": "t"} | r for r in rows]
    return pl.DataFrame(full).select(*LEDGER_KEYS, *SECONDS, *COUNTS, *MONEY)


def day(d: int, hours: float, earned: float, worker="w1", task_type="t", tasks=2) -> dict:
    return {"worker_id": worker, "platform": "mturk", "day": date(2025, 3, d),
            "task_type": task_type, "approved_seconds": hours * 3600, "gross_earnings": earned,
            "tasks_approved": tasks, "priced_tasks": tasks}  # fmt: skip


def test_daily_and_monthly_floors_become_hourly_with_default_hours() -> None:
    floors = FLOORS.vstack(
        pl.DataFrame(
            {"country": ["NG"], "region": [""], "currency": ["NGN"], "amount": [69333.33],
             "unit": ["month"], "hours_basis": [None], "effective_from": [date(2024, 7, 29)],
             "source": ["Act 2024"]},
            schema=FLOORS.schema,
        )
    )  # fmt: skip
    hourly = hourly_floors(floors, hours_per_day=8, hours_per_week=40)
    per_hour = {(r["country"], r["effective_from"]): r for r in hourly.iter_rows(named=True)}
    # Two regional PH floors in force from 1 January: the lower (Visayas, 500/8) counts.
    assert per_hour[("PH", date(2025, 1, 1))]["floor_per_hour"] == pytest.approx(62.5)
    assert per_hour[("PH", date(2025, 3, 2))]["floor_per_hour"] == pytest.approx(125)
    assert per_hour[("NG", date(2024, 7, 29))]["floor_per_hour"] == pytest.approx(400, rel=1e-6)
    assert per_hour[("US", date(2009, 7, 24))]["floor_per_hour"] == 7.25


def test_share_of_hours_below_the_floor_of_the_day() -> None:
    # Floor 62.5 PHP/h = 1.25 USD until 2 March, then 125 PHP/h = 2.50 USD.
    rows = ledger([day(1, 2, 2.0), day(2, 1, 2.0), day(3, 1, 3.0), day(4, 1, 1.0, worker="w2")])
    workers = pl.DataFrame({"worker_id": ["w1", "w2"], "platform": ["mturk"] * 2,
                            "country": ["PH", None]})  # fmt: skip
    share = {r["worker_id"]: r for r in
             below_floor_share(rows, workers, FLOORS, FX, "USD").iter_rows(named=True)}  # fmt: skip
    # 1 March: 1.00/h vs 1.25 below (2 h); 2 March: 2.00/h vs 2.50 below (1 h); 3 March: above.
    assert share["w1"]["hours_below_floor"] == pytest.approx(3)
    assert share["w1"]["share_below_floor"] == pytest.approx(3 / 4)
    assert share["w1"]["floor_per_hour"] == pytest.approx(2.5)
    assert share["w1"]["days_below_floor"] == 2
    assert share["w2"]["share_below_floor"] is None  # no country known
    assert share["w2"]["hours_worked"] == pytest.approx(1)


def test_fees_count_against_the_floor() -> None:
    rows = ledger([day(3, 1, 3.0) | {"fees": 0.6}])  # 2.40 after fees < 2.50
    workers = pl.DataFrame({"worker_id": ["w1"], "platform": ["mturk"], "country": ["PH"]})
    assert below_floor_share(rows, workers, FLOORS, FX, "USD")["share_below_floor"][0] == 1.0


def test_skip_list_names_low_paying_task_types_with_an_interval() -> None:
    rows = [day(d, 1, 2.0, task_type="bbox") for d in range(1, 6)]
    rows += [day(d, 1, 10.0, task_type="ranking") for d in range(1, 6)]
    rows += [day(6, 1, 1.0, task_type="survey", tasks=3)]
    listed = skip_list(ledger(rows), 5.0, samples=200, seed=1)
    assert listed.get_column("task_type").to_list() == ["bbox"]  # survey: too few tasks
    row = listed.row(0, named=True)
    assert (row["tasks"], row["days"], row["effective_wage"]) == (10, 5, pytest.approx(2.0))
    assert row["ci_low"] == pytest.approx(2.0) and row["ci_high"] == pytest.approx(2.0)
    assert row["confidently_below"]


def test_skip_list_interval_is_wide_when_days_differ() -> None:
    rows = [day(1, 1, 0.5, tasks=5), day(2, 1, 9.0, tasks=5), day(3, 1, 3.0, tasks=5)]
    row = skip_list(ledger(rows), 5.0, samples=500, seed=2).row(0, named=True)
    assert row["effective_wage"] == pytest.approx(12.5 / 3)
    assert row["ci_low"] < 2 and row["ci_high"] > 6
    assert not row["confidently_below"]


def test_skip_list_takes_each_workers_own_threshold() -> None:
    rows = ledger([day(d, 1, 4.0, worker=w) for d in range(1, 4) for w in ("w1", "w2")])
    thresholds = pl.DataFrame({"worker_id": ["w1", "w2"], "platform": ["mturk"] * 2,
                               "threshold": [5.0, 3.0]})  # fmt: skip
    listed = skip_list(rows, thresholds, samples=0)
    assert listed.get_column("worker_id").to_list() == ["w1"]
    assert listed.get_column("ci_low").is_null().all()
