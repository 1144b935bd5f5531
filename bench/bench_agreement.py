"""Agreement coefficients on 1 million long-format ratings against the `krippendorff` package.

Targets (issue 3): every coefficient together under 1 s from the long-format file; Krippendorff's
alpha at least 20x faster than `krippendorff.alpha` including the pivot to its coder x unit
matrix, equal to 1e-9 at every level; alpha on 10 million ratings under 5 s and 2 GB peak RSS
(read in a fresh process). The bootstrap (1,000 resamples of units) is timed on its own.

    python -m bench.bench_agreement [--units 300000] [--coders 1000] [--big-units 3000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from metrics.agreement import agreement_report, dense_codes, krippendorff_alpha
from metrics.catalog import LEVELS

REPEATS = 3


def write_ratings(path: Path, n_units: int, n_coders: int, categories: int = 5, seed: int = 1):
    """Long-format ratings (unit, coder, value): 2 + Poisson(1.3) distinct coders per unit
    (about 3.3), coders of varied skill, values 1..categories; unit and coder ids are text."""
    rng = np.random.default_rng(seed)
    per_unit = 2 + rng.poisson(1.3, n_units)
    unit = np.repeat(np.arange(n_units), per_unit)
    slot = np.arange(len(unit)) - np.repeat(np.cumsum(per_unit) - per_unit, per_unit)
    # a stride coprime with the number of coders keeps a unit's coders distinct
    coder = (rng.integers(0, n_coders, n_units)[unit] + slot * 919) % n_coders
    truth = rng.integers(1, categories + 1, n_units)
    skill = rng.uniform(0.4, 0.95, n_coders)
    right = rng.random(len(unit)) < skill[coder]
    value = np.where(right, truth[unit], rng.integers(1, categories + 1, len(unit)))
    frame = pl.DataFrame({"unit": unit, "coder": coder, "value": value}).select(
        pl.format("u{}", pl.col("unit").cast(pl.String).str.zfill(8)).alias("unit"),
        pl.format("w{}", pl.col("coder")).alias("coder"),
        pl.col("value").cast(pl.Int64),
    )
    frame.write_parquet(path)
    return frame.height


def timed(fn: Callable[[], object], repeats: int = REPEATS) -> tuple[float, object]:
    """Median wall time of `repeats` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def all_coefficients(path: Path) -> dict[str, float | None]:
    report = agreement_report(pl.read_parquet(path))
    return {name: c.value for name, c in report.coefficients.items()}


def our_alpha(path: Path, level: str) -> float | None:
    frame = pl.read_parquet(path, columns=["unit", "value"])
    return krippendorff_alpha(frame, level).value


def pivot(path: Path) -> np.ndarray:
    """The coder x unit reliability matrix `krippendorff.alpha` takes (NaN = not rated)."""
    frame = pl.read_parquet(path)
    units, _ = dense_codes(frame["unit"])
    coders, _ = dense_codes(frame["coder"])
    matrix = np.full((coders.max() + 1, units.max() + 1), np.nan)
    matrix[coders, units] = frame["value"].to_numpy()
    return matrix


def reference_alpha(path: Path, level: str) -> float:
    import krippendorff

    return float(krippendorff.alpha(reliability_data=pivot(path), level_of_measurement=level))


# Peak RSS is read from VmHWM: ru_maxrss would carry over the parent's peak through fork and
# exec, and the parent holds the krippendorff package's big matrices by then.
BIG_CHILD = """
import sys, time
import polars as pl
from metrics.agreement import krippendorff_alpha
start = time.perf_counter()
frame = pl.read_parquet(sys.argv[1], columns=["unit", "value"])
value = krippendorff_alpha(frame, "nominal").value
seconds = time.perf_counter() - start
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
print(seconds, int(status) / 1024, value, frame.height)
"""


def big_alpha(path: Path) -> tuple[float, float, float, int]:
    """Alpha on the big file in a fresh process: seconds, peak RSS (MiB), value, rows."""
    out = subprocess.run(
        [sys.executable, "-c", BIG_CHILD, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]), float(out[2]), int(out[3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=300_000)
    parser.add_argument("--coders", type=int, default=1000)
    parser.add_argument("--big-units", type=int, default=3_000_000, help="0 skips the big run")
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-agreement-") as tmp:
        path = Path(tmp) / "ratings.parquet"
        rows = write_ratings(path, args.units, args.coders)
        print(f"{rows:,} ratings, {args.units:,} units, {args.coders} coders, 5 categories")
        results = compare(path, args.bootstrap)
        if args.big_units:
            big = Path(tmp) / "big.parquet"
            write_ratings(big, args.big_units, args.coders, seed=2)
            seconds, peak, value, big_rows = big_alpha(big)
            print(f"alpha on {big_rows:,} ratings (read + alpha, fresh process): {seconds:.2f} s, "
                  f"peak RSS {peak:.0f} MiB, alpha {value:.6f}")  # fmt: skip
            results["big"] = {"rows": big_rows, "seconds": seconds, "peak_mib": peak}
        print(json.dumps(results))


def compare(path: Path, bootstrap: int) -> dict:
    all_s, values = timed(lambda: all_coefficients(path))
    print(f"all 7 coefficients (read + encode + compute), median of {REPEATS}: {all_s:.3f} s")
    print("  " + ", ".join(f"{k} {v:.4f}" for k, v in values.items()))
    ours_s, _ = timed(lambda: our_alpha(path, "nominal"))
    ref_s, _ = timed(lambda: reference_alpha(path, "nominal"), repeats=1)
    print(f"alpha nominal (read + encode + alpha): ours {ours_s:.3f} s, krippendorff package "
          f"(read + pivot + alpha) {ref_s:.2f} s -> {ref_s / ours_s:.0f}x")  # fmt: skip
    import krippendorff

    matrix = pivot(path)
    worst = 0.0
    for level in LEVELS:
        theirs = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
        ours = our_alpha(path, level)
        worst = max(worst, abs(ours - theirs))
        print(f"  {level:<9} ours {ours:.12f}  krippendorff {theirs:.12f}")
    print(f"largest difference over the four levels: {worst:.1e}")
    frame = pl.read_parquet(path)
    start = time.perf_counter()
    agreement_report(frame, bootstrap_samples=bootstrap)
    boot_s = time.perf_counter() - start
    print(f"all 7 coefficients with {bootstrap} bootstrap resamples (frame in memory): "
          f"{boot_s:.1f} s")  # fmt: skip
    return {"all_s": all_s, "alpha_s": ours_s, "reference_s": ref_s, "max_diff": worst,
            "bootstrap_s": boot_s}  # fmt: skip


if __name__ == "__main__":
    main()
