"""Benchmark: effective hourly wage (sessions included) for every worker over many assignments.

Compares `metrics.pay.effective_wages` with a plain Polars implementation of the same
definition (sort on the keys, window functions, an as-of join per row) in the same run, checks
that both give the same wages, and prints the timings:

    .venv/bin/python bench/bench_earnings.py --rows 10000000
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date

import numpy as np
import polars as pl

from metrics.pay import effective_wages

UTC = pl.Datetime("us", "UTC")
PLATFORMS = ["mturk", "toloka", "appen", "prolific"]
FEES = {"mturk": 0.0, "toloka": 0.03, "appen": 0.0, "prolific": 0.05}
STATUSES = ["approved", "rejected", "returned", "abandoned", "submitted", "expired"]
STATUS_SHARES = [0.86, 0.05, 0.03, 0.02, 0.03, 0.01]
GAP_MINUTES = 1.0


def simulated_assignments(rows: int, workers: int, seed: int) -> pl.DataFrame:
    """Task logs: each worker works runs of tasks with short gaps and long breaks between."""
    rng = np.random.default_rng(seed)
    worker = np.sort(rng.integers(0, workers, rows))
    duration = rng.lognormal(np.log(120), 0.6, rows)
    gap = np.where(rng.random(rows) < 0.9, rng.exponential(25, rows), rng.exponential(7200, rows))
    # Some tasks are opened before the previous one is submitted (overlaps).
    gap = np.where(rng.random(rows) < 0.05, -duration * 0.5, gap)
    start = 1.735689600e9 + np.cumsum(gap + np.concatenate([[0.0], duration[:-1]]))
    start_us = (start * 1e6).astype(np.int64)
    end_us = start_us + (duration * 1e6).astype(np.int64)
    status = rng.choice(STATUSES, rows, p=STATUS_SHARES)
    paid = (status == "approved") & (rng.random(rows) < 0.9)
    paid_us = np.where(paid, end_us + rng.integers(3_600, 10 * 86_400, rows) * 1_000_000, 0)
    frame = pl.DataFrame(
        {
            "worker_id": pl.Series(worker).cast(pl.String).str.pad_start(8, "0"),
            "platform": np.array(PLATFORMS)[worker % len(PLATFORMS)],
            "project_id": pl.Series(rng.integers(0, 50, rows)).cast(pl.String),
            "task_type": np.array(["bbox", "ranking", "transcription"])[rng.integers(0, 3, rows)],
            "started_at": pl.Series(start_us).cast(UTC),
            "submitted_at": pl.Series(end_us).cast(UTC),
            "active_seconds": duration,
            "status": status,
            "reward": np.round(rng.uniform(0.01, 1.0, rows), 2),
            "bonus": np.where(rng.random(rows) < 0.05, 0.10, np.nan),
            "currency": np.where(rng.random(rows) < 0.2, "EUR", "USD"),
            "reviewed_at": pl.Series(np.where(paid, paid_us, end_us)).cast(UTC),
            "paid_at": pl.Series(paid_us).cast(UTC),
            "paid": paid,
        }
    )
    # Prolific-like rows without a start: the end minus the platform's active seconds.
    frame = frame.with_columns(
        started_at=pl.when(pl.col("platform") == "prolific").then(None).otherwise("started_at"),
        bonus=pl.col("bonus").fill_nan(None),
        paid_at=pl.when("paid").then("paid_at"),
    ).drop("paid")
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)


def fx_rates() -> pl.DataFrame:
    days = pl.date_range(date(2024, 1, 1), date(2026, 12, 31), "1mo", eager=True)
    rate = 1.05 + 0.05 * np.sin(np.arange(len(days)))
    return pl.concat(
        [
            pl.DataFrame({"currency": "EUR", "day": days, "usd_per_unit": rate}),
            pl.DataFrame({"currency": ["USD"], "day": [date(2000, 1, 1)], "usd_per_unit": [1.0]}),
        ]
    )


def plain_polars_wages(assignments: pl.DataFrame, fx: pl.DataFrame) -> pl.DataFrame:
    """The same definition written plainly: sort on the keys, windows, an as-of join per row."""
    keys = ["worker_id", "platform"]
    gap = pl.duration(seconds=GAP_MINUTES * 60)
    rows = assignments.with_columns(
        s=pl.coalesce("started_at", pl.col("submitted_at") - pl.duration(seconds="active_seconds")),
        e=pl.col("submitted_at"),
    ).sort([*keys, "s", "e"])
    rows = rows.with_columns(reach=pl.col("e").cum_max().shift(1).over(keys))
    new = pl.col("reach").is_null() | (pl.col("s") > pl.col("reach") + gap)
    seconds = (pl.col("e") - pl.max_horizontal("s", "reach")).dt.total_microseconds() / 1e6
    rows = rows.with_columns(
        covered=seconds.clip(lower_bound=0.0),
        gap=pl.when(new)
        .then(0.0)
        .otherwise((pl.col("s") - pl.col("reach")).dt.total_microseconds() / 1e6)
        .clip(lower_bound=0.0),
        pay_day=pl.coalesce("paid_at", "reviewed_at", "e").dt.date(),
    )
    rows = rows.sort("pay_day").join_asof(
        fx.sort("day"), left_on="pay_day", right_on="day", by="currency", check_sortedness=False
    )
    approved = (pl.col("status") == "approved") | (
        (pl.col("status") == "submitted") & pl.col("paid_at").is_not_null()
    )
    pending = (pl.col("status") == "submitted") & pl.col("paid_at").is_null()
    fee = pl.col("platform").replace_strict(FEES, default=0.0)
    money = (pl.col("reward") + pl.col("bonus").fill_null(0.0)) * pl.col("usd_per_unit")
    sums = rows.group_by(keys).agg(
        net=pl.when(approved).then(money * (1 - fee)).otherwise(0.0).sum(),
        worked=pl.when(pending).then(0.0).otherwise(pl.col("covered")).sum() + pl.col("gap").sum(),
    )
    return sums.select(*keys, effective_wage=pl.col("net") / (pl.col("worked") / 3600))


def timed(label: str, work):
    """Run `work`; print wall-clock and CPU seconds (CPU time is steadier on a busy machine)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds = time.perf_counter() - started
    print(f"{label:48} {seconds:7.2f} s wall {time.process_time() - cpu:7.2f} s cpu")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{platform.node()}: {os.cpu_count()} cores, load {load:.1f}, polars {pl.__version__}")
    assignments, _ = timed(
        f"simulate {args.rows:,} assignments", lambda: simulated_assignments(
            args.rows, args.workers, args.seed)
    )  # fmt: skip
    fx = fx_rates()
    empty = {
        "time_entries": pl.DataFrame(
            schema={"worker_id": pl.String, "platform": pl.String, "project_id": pl.String,
                    "started_at": UTC, "ended_at": UTC, "seconds": pl.Float64,
                    "activity": pl.String}),
        "earnings": pl.DataFrame(
            schema={"worker_id": pl.String, "platform": pl.String, "project_id": pl.String,
                    "task_type": pl.String, "day": pl.Date, "tasks": pl.Int64,
                    "seconds": pl.Float64, "amount": pl.Float64, "currency": pl.String,
                    "status": pl.String, "paid_at": UTC}),
    }  # fmt: skip
    ours, ours_s = timed(
        "metrics.pay.effective_wages (workers x platform)",
        lambda: effective_wages(
            assignments, empty["time_entries"], empty["earnings"], fx, FEES,
            by=["worker_id", "platform"], gap_minutes=GAP_MINUTES, reporting_currency="USD",
        ),
    )  # fmt: skip
    plain, plain_s = timed("plain Polars, same definition", lambda: plain_polars_wages(
        assignments, fx))  # fmt: skip
    both = ours.join(plain, on=["worker_id", "platform"], suffix="_plain")
    worst = both.select(
        (pl.col("effective_wage") - pl.col("effective_wage_plain")).abs().max()
    ).item()
    print(f"workers x platforms: {ours.height:,}; largest wage difference {worst:.2e}")
    print(f"ratio plain / ours: {plain_s / ours_s:.2f}")
    if ours.height != plain.height or worst > 1e-6:
        raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
