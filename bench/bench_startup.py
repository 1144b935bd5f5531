"""Start-up cost of the command line: CPU time of `crowdmeter --help` and `crowdmeter status`
(on a small published warehouse) against `python -c pass`, in the same run.

Target (issue 11): both under 0.3 s of CPU (user + system, from the child's rusage). Each
command runs `--repeat` times, interleaved round by round so that a busy moment of the machine
spreads over all of them; the medians are compared. `--tree DIR --module etl.cli` measures
another checkout (the layout before issue 11) against the same warehouse.

    python -m bench.bench_startup [--repeat 15] [--tree DIR] [--module cli.main]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_CPU_SECONDS = 0.3


def build_warehouse(tmp: Path) -> Path:
    """A small simulated workforce (two platforms) ingested and published; its data folder."""
    from etl.load import ingest
    from etl.settings import load_settings
    from simulate.workforce import simulate

    exports = tmp / "exports"
    simulate(exports, seed=11, scale=0.1)
    data = tmp / "data"
    data.mkdir()
    shutil.copyfile(exports / "config.toml", data / "config.toml")
    settings = load_settings(data_dir=data, pseudonym_key="bench-startup-key")
    report = ingest(settings, [exports / "mturk", exports / "toloka"])
    assert report.status == "succeeded", report.status
    return data


def cpu_and_wall(argv: list[str], cwd: Path) -> tuple[float, float]:
    """User + system CPU seconds of one child run to its end, and its wall-clock seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command")
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to run the CLI from")
    parser.add_argument("--module", default="cli.main", help="the CLI's module in that tree")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="crowdmeter-bench-startup-"))
    try:
        data = build_warehouse(tmp)
        cli = [sys.executable, "-m", args.module]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "crowdmeter --help": [*cli, "--help"],
            "crowdmeter status": [*cli, "--data-dir", str(data), "status"],
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, argv in commands.items():
                runs[name].append(cpu_and_wall(argv, args.tree))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    python_cpu = statistics.median(cpu for cpu, _ in runs["python -c pass"])
    print(f"{args.module} in {args.tree}, {args.repeat} runs each (medians; CPU = user + system)")
    for name, measured in runs.items():
        cpu = statistics.median(c for c, _ in measured)
        wall = statistics.median(w for _, w in measured)
        verdict = (
            ""
            if name.startswith("python")
            else (
                f"  {cpu / python_cpu:5.1f}x python; target < {TARGET_CPU_SECONDS} s: "
                + ("met" if cpu < TARGET_CPU_SECONDS else "NOT met")
            )
        )
        print(
            f"{name:<18} CPU {cpu:6.3f} s (min {min(c for c, _ in measured):.3f}), "
            f"wall {wall:6.3f} s{verdict}"
        )


if __name__ == "__main__":
    main()
