"""Run every benchmark in bench/ (each `bench_*.py`) in turn, each in its own process.

    python -m bench [NAME ...]      e.g. `python -m bench agreement dawid_skene`

Each benchmark prints its own figures; record them with the machine and date in
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks(only: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if only:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in only}
        unknown = wanted - set(names)
        if unknown:
            sys.exit(f"No benchmark {', '.join(sorted(unknown))}; there are: {', '.join(names)}")
        names = [n for n in names if n in wanted]
    return names


def main(argv: list[str]) -> int:
    failed = []
    for name in benchmarks(argv):
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        # a fresh interpreter per benchmark keeps peak-memory figures apart
        code = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent).returncode
        print(f"== {name}: exit {code} after {time.perf_counter() - start:.0f} s\n", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
