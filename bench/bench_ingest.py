"""Ingest of a 5-million-row MTurk batch CSV against DuckDB's own read_csv of the same file.

Target (issue 2): the whole ingest (parse, validate, pseudonymise, merge, publish) within 3x of
`CREATE TABLE ... AS SELECT * FROM read_csv(...)`, peak memory under 2 GB. Both sides run in
fresh subprocesses so each peak RSS is its own. A run publishes its data, then rebuilds the
dashboard's marts and publishes them: both moments are reported, and the peak covers both.

    python -m bench.bench_ingest [--rows 5000000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

HEADER_INPUTS = ("Input.id_str", "Input.text")
CHUNK = 500_000


def write_batch(path: Path, rows: int, seed: int = 1) -> None:
    """A requester batch-results CSV shaped like the real ones, written in chunks."""
    rng = np.random.default_rng(seed)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    mturk_time = "%a %b %d %H:%M:%S UTC %Y"
    with path.open("wb") as fh:
        for offset in range(0, rows, CHUNK):
            n = min(CHUNK, rows - offset)
            frame = pl.DataFrame(
                {
                    "i": np.arange(offset, offset + n),
                    "worker": rng.integers(0, 5000, n),
                    "accept_ms": rng.integers(0, 80 * 86400, n) * 1000,
                    "work": rng.integers(20, 400, n),
                    "AssignmentStatus": rng.choice(
                        ["Submitted", "Approved", "Rejected"], n, p=[0.2, 0.7, 0.1]
                    ),
                    "Answer.emotion.label": rng.choice(["Anger", "Fear", "Joy", "Sadness"], n),
                }
            )
            accept = pl.col("accept_ms").cast(pl.Duration("ms")) + pl.lit(start)
            submit = accept + (pl.col("work") * 1000).cast(pl.Duration("ms"))
            reviewed = submit + pl.duration(hours=20)
            status = pl.col("AssignmentStatus")
            frame = frame.select(
                pl.format(
                    "3Z56AA6EK40SK9X0AP43{}", (pl.col("i") // 3).cast(pl.String).str.zfill(10)
                ).alias("HITId"),
                pl.lit("3YC8VB1W14186NVOE69W1PKLZPRXUZ").alias("HITTypeId"),
                pl.lit("Which word best describes the emotion of this tweet?").alias("Title"),
                pl.lit("$0.04").alias("Reward"),
                pl.lit("Sat Feb 22 05:50:29 PST 2020").alias("CreationTime"),
                pl.lit("3").alias("MaxAssignments"),
                pl.lit("BatchId:3930024;OriginalHitTemplateId:928390866;").alias(
                    "RequesterAnnotation"
                ),
                pl.format(
                    "3PDJHANYK5G9FFUJ9UTS{}", pl.col("i").cast(pl.String).str.zfill(10)
                ).alias("AssignmentId"),
                pl.format("A{}X", pl.col("worker").cast(pl.String).str.zfill(12)).alias("WorkerId"),
                status,
                accept.dt.strftime(mturk_time).alias("AcceptTime"),
                submit.dt.strftime(mturk_time).alias("SubmitTime"),
                pl.when(status == "Approved")
                .then(reviewed.dt.strftime(mturk_time))
                .alias("ApprovalTime"),
                pl.when(status == "Rejected")
                .then(reviewed.dt.strftime(mturk_time))
                .alias("RejectionTime"),
                pl.col("work").cast(pl.String).alias("WorkTimeInSeconds"),
                pl.lit("100% (26/26)").alias("LifetimeApprovalRate"),
                pl.col("i").cast(pl.String).alias("Input.id_str"),
                pl.lit("RT @someone: a tweet about something #tag").alias("Input.text"),
                pl.col("Answer.emotion.label"),
            )
            frame.write_csv(fh, include_header=offset == 0)


def run_measured(code: str, *args: str) -> tuple[float, float, str]:
    """Seconds and peak RSS (MiB) of `python -c code args` in a fresh process of its own."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CROWDMETER_PSEUDONYM_KEY": "bench"},
    )
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(err[-2000:])
    *lines, peak_kib = out.strip().splitlines()
    return seconds, int(peak_kib) / 1024, "\n".join(lines)


# Each child prints its own peak RSS (VmHWM, which exec resets) as its last line.
PEAK = """
import re
print(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
"""

READ_CSV = (
    """
import sys, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar=true)", [sys.argv[1]])
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
"""
    + PEAK
)

# A run publishes its data, then rebuilds the marts (the dashboard's pre-aggregations) and
# publishes again. The child reports when the data snapshot became current and how long the
# marts took; `--skip-marts` leaves them out.
INGEST = (
    """
import sys, json, time
from pathlib import Path
import etl.publish
from etl.settings import Settings
from etl.load import ingest
started = time.perf_counter()
build, snapshot, marks = etl.publish.build_marts, etl.publish.publish_snapshot, {}
def timed_build(con, settings):
    begun = time.perf_counter()
    if sys.argv[3] != "skip":
        build(con, settings)
    marks["marts_seconds"] = time.perf_counter() - begun
def timed_snapshot(con, settings, run_id):
    path = snapshot(con, settings, run_id)
    marks.setdefault("data_published_after", time.perf_counter() - started)
    return path
etl.publish.build_marts, etl.publish.publish_snapshot = timed_build, timed_snapshot
report = ingest(Settings(data_dir=Path(sys.argv[2])), [Path(sys.argv[1])])
marks["child_seconds"] = time.perf_counter() - started
print(json.dumps({**report.as_dict()["files"][0], **marks}))
"""
    + PEAK
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--skip-marts", action="store_true", help="publish without marts")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="crowdmeter-bench-ingest-"))
    csv_path = tmp / "batch.csv"
    t0 = time.perf_counter()
    write_batch(csv_path, args.rows)
    print(
        f"generated {args.rows:,} rows ({csv_path.stat().st_size / 2**20:,.0f} MiB)"
        f" in {time.perf_counter() - t0:.1f}s"
    )
    ref_s, ref_mb, out = run_measured(READ_CSV, str(csv_path), str(tmp / "plain.duckdb"))
    print(f"duckdb read_csv:    {ref_s:6.2f}s  peak {ref_mb:6.0f} MiB  ({out.strip()} rows)")
    marts = "skip" if args.skip_marts else "build"
    ing_s, ing_mb, out = run_measured(INGEST, str(csv_path), str(tmp / "data"), marts)
    result = json.loads(out.strip().splitlines()[-1])
    # on the wall clock, as read_csv's: the child's own clock starts after its imports
    data_s = ing_s - (result["child_seconds"] - result["data_published_after"])
    print(
        f"crowdmeter ingest:  {ing_s:6.2f}s  peak {ing_mb:6.0f} MiB  "
        f"({result['rows_inserted']:,} inserted, {result['rows_rejected']} rejected)"
    )
    print(
        f"  data published after {data_s:.2f}s ({args.rows / data_s:,.0f} rows/s); "
        f"marts ({marts}) {result['marts_seconds']:.2f}s, then the figures' snapshot"
    )
    print(
        f"ratio to read_csv: data published {data_s / ref_s:.2f}x (target <= 3x), "
        f"figures published {ing_s / ref_s:.2f}x; peak {ing_mb:,.0f} MiB (target < 2048)"
    )
    if not args.keep:
        import shutil

        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
