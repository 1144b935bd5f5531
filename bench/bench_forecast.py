"""The Monte Carlo forecast of 200 projects (10,000 runs each): batched on shared draws against
the previous implementation, in the same run; and one project against a plain Python loop.

Target (issue 14): forecasts for 200 projects (10,000 runs each) in under 2 seconds. Timed on
the same 200 half-done projects, one after another in each round so that every variant sees
the same load:

- *previous*: `metrics/forecast.py` as it was before `metrics/futures.py` came (read from git,
  `--reference` to pick another revision), one `monte_carlo_forecast` per project;
- *one by one*: today's `monte_carlo_forecast` per project (each draws its own futures);
- *batched*: today's `monte_carlo_forecasts` of all 200 (one draw per window length), what
  `crowdmeter forecast`, `alerts` and the Project page use.

Checks: the batched forecasts equal the one-by-one ones exactly; against the previous
implementation (other random streams) the P50/P85/P95 dates differ by at most a day or two and
the milestone probabilities by a few points. The plain Python loop (each future its own
bootstrap replicate by `random.choice`, then one `random.choice` per day) must give the same
P50/P85/P95 dates as the vectorised forecast within a day.

    python -m bench.bench_forecast [--projects 200] [--runs 10000] [--repeats 5] [--reference REV]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from etl.settings import Settings
from etl.tracking import track_projects
from metrics.forecast import (
    WINDOW_DAYS,
    Forecast,
    ForecastRequest,
    Milestone,
    completion_date,
    monte_carlo_forecast,
    monte_carlo_forecasts,
    throughput_window,
)

AS_OF = date(2026, 6, 1)
ROOT = Path(__file__).resolve().parents[1]


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


def previous_module(reference: str | None) -> tuple[types.ModuleType, str]:
    """`metrics/forecast.py` at `reference` (default: the commit before `metrics/futures.py`
    was added, else HEAD), loaded as a module of its own."""
    git = ["git", "-C", str(ROOT)]
    if reference is None:
        added = subprocess.run(
            [*git, "log", "--diff-filter=A", "--format=%H", "--", "metrics/futures.py"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        reference = f"{added[-1]}^" if added else "HEAD"
    commit = subprocess.run([*git, "rev-parse", "--short", reference], capture_output=True,
                            text=True, check=True).stdout.strip()  # fmt: skip
    source = subprocess.run([*git, "show", f"{commit}:metrics/forecast.py"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    module = types.ModuleType("previous_forecast")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{commit}:metrics/forecast.py", "exec"), module.__dict__)  # noqa: S102
    return module, commit


def tracking_warehouse(projects: list[tuple[pl.DataFrame, int, list[Milestone]]]):
    """An in-memory warehouse holding the projects' plans, milestones and the three project
    marts `etl.tracking` reads (their size depends on projects x days, not on assignments:
    10 million assignments over 200 projects make marts of this size)."""
    import duckdb

    from etl.warehouse import apply_migrations

    con = duckdb.connect()
    apply_migrations(con)
    plans, milestones, daily, quality, hours = [], [], [], [], []
    for i, (frame, scope, marks) in enumerate(projects):
        start = frame["day"].min()
        plans.append(("bench", f"p{i}", start, AS_OF + timedelta(days=80), scope, 1,
                      scope * 0.05, "USD", 0.9, 0.6))  # fmt: skip
        milestones += [("bench", f"p{i}", m.name, m.due, m.target) for m in marks]
        units = frame["units"].to_numpy()
        for day, n in zip(frame["day"], units, strict=True):
            daily.append(("bench", f"p{i}", day, int(n), int(n), int(n) // 20, n * 0.04, 0.0,
                          0.0))  # fmt: skip
        for week in range(8):
            monday = start + timedelta(days=7 * week - start.weekday())
            quality += [("bench", f"p{i}", "gold_accuracy", monday, 0.9, 50),
                        ("bench", f"p{i}", "agreement", monday, 0.65, 50)]  # fmt: skip
            hours += [("bench", f"p{i}", f"w{w}", monday, 20.0 + w) for w in range(10)]
    con.executemany(
        "INSERT INTO projects (platform, project_id, starts_on, due_on, "
        "target_items, labels_per_item, budget, currency, gold_accuracy_target, "
        "agreement_target) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        plans,
    )
    con.executemany("INSERT INTO milestones (platform, project_id, name, due_on, target_items)"
                    " VALUES (?, ?, ?, ?, ?)", milestones)  # fmt: skip
    tables = {
        "mart_project_daily": (daily, "platform VARCHAR, project_id VARCHAR, day DATE, "
                               "units BIGINT, reviewed BIGINT, rejected BIGINT, rewards DOUBLE, "
                               "bonuses DOUBLE, fees DOUBLE"),
        "mart_project_quality_weekly": (quality, "platform VARCHAR, project_id VARCHAR, "
                                        "metric VARCHAR, week DATE, value DOUBLE, n BIGINT"),
        "mart_project_weekly_hours": (hours, "platform VARCHAR, project_id VARCHAR, "
                                      "worker_id VARCHAR, week DATE, hours DOUBLE"),
    }  # fmt: skip
    for table, (rows, columns) in tables.items():
        con.execute(f"CREATE TABLE {table} ({columns})")
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    return con


def python_loop_days(history: list[float], remaining: float, runs: int, seed: int) -> list[int]:
    """The reference of the method: days each future needs, one Python step per day."""
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


def timed(run: Callable[[], list[Forecast]]) -> tuple[float, list[Forecast]]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def gaps(ours: list[Forecast], theirs: list) -> tuple[int, float]:
    """Largest difference of a P50/P85/P95 date (days) and of a milestone probability."""
    days, points = 0, 0.0
    for a, b in zip(ours, theirs, strict=True):
        for x, y in ((a.p50, b.p50), (a.p85, b.p85), (a.p95, b.p95)):
            days = max(days, abs((x - y).days))
        for m, n in zip(a.milestones, b.milestones, strict=True):
            points = max(points, abs(m.probability - n.probability))
    return days, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reference", help="git revision of the previous implementation")
    args = parser.parse_args()
    previous, commit = previous_module(args.reference)

    projects = [project_history(seed) for seed in range(args.projects)]
    requests = [ForecastRequest(daily, scope, AS_OF, ms) for daily, scope, ms in projects]
    variants: dict[str, Callable[[], list]] = {
        "previous": lambda: [previous.monte_carlo_forecast(r.daily, r.scope, AS_OF, r.milestones,
                                                           runs=args.runs) for r in requests],
        "one_by_one": lambda: [monte_carlo_forecast(r.daily, r.scope, AS_OF, r.milestones,
                                                    runs=args.runs) for r in requests],
        "batched": lambda: monte_carlo_forecasts(requests, runs=args.runs),
    }  # fmt: skip
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    results: dict[str, list] = {}
    for _ in range(args.repeats):  # each round runs every variant, so they share the load
        for name, run in variants.items():
            elapsed, results[name] = timed(run)
            seconds[name].append(elapsed)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    assert results["batched"] == results["one_by_one"], "batched forecasts differ from single"
    day_gap, point_gap = gaps(results["batched"], results["previous"])

    con = tracking_warehouse(projects)
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))

    def query(sql: str, params: dict | None) -> pl.DataFrame:
        return con.sql(sql, params=params).pl()

    tracked = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        statuses = track_projects(query, settings, as_of=AS_OF)
        tracked.append(time.perf_counter() - start)
    assert len(statuses) == args.projects
    track_s = statistics.median(tracked)

    daily, scope, milestones = projects[0]
    ours = results["batched"][0]
    history, _ = throughput_window(daily, AS_OF, WINDOW_DAYS)
    loop_start = time.perf_counter()
    loop_days = python_loop_days(history.tolist(), scope - ours.done, args.runs, seed=1)
    loop_s = time.perf_counter() - loop_start
    loop_needed = np.array(loop_days, dtype=float)
    loop_dates = [completion_date(AS_OF, loop_needed, p) for p in (50, 85, 95)]
    loop_gap = max(abs((a - b).days) for a, b in
                   zip([ours.p50, ours.p85, ours.p95], loop_dates, strict=True))  # fmt: skip

    print(f"{args.projects} projects x {args.runs:,} runs (scope and 2 milestones each), "
          f"median of {args.repeats} rounds:")  # fmt: skip
    for name, label in (("previous", f"previous ({commit}), one by one"),
                        ("one_by_one", "today's, one by one"),
                        ("batched", "today's, batched")):  # fmt: skip
        print(f"  {label:32} {median[name]:.2f} s "
              f"({min(seconds[name]):.2f}-{max(seconds[name]):.2f})")  # fmt: skip
    print(
        f"  batched / previous: {median['previous'] / median['batched']:.1f}x faster; "
        f"batched = one by one: yes; against previous: dates within {day_gap} day(s), "
        f"milestone probabilities within {point_gap * 100:.1f} points"
    )
    print(f"track_projects (forecast, budget, gates, alerts) of the {args.projects} from an "
          f"in-memory warehouse: {track_s:.2f} s (median of {args.repeats})")  # fmt: skip
    print(f"one project, Python loop: {loop_s:.2f} s; its P50/P85/P95 within {loop_gap} day(s)")
    print(json.dumps({"reference": commit, "projects": args.projects, "runs": args.runs,
                      **{f"{name}_s": value for name, value in median.items()},
                      "date_gap_days": day_gap, "probability_gap": point_gap,
                      "track_projects_s": track_s,
                      "loop_s": loop_s, "loop_date_gap_days": loop_gap}))  # fmt: skip


if __name__ == "__main__":
    main()
