"""The Monte Carlo forecast: 10,000 futures vectorised against a plain Python loop, and 200
projects' forecasts in a row.

Target (issue 14): forecasts for 200 projects (10,000 runs each) in under 2 seconds. The
reference is the same method written as a plain Python loop (each future: its own bootstrap
replicate of the window, then one `random.choice` per day until the scope is done), run in the
same process on the same history, so the ratio holds when the machine is noisy; the two must
agree on the P50/P85/P95 dates to within a day (they use different random streams).

    python -m bench.bench_forecast [--projects 200] [--runs 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import date, timedelta

import numpy as np
import polars as pl

from metrics.forecast import (
    WINDOW_DAYS,
    Milestone,
    completion_date,
    monte_carlo_forecast,
    throughput_window,
)

AS_OF = date(2026, 6, 1)


def project_history(seed: int) -> tuple[pl.DataFrame, int, list[Milestone]]:
    """A half-done project: 60 days of Poisson throughput at 10-40 units, about 2 days in 7
    off; the scope is twice what was done; two milestones ahead."""
    rng = np.random.default_rng(seed)
    rate = rng.uniform(10, 40)
    units = rng.poisson(rate, 60) * (rng.random(60) < 5 / 7)
    days = [AS_OF - timedelta(days=60 - i) for i in range(60)]
    done = int(units.sum())
    milestones = [
        Milestone("main", AS_OF + timedelta(days=30), int(done * 1.5)),
        Milestone("final", AS_OF + timedelta(days=70), 2 * done),
    ]
    return pl.DataFrame({"day": days, "units": units}), 2 * done, milestones


def python_loop_days(history: list[float], remaining: float, runs: int, seed: int) -> list[int]:
    """The reference: days each future needs, one Python step per simulated day."""
    draw = random.Random(seed)
    needed = []
    for _ in range(runs):
        own = [draw.choice(history) for _ in history]
        total, days = 0.0, 0
        while total < remaining:
            total += draw.choice(own)
            days += 1
            if days > 3650:
                break
        needed.append(days)
    return needed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    daily, scope, milestones = project_history(0)
    one = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        ours = monte_carlo_forecast(daily, scope, AS_OF, milestones, runs=args.runs)
        one.append(time.perf_counter() - start)
    vectorised_s = statistics.median(one)

    history, _ = throughput_window(daily, AS_OF, WINDOW_DAYS)
    start = time.perf_counter()
    loop_days = python_loop_days(history.tolist(), scope - ours.done, args.runs, seed=1)
    loop_s = time.perf_counter() - start
    loop_needed = np.array(loop_days, dtype=float)
    loop_dates = [completion_date(AS_OF, loop_needed, p) for p in (50, 85, 95)]
    ours_dates = [ours.p50, ours.p85, ours.p95]
    gap = max(abs((a - b).days) for a, b in zip(ours_dates, loop_dates, strict=True))

    projects = [project_history(seed) for seed in range(args.projects)]
    start, cpu_start = time.perf_counter(), time.process_time()
    for i, (frame, project_scope, project_milestones) in enumerate(projects):
        monte_carlo_forecast(frame, project_scope, AS_OF, project_milestones, runs=args.runs,
                             seed=i)  # fmt: skip
    many_s, many_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start

    print(f"one project ({scope - ours.done:,} units to go at {ours.mean_daily:.1f} a day, "
          f"2 milestones), {args.runs:,} runs: vectorised {vectorised_s * 1000:.1f} ms "
          f"(median of {args.repeats}), Python loop {loop_s:.2f} s -> "
          f"{loop_s / vectorised_s:.0f}x")  # fmt: skip
    print(
        f"P50/P85/P95 vectorised {', '.join(d.isoformat() for d in ours_dates)}; "
        f"loop {', '.join(d.isoformat() for d in loop_dates)}; largest gap {gap} day(s)"
    )
    print(f"{args.projects} projects x {args.runs:,} runs (scope and 2 milestones each): "
          f"{many_s:.2f} s ({many_s / args.projects * 1000:.1f} ms a project), "
          f"CPU {many_cpu_s:.2f} s")  # fmt: skip
    print(json.dumps({"vectorised_s": vectorised_s, "loop_s": loop_s, "date_gap_days": gap,
                      "projects": args.projects, "projects_s": many_s,
                      "projects_cpu_s": many_cpu_s}))  # fmt: skip


if __name__ == "__main__":
    main()
