"""Benchmark: the fairness audits, for speed and for false flags.

Speed (the default): every audit of `etl/marts/fairness.py` (pay equity, review fairness,
workload, label bias) on synthetic inputs of `--assignments` assignments by `--workers`
workers with `--samples` bootstrap resamples, in a child process whose peak RSS is measured,
against a reference in the same run: a plain DuckDB group-by of the same tables (each audit's
group rates with no interval or test):

    PYTHONPATH=. python -m bench.bench_fairness --assignments 10000000 --workers 20000

False flags: `crowdmeter simulate --no-effects` over `--seeds` seeds at `--scale`, each
ingested and published; the share of flagged tests on `mart_fairness_findings` pooled over the
seeds, against `alpha` (docs/METRICS.md promises at most that), beside one run with the effects
planted (the same seed 7 as the known-answer test) as the reference:

    PYTHONPATH=. python -m bench.bench_fairness --false-flags --seeds 20 --scale 0.5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

KEY = "bench-fairness-key"


def published_findings(folder: Path, seed: int, scale: float, effects: bool) -> pl.DataFrame:
    """Simulate, ingest (which publishes) and read `mart_fairness_findings`."""
    from etl.load import ingest
    from etl.reader import SnapshotReader
    from etl.settings import load_settings
    from simulate.workforce import simulate

    truth = simulate(folder / "exports", seed=seed, scale=scale, effects=effects).as_dict()
    before = os.environ.get("CROWDMETER_PSEUDONYM_KEY")
    os.environ["CROWDMETER_PSEUDONYM_KEY"] = KEY
    try:
        settings = load_settings(folder / "exports" / "config.toml", data_dir=folder / "data")
        report = ingest(settings, [folder / "exports" / f["path"] for f in truth["files"]])
    finally:
        if before is None:
            del os.environ["CROWDMETER_PSEUDONYM_KEY"]
        else:
            os.environ["CROWDMETER_PSEUDONYM_KEY"] = before
    if report.status != "succeeded":
        raise SystemExit(f"ingest of seed {seed} {report.status}")
    return SnapshotReader(settings).frame("SELECT * FROM mart_fairness_findings")


def false_flags(seeds: int, scale: float, first_seed: int) -> dict:
    from etl.settings import load_settings
    from metrics.fairness.findings import flag_counts

    alpha = load_settings().fairness.alpha
    rows, by_flag = [], Counter()
    for seed in range(first_seed, first_seed + seeds):
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            frame = published_findings(Path(tmp), seed, scale, effects=False)
        tests, flagged = flag_counts(frame)
        by_flag.update(f for f in frame["flag"].drop_nulls() if f != "suppressed")
        rows.append({"seed": seed, "tests": tests, "flagged": flagged,
                     "seconds": round(time.perf_counter() - started, 1)})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        planted = published_findings(Path(tmp), 7, scale, effects=True)
    tests = sum(r["tests"] for r in rows)
    flagged = sum(r["flagged"] for r in rows)
    planted_tests, planted_flagged = flag_counts(planted)
    return {
        "scale": scale,
        "seeds": seeds,
        "tests": tests,
        "flagged": flagged,
        "share_flagged": round(flagged / max(tests, 1), 4),
        "promised_at_most": alpha,
        "seeds_with_a_flag": sum(r["flagged"] > 0 for r in rows),
        "flags": dict(by_flag),
        "reference_planted_seed_7": {"tests": planted_tests, "flagged": planted_flagged},
        "per_seed": rows,
    }


# --- speed -----------------------------------------------------------------------------------
PLATFORMS = 4
PROJECTS = 20  # fields audited for label bias: one per project
DAYS = 90
REVIEWERS = 60


def build_warehouse(path: Path, assignments: int, workers: int, seed: int = 1) -> None:
    """The warehouse tables the audits read (only the columns `INPUT_SQL` uses), synthetic:
    `assignments` assignments (one first answer each, on items of five answers) by `workers`
    workers on `PLATFORMS` platforms and `PROJECTS` projects, two worker attributes, one
    data-subject attribute, gold on a tenth of the items, reviews by `REVIEWERS` reviewers, and
    the pay ledger per worker, project and day."""
    import duckdb

    con = duckdb.connect(str(path))
    con.execute(f"SELECT setseed({1 / (seed + 1)})")
    items = max(assignments // 5, 1)
    con.execute(f"""
        CREATE TABLE workers AS
        SELECT 'w' || i AS worker_id, 'p' || (i % {PLATFORMS}) AS platform,
               json_object('gender', CASE WHEN r < 0.40 THEN 'woman' WHEN r < 0.85 THEN 'man'
                                          WHEN r < 0.88 THEN 'nonbinary' END,
                           'age_band', ['18-24', '25-34', '35-44', '45+'][1 + (i * 7) % 4])
                   AS attributes
        FROM (SELECT range AS i, random() AS r FROM range({workers}))""")
    con.execute(f"""
        CREATE TABLE projects AS
        SELECT 'p' || (j % {PLATFORMS}) AS platform, 'j' || j AS project_id,
               ['classification', 'moderation', 'rating'][1 + j % 3] AS task_type
        FROM range({PROJECTS}) t(j)""")
    con.execute("""
        CREATE TABLE mart_project_fields AS
        SELECT platform, project_id, 'label' AS field, false AS has_regions FROM projects""")
    con.execute(f"""
        CREATE TABLE items AS
        SELECT 'p' || (j % {PLATFORMS}) AS platform, 'j' || j AS project_id, 'i' || k AS item_id,
               CASE WHEN random() < 0.1 THEN (CASE WHEN random() < 0.3 THEN 'b' ELSE 'a' END)
               END AS gold_value,
               json_object('dialect', CASE WHEN random() < 0.3 THEN 'x' ELSE 'y' END)
                   AS attributes
        FROM (SELECT range AS k, range % {PROJECTS} AS j FROM range({items}))""")
    con.execute(f"""
        CREATE TABLE assignments AS
        WITH a AS (
            SELECT range AS uid, (random() * {items})::BIGINT % {items} AS k,
                   random() AS r, random() AS s
            FROM range({assignments}))
        SELECT uid AS assignment_uid,
               'w' || ((k % {PROJECTS}) % {PLATFORMS}
                       + {PLATFORMS} * ((r * {workers})::BIGINT // {PLATFORMS}
                                        % ({workers} // {PLATFORMS}))) AS worker_id,
               'p' || ((k % {PROJECTS}) % {PLATFORMS}) AS platform,
               'j' || (k % {PROJECTS}) AS project_id, 'i' || k AS item_id,
               CASE WHEN s < 0.6 THEN 'r' || (uid % {REVIEWERS}) END AS reviewer_id,
               CASE WHEN s < 0.55 THEN 'approved' WHEN s < 0.6 THEN 'rejected'
                    ELSE 'submitted' END AS status,
               TIMESTAMPTZ '2025-01-01 00:00:00+00'
                   + to_seconds((r * 1e6)::BIGINT % {DAYS * 86400}) AS started_at,
               started_at + to_seconds(20 + (s * 100)::BIGINT) AS submitted_at,
               20 + s * 100 AS active_seconds, NULL::VARCHAR AS task_type
        FROM a""")
    con.execute("""
        CREATE TABLE annotations AS
        SELECT assignment_uid, 0 AS ordinal, 'label' AS field,
               CASE WHEN random() < 0.35 THEN 'b' ELSE 'a' END AS value,
               NULL::VARCHAR AS gold_value
        FROM assignments""")
    con.execute("""
        CREATE TABLE mart_earnings_ledger AS
        SELECT a.worker_id, a.platform, a.project_id, p.task_type,
               a.started_at::DATE AS day, count(*) AS priced_tasks,
               sum(a.active_seconds * (8 + hash(a.worker_id) % 5)) / 3600 AS gross_earnings,
               0.0 AS fees, sum(a.active_seconds) AS approved_seconds,
               0.0 AS rejected_seconds, 0.0 AS returned_seconds,
               sum(a.active_seconds) * 0.1 AS gap_seconds,
               0.0 AS tracking_adjustment_seconds, 0.0 AS unpaid_logged_seconds
        FROM assignments a JOIN projects p USING (platform, project_id)
        GROUP BY ALL""")
    con.close()


REFERENCE_SQL = {
    "pay_equity": """
        SELECT w.attributes->>'gender' AS g, median(e.wage), avg(e.wage), count(*)
        FROM (SELECT worker_id, platform, sum(gross_earnings - fees)
                     / sum(approved_seconds + gap_seconds) * 3600 AS wage
              FROM mart_earnings_ledger GROUP BY ALL) e JOIN workers w USING (worker_id, platform)
        GROUP BY 1""",
    "review_fairness": """
        SELECT w.attributes->>'gender' AS g, a.reviewer_id,
               avg((a.status = 'rejected')::INT), count(DISTINCT a.worker_id)
        FROM assignments a JOIN workers w USING (worker_id, platform)
        WHERE a.status IN ('approved', 'rejected') GROUP BY ALL""",
    "workload": """
        SELECT w.attributes->>'gender' AS g, sum(a.active_seconds) / 3600 / count(DISTINCT
               (a.worker_id, date_trunc('week', a.started_at))), count(DISTINCT a.worker_id)
        FROM assignments a JOIN workers w USING (worker_id, platform) GROUP BY 1""",
    "label_bias": """
        SELECT a.project_id, i.attributes->>'dialect' AS g, avg((n.value = 'b')::INT),
               avg((n.value = 'b')::INT) FILTER (WHERE i.gold_value = 'a'), count(*)
        FROM annotations n JOIN assignments a USING (assignment_uid)
        JOIN items i USING (platform, project_id, item_id) GROUP BY ALL""",
}


def child(args: argparse.Namespace) -> int:
    """In its own process: the audits (or the reference group-bys) on the warehouse
    `FAIRNESS_BENCH_DB`, printing seconds per audit and the process's peak RSS."""
    import duckdb

    con = duckdb.connect(os.environ["FAIRNESS_BENCH_DB"], read_only=True)
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    started = time.perf_counter()
    if args.child == "reference":
        for name, sql in REFERENCE_SQL.items():
            t = time.perf_counter()
            counts[name] = len(con.sql(sql).fetchall())
            timings[name] = time.perf_counter() - t
    else:
        from etl.settings import load_settings
        from etl.warehouse import memory_for_python

        settings = load_settings(
            fairness={"bootstrap_samples": args.samples, "permutations": args.permutations}
        )
        with memory_for_python(con, settings):  # as the mart's build runs them
            for name, found in audit_timed(con, settings, timings):
                counts[name] = len(found)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes
    print(json.dumps({
        "seconds": round(time.perf_counter() - started, 2),
        "per_audit": {k: round(v, 2) for k, v in timings.items()},
        "rows_out": counts,
        "peak_rss_mb": round(peak / 2**20),
    }))  # fmt: skip
    return 0


def audit_timed(con, settings, timings: dict[str, float]):  # noqa: ANN001, ANN201
    """Each audit of `etl.marts.fairness.audit_warehouse`, the reading of its input included,
    timed."""
    from etl.marts import fairness as f

    t = time.perf_counter()
    people = f.people_of(con)
    timings["attributes"] = time.perf_counter() - t
    inputs = f.audit_inputs(con, settings)
    steps = (
        ("pay_equity", f.pay_findings),
        ("review_fairness", f.review_findings),
        ("workload", f.workload_findings),
        ("label_bias", f.label_findings),
    )
    for name, audit in steps:
        t = time.perf_counter()
        found = audit(inputs[name](), people, settings)
        timings[name] = time.perf_counter() - t
        yield name, found


def speed(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        t = time.perf_counter()
        build_warehouse(db, args.assignments, args.workers)
        print(f"warehouse of {args.assignments:,} assignments, {args.workers:,} workers built "
              f"in {time.perf_counter() - t:.1f}s")  # fmt: skip
        results = {}
        for which in ("reference", "audits"):
            out = subprocess.run(
                [sys.executable, "-m", "bench.bench_fairness", "--child", which,
                 "--samples", str(args.samples), "--permutations", str(args.permutations)],
                env={**os.environ, "FAIRNESS_BENCH_DB": str(db)},
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if out.returncode:
                print(out.stderr, file=sys.stderr)
                return out.returncode
            results[which] = json.loads(out.stdout.strip().splitlines()[-1])
            print(which, json.dumps(results[which]), flush=True)
    ratio = results["audits"]["seconds"] / max(results["reference"]["seconds"], 1e-9)
    print(f"audits {results['audits']['seconds']}s (goal < 60 s), peak "
          f"{results['audits']['peak_rss_mb']} MB (goal < 2048 MB); reference group-bys "
          f"{results['reference']['seconds']}s, peak {results['reference']['peak_rss_mb']} MB; "
          f"audits / reference = {ratio:.1f}x")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--false-flags", action="store_true", help="run the false-flag check")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--assignments", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--child", choices=["audits", "reference"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    print(f"{platform.node()} {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if args.false_flags:
        print(json.dumps(false_flags(args.seeds, args.scale, args.first_seed), indent=2))
        return 0
    return speed(args)


if __name__ == "__main__":
    sys.exit(main())
