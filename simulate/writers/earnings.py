"""Freelancers' earnings logs (Crowdmeter's earnings CSV template) for platforms that export
nothing: one line per platform and day worked, with hours, amount, status and payment date.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from simulate.model import Population

COLUMNS = ("date", "platform", "worker", "project", "task_type", "tasks", "hours", "amount",
           "currency", "status", "paid_on")  # fmt: skip


def write_earnings(out: Path, population: Population, lines: pl.DataFrame) -> list[Path]:
    """One log per freelancer, as each keeps their own; returns the paths."""
    folder = out / "earnings"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for person in population.freelancers:
        mine = lines.filter(pl.col("person") == person.number)
        path = folder / f"earnings_freelancer{person.number + 1:02d}.csv"
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(COLUMNS)
            for row in mine.iter_rows(named=True):
                paid = row["paid_day"]
                writer.writerow((
                    population.day(row["day"]).isoformat(), row["platform"],
                    person.raw_ids[row["platform"]], row["project"], row["task_type"], row["tasks"],
                    f"{row['seconds'] / 3600:.2f}", f"{row['amount']:.2f}", "USD", row["status"],
                    population.day(paid).isoformat() if paid >= 0 else "",
                ))  # fmt: skip
        paths.append(path)
    return paths
