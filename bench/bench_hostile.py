"""Hostile files: how long the importers take to refuse or reject them, against the same
importer on the unmutated sample in the same run (the reference), and a long fuzz run.

    python -m bench.bench_hostile [--mutants N]     (N a format; default 2,000)

Prints, for each named hostile case, the seconds to its outcome and the outcome; then, over
N mutants a format of every real sample in ../shared/samples, how many loaded, loaded with
rejects or were refused, how many crashed (must be 0) and the slowest mutant.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from etl.scrub import scrub_record
from etl.sources import parse_file
from etl.sources.base import UnreadableFile
from tests.etl.mutants import mutants
from tests.etl.test_hostile_files import SEEDS

MTURK = "HITId,HITTypeId,Reward,AssignmentId,WorkerId,AssignmentStatus,AcceptTime,SubmitTime"
ROW = "H1,T1,$0.10,A{n},W{n},Approved,2024-01-01T10:00:00Z,2024-01-01T10:01:00Z"


def timed(run: Callable[[], str]) -> tuple[float, str]:
    start = time.perf_counter()
    outcome = run()
    return time.perf_counter() - start, outcome


def outcome_of(path: Path) -> str:
    try:
        result = parse_file(path)
    except UnreadableFile as exc:
        return f"refused: {str(exc)[:70]}"
    return f"{result.rows_read} read, {result.rejects.height} rejected"


def named_cases(folder: Path) -> list[tuple[str, Path | Callable[[], str]]]:
    reference = folder / "reference.csv"
    reference.write_text("\n".join([MTURK, *(ROW.format(n=n) for n in range(2_000))]) + "\n")
    wide = folder / "wide.csv"
    names = ",".join(f"column_{i:06d}" for i in range(100_000))
    wide.write_text(MTURK + "," + names + "\n" + ROW + "\n")
    deep = folder / "deep.json"
    deep.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    long_field = folder / "long_field.csv"
    long_field.write_text(
        MTURK + ",Answer.text\n" + ROW.format(n=1)[:-1] + "x,{}\n".format("a" * 200_000)
    )
    cr_only = folder / "cr_only.csv"
    cr_only.write_text("\r".join([MTURK, *(ROW.format(n=n) for n in range(2_000))]) + "\r")
    value = "someone@example.org " + "a" * 120_000
    raw = json.dumps({"text": value})
    return [
        ("reference: 2,000-row MTurk batch", reference),
        (f"100,000 columns ({wide.stat().st_size / 1e6:.1f} MB)", wide),
        ("JSON nested 100,000 deep", deep),
        ("a 200,000-character field in a rejected row", long_field),
        ("CR-only line ends, 2,000 rows", cr_only),
        ("scrub a 120,000-character rejected value", lambda: f"{len(scrub(raw))} chars kept"),
    ]


def scrub(raw: str) -> str:
    return scrub_record(raw, None, None, lambda v: "<id>", frozenset())


def fuzz(folder: Path, per_format: int) -> None:
    counts: Counter[str] = Counter()
    slowest = (0.0, "")
    start = time.perf_counter()
    for _, seeds in sorted(SEEDS.items()):
        each = math.ceil(per_format / len(seeds))
        for number, seed in enumerate(seeds):
            for kind, data in mutants(seed.read_bytes(), seed=1_000 + number, n=each):
                path = folder / f"mutant{seed.suffix}"
                path.write_bytes(data)
                took = time.perf_counter()
                try:
                    result = parse_file(path)
                    counts["rejects" if result.rejects.height else "loaded"] += 1
                except UnreadableFile:
                    counts["refused"] += 1
                except Exception as exc:  # counted: the figure that must stay 0
                    counts["crashed"] += 1
                    print(f"  CRASH {kind} of {seed.name}: {exc!r}", file=sys.stderr)
                took = time.perf_counter() - took
                slowest = max(slowest, (took, f"{kind} of {seed.name}"))
    total = sum(counts.values())
    print(
        f"fuzz: {total:,} mutants of {sum(map(len, SEEDS.values()))} files in "
        f"{len(SEEDS)} formats, {time.perf_counter() - start:.0f} s: loaded "
        f"{counts['loaded']:,}, with rejects {counts['rejects']:,}, refused "
        f"{counts['refused']:,}, crashed {counts['crashed']}; slowest {slowest[0]:.2f} s "
        f"({slowest[1]})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=2_000, help="mutants a format")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, case in named_cases(folder):
            seconds, outcome = timed(case if callable(case) else lambda c=case: outcome_of(c))
            print(f"{name:<48} {seconds:7.3f} s  {outcome}")
        fuzz(folder, args.mutants)
    return 0


if __name__ == "__main__":
    sys.exit(main())
