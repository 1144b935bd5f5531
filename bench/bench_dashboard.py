"""Dashboard under load: concurrent simulated users on every page while snapshots are published.

    python -m bench.bench_dashboard [--assignments 10000000] [--users 8] [--seconds 60]
        [--changed-projects 5] [--data-dir DIR]

Builds a synthetic warehouse (DuckDB `range()`), publishes it with the marts, serves the app
under gunicorn (`crowdmeter serve`'s server), then each simulated user logs in and loops over
the pages: a first render (HTML, layout, dependencies, shell and page callbacks) and then page
callbacks with changing filters. Meanwhile another process acts as an ingest would, over and
over: it changes the review status of some assignments of `--changed-projects` projects (a
re-exported batch) and publishes (marts rebuilt, snapshot copied, CURRENT replaced), at the
ETL's own priority (`etl_nice`). Prints p50/p95 per page, the error count and the publishes
with their durations, and, as the reference in the same run, the Overview headline query on the
raw `assignments` table against the same figure read from `mart_activity_daily`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import duckdb

from dashboard.users import UserStore
from etl.settings import Settings

# etl.publish and etl.warehouse are imported where they are used: the server's process imports
# this module, and it must fork gunicorn's workers before anything starts Polars' thread pool,
# or they hang on their first query (tests/test_fork_safe.py keeps imports free of Polars work)

PAGES = ["/", "/quality", "/earnings", "/pipeline", "/project"]
SEARCHES = [
    "",
    "?platform=mturk",
    "?from=2024-02-01&to=2024-03-31",
    "?project=toloka:p7",
    # the Project page's chosen project, forecast as of a past day (a day the others filter on)
    "?focus=appen:p2&to=2024-04-30",
]
PASSWORD = "bench-password"
PROJECTS = 50  # projects of the synthetic warehouse
# A re-exported batch: some assignments of the chosen projects change review status.
REEXPORT_SQL = """
UPDATE assignments SET status = CASE status WHEN 'approved' THEN 'submitted' ELSE 'approved' END
WHERE list_contains($projects, project_id) AND status IN ('approved', 'submitted')
    AND hash(assignment_uid, $round) % 20 = 0
"""

SYNTHETIC_SQL = """
INSERT INTO platforms VALUES ('mturk', 'MTurk', 'marketplace', 'USD', 0),
    ('toloka', 'Toloka', 'marketplace', 'USD', 0), ('appen', 'Appen', 'marketplace', 'USD', 0);
INSERT INTO etl_runs VALUES (1, 'cli', now(), now(), 'succeeded');
INSERT INTO etl_files SELECT i, 1, ['mturk', 'toloka', 'appen'][i % 3 + 1], 'bench/' || i,
    'x', ['mturk', 'toloka', 'appen'][i % 3 + 1], 1000, 1000, 0, 0, 'loaded', NULL, now()
    FROM range(1, 31) t(i);
INSERT INTO assignments SELECT
    'a' || i, ['mturk', 'toloka', 'appen'][p % 3 + 1], 'p' || p, 'u' || (i // 3),
    'w_' || lpad((((i // 300) * 3 + i % 3) % $workers)::VARCHAR, 20, '0'), 'classification',
    TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds((i * 1.55)::BIGINT),
    TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds((i * 1.55)::BIGINT + 45),
    40 + i % 30,
    ['approved', 'approved', 'approved', 'rejected', 'submitted', 'returned'][i % 6 + 1],
    0.05, 0, 'USD', i % 10 = 0, NULL, NULL, NULL, i % 30 + 1
-- work comes in sessions as on real platforms: the three ratings of an item go to three
-- workers, each of whom labels a run of 100 consecutive items of one project
FROM (SELECT i, (i // 3000) % $projects AS p FROM range($n) t(i));
-- every project planned, as a manager would (the Project page's forecast, budget and gates):
-- the target a third more items than will have been accepted, two milestones
INSERT INTO projects (platform, project_id, name, task_type, starts_on, due_on, target_items,
    labels_per_item, budget, currency, gold_accuracy_target, agreement_target, file_id)
SELECT platform, project_id, 'Bench ' || project_id, 'classification', DATE '2024-01-01',
    DATE '2024-08-31', (count(DISTINCT item_id) * 0.7)::BIGINT, 3, sum(reward) * 1.5, 'USD',
    0.8, 0.6, 1
FROM assignments GROUP BY platform, project_id;
INSERT INTO milestones (platform, project_id, name, due_on, target_items, file_id)
SELECT platform, project_id, m.name, m.due_on, (target_items * m.share)::BIGINT, 1
FROM projects, (VALUES ('Pilot', DATE '2024-02-15', 0.2), ('Most', DATE '2024-07-15', 0.8))
    m(name, due_on, share);
INSERT INTO annotations (assignment_uid, field, value, gold_value, file_id)
SELECT 'a' || i, 'label', ['pos', 'neg', 'neutral'][(i * 31 + i // 3) % 7 % 3 + 1],
    CASE WHEN i % 10 = 0 THEN 'pos' END, i % 30 + 1 FROM range($n) t(i);
"""


def build_warehouse(settings: Settings, n: int) -> float:
    """Synthetic warehouse of `n` assignments, published once; returns seconds taken."""
    from etl.publish import publish
    from etl.warehouse import open_warehouse

    started = time.monotonic()
    with open_warehouse(settings) as con:
        con.execute("SET enable_progress_bar = false")
        if con.sql("SELECT count(*) FROM assignments").fetchall()[0][0] == 0:
            values = {"n": n, "workers": max(n // 500, 50), "projects": PROJECTS}
            for statement in filter(str.strip, SYNTHETIC_SQL.split(";")):
                used = {k: v for k, v in values.items() if f"${k}" in statement}
                con.execute(statement, used or None)
        publish(con, settings, 1)
    return time.monotonic() - started


def build_in_child(settings_json: str, n: int, took: Any) -> None:
    """`build_warehouse` in its own process: the ETL lowers its priority for good, and the
    simulated users must not inherit that."""
    took.value = build_warehouse(Settings.model_validate_json(settings_json), n)


def republish_forever(settings_json: str, stop_after: float, changed: int, log: Any) -> None:
    """Ingest-like runs back to back: change `changed` projects' statuses, then publish."""
    from etl.publish import publish
    from etl.warehouse import open_warehouse

    settings = Settings.model_validate_json(settings_json)
    deadline = time.monotonic() + stop_after
    run_id = 2
    while time.monotonic() < deadline:
        started = time.monotonic()
        with open_warehouse(settings) as con:
            con.execute("SET enable_progress_bar = false")  # keeps the report readable
            projects = [f"p{(run_id * changed + k) % PROJECTS}" for k in range(changed)]
            con.execute(REEXPORT_SQL, {"projects": projects, "round": run_id})
            publish(con, settings, run_id)
        log.put(time.monotonic() - started)
        run_id += 1
        time.sleep(2)


def serve(settings_json: str, port: int, workers: int) -> None:
    from cli.server import DashboardServer

    settings = Settings.model_validate_json(settings_json)
    DashboardServer(settings, {"bind": f"127.0.0.1:{port}", "workers": workers}).run()


class SimulatedUser:
    """One logged-in browser's worth of requests."""

    def __init__(self, base: str, name: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        form = self.opener.open(base + "/login", timeout=60).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        body = f"username={name}&password={PASSWORD}&csrf_token={token}".encode()
        self.opener.open(base + "/login", data=body, timeout=60).read()
        # the shell's callback (navigation, viewer, filters), as the browser finds it
        dependencies = json.loads(self.opener.open(base + "/_dash-dependencies", timeout=60).read())
        (self.shell,) = [d["output"] for d in dependencies if "nav.children" in d["output"]]

    def get(self, path: str) -> None:
        self.opener.open(self.base + path, timeout=60).read()

    def callback(self, output: str, inputs: list[dict]) -> None:
        payload = {
            "output": output,
            "outputs": _outputs(output),
            "inputs": inputs,
            "state": [],
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        }
        request = urllib.request.Request(
            self.base + "/_dash-update-component",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        self.opener.open(request, timeout=60).read()

    def page(self, path: str, search: str) -> None:
        url = [
            {"id": "url", "property": p, "value": v}
            for p, v in (("pathname", path), ("search", search))
        ]
        self.callback("page.children", url)

    def first_render(self, path: str) -> None:
        self.get(path)
        self.get("/_dash-layout")
        self.get("/_dash-dependencies")
        url = [
            {"id": "url", "property": p, "value": v}
            for p, v in (("pathname", path), ("search", ""))
        ]
        self.callback(self.shell, url)
        self.page(path, "")


def _outputs(output: str) -> list[dict] | dict:
    if not output.startswith(".."):
        component, prop = output.rsplit(".", 1)
        return {"id": component, "property": prop}
    return [
        dict(zip(("id", "property"), p.rsplit(".", 1), strict=True))
        for p in output.strip(".").split("...")
    ]


def user_loop(base: str, seconds: float, results: dict, errors: list, seed: int) -> None:
    rng = random.Random(seed)
    user = SimulatedUser(base, "bench-admin")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        path = rng.choice(PAGES)
        search = rng.choice(SEARCHES)
        for kind, action in (
            ("first render", lambda p=path: user.first_render(p)),
            ("callback", lambda p=path, s=search: user.page(p, s)),
        ):
            started = time.monotonic()
            try:
                action()
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                errors.append(f"{path} {kind}: {exc}")
                continue
            results.setdefault((path, kind), []).append((started, time.monotonic() - started))


def reference_queries(settings: Settings) -> dict[str, float]:
    """The Overview headline on raw assignments vs on the mart, timed on the snapshot."""
    name = (settings.snapshots_dir / "CURRENT").read_text().strip()
    con = duckdb.connect(
        str(settings.snapshots_dir / name),
        read_only=True,
        config={"threads": settings.reader.threads},
    )
    timings = {}
    for label, sql in {
        "raw assignments": "SELECT count(*), count(DISTINCT worker_id), "
        "count(*) FILTER (WHERE status = 'rejected') FROM assignments",
        "mart_activity_daily": "SELECT sum(assignments), count(DISTINCT worker_id), "
        "sum(rejected) FROM mart_activity_daily",
    }.items():
        started = time.monotonic()
        for _ in range(5):
            con.sql(sql).fetchall()
        timings[label] = (time.monotonic() - started) / 5
    con.close()
    return timings


def watch_snapshots(settings: Settings, stop: threading.Event, switches: list[float]) -> None:
    """Note when CURRENT names a new snapshot: the web workers' caches start cold then."""
    current = (settings.snapshots_dir / "CURRENT").read_text()
    while not stop.wait(0.2):
        name = (settings.snapshots_dir / "CURRENT").read_text()
        if name != current:
            current = name
            switches.append(time.monotonic())


def report(results: dict, switches: list[float], window: float) -> None:
    """p50/p95 per page and kind, over every request and over those in the first `window`
    seconds after a new snapshot."""
    for (path, kind), timed in sorted(results.items()):
        values = [d for _, d in timed]
        cold = [d for t, d in timed if any(0 <= t - s < window for s in switches)]
        after = f"p95={1000 * percentile(cold, 0.95):7.0f} ms (n={len(cold)})" if cold else "-"
        print(
            f"{path:<10} {kind:<13} n={len(values):<5} "
            f"p50={1000 * statistics.median(values):7.0f} ms  "
            f"p95={1000 * percentile(values, 0.95):7.0f} ms  after a new snapshot: {after}"
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, help="reuse a bench warehouse here")
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument(
        "--changed-projects",
        type=int,
        default=5,
        help="projects whose assignments each republish changes, as an ingest would",
    )
    parser.add_argument(
        "--after-snapshot",
        type=float,
        default=30,
        help="seconds after a new snapshot whose requests are also reported on their own",
    )
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-dash-"))
    os.environ.setdefault("CROWDMETER_PSEUDONYM_KEY", "bench-key")
    settings = Settings(data_dir=data_dir)
    blob = settings.model_dump_json()
    ctx = multiprocessing.get_context("spawn")
    print(f"building {args.assignments:,} assignments in {data_dir} ...", flush=True)
    took = ctx.Value("d", 0.0)
    builder = ctx.Process(target=build_in_child, args=(blob, args.assignments, took))
    builder.start()
    builder.join()
    print(f"warehouse + first publish: {took.value:.1f} s (ETL niceness {settings.etl_nice})")
    UserStore(settings).add("bench-admin", "admin", PASSWORD, replace=True)
    for label, seconds in reference_queries(settings).items():
        print(f"reference, Overview headline on {label}: {1000 * seconds:.1f} ms")
    server = ctx.Process(target=serve, args=(blob, args.port, args.workers), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{args.port}"
    _wait_until_up(base)
    publishes = ctx.Queue()
    publisher = ctx.Process(
        target=republish_forever,
        args=(blob, args.seconds, args.changed_projects, publishes),
        daemon=True,
    )
    publisher.start()
    results: dict = {}
    errors: list[str] = []
    switches: list[float] = []
    stop = threading.Event()
    watcher = threading.Thread(target=watch_snapshots, args=(settings, stop, switches))
    watcher.start()
    threads = [
        threading.Thread(target=user_loop, args=(base, args.seconds, results, errors, i))
        for i in range(args.users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    watcher.join()
    publisher.join(600)
    snapshots = (settings.snapshots_dir / "CURRENT").read_text().strip()
    server.terminate()
    print(
        f"{args.users} users, {args.seconds:.0f} s, {args.workers} gunicorn workers; "
        f"snapshot at the end: {snapshots}"
    )
    durations = [publishes.get() for _ in range(publishes.qsize())]
    print(
        f"publishes ({args.changed_projects} of {PROJECTS} projects changed each): "
        + ", ".join(f"{d:.0f} s" for d in durations)
    )
    print(f"new snapshots while users were on: {len(switches)}")
    report(results, switches, args.after_snapshot)
    print(f"errors: {len(errors)}", *errors[:10], sep="\n  ")


def _wait_until_up(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/login", timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise SystemExit("the dashboard did not start")


if __name__ == "__main__":
    main()
