"""Simulator speed and peak memory at 10 million assignments, against copying its output.

Target (issue 3): `--scale` reaches 10 million assignments with peak RSS under 1.5 GB (streamed
writing, one day at a time). The reference in the same run copies the written folder, so the
ratio says how far generation is from the disk's own speed. Each side runs in a fresh
subprocess so each peak RSS is its own.

    python -m bench.bench_simulate [--scale 21.5] [--small 1.0] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from bench.bench_ingest import run_measured

SIMULATE = """
import sys, json
from pathlib import Path
from simulate.workforce import simulate
truth = simulate(Path(sys.argv[1]), seed=7, scale=float(sys.argv[2]))
print(json.dumps({"assignments": truth.assignments, "files": len(truth.files)}))
"""

COPY = """
import shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2])
"""


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(tmp: Path, scale: float) -> dict[str, float]:
    out = tmp / f"scale-{scale}"
    seconds, peak_mb, printed = run_measured(SIMULATE, str(out), str(scale))
    result = json.loads(printed.strip().splitlines()[-1])
    size = folder_bytes(out)
    copy_s, copy_mb, _ = run_measured(COPY, str(out), str(tmp / f"copy-{scale}"))
    shutil.rmtree(tmp / f"copy-{scale}")
    figures = {
        "scale": scale,
        "assignments": result["assignments"],
        "seconds": seconds,
        "peak_mib": peak_mb,
        "output_mib": size / 2**20,
        "copy_seconds": copy_s,
    }
    print(
        f"scale {scale:>5}: {result['assignments']:>11,} assignments in {seconds:6.1f}s "
        f"({result['assignments'] / seconds:,.0f}/s), peak {peak_mb:,.0f} MiB, "
        f"{size / 2**20:,.0f} MiB written; copying it took {copy_s:.1f}s "
        f"(simulate/copy {seconds / copy_s:.1f}x)"
    )
    shutil.rmtree(out)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=21.5, help="big run (21.5: ~10M)")
    parser.add_argument("--small", type=float, default=1.0, help="demo-sized run first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="crowdmeter-bench-simulate-"))
    try:
        small = measure(tmp, args.small)
        big = measure(tmp, args.scale)
        per_small = small["seconds"] / small["assignments"]
        per_big = big["seconds"] / big["assignments"]
        print(
            f"time per assignment, big/small: {per_big / per_small:.2f}x (1.0 = linear); "
            f"peak at {big['assignments']:,}: {big['peak_mib']:,.0f} MiB (target < 1536)"
        )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
