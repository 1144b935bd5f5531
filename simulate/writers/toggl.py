"""Toggl Track detailed time entries CSV of the freelancers' team workspace (fully quoted, as
Toggl's newer exports are), with date and time in separate columns and `Duration` as H:MM:SS.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from simulate.freelance import CLIENTS
from simulate.model import Population
from simulate.writers.base import Timeline

COLUMNS = ("User", "Email", "Client", "Project", "Task", "Description", "Billable",
           "Start date", "Start time", "End date", "End time", "Duration", "Tags")  # fmt: skip
ZONE = "UTC"


def write_toggl(
    out: Path, population: Population, entries: pl.DataFrame, timeline: Timeline
) -> Path:
    """One CSV for the whole period; returns its path."""
    path = (
        out
        / "toggl"
        / (
            f"Toggl_time_entries_{population.first_day:%Y-%m-%d}_to_{population.end_date:%Y-%m-%d}.csv"
        )
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    users = [p.toggl_user for p in population.freelancers]
    seconds = (pl.col("end") - pl.col("start")).cast(pl.Int64)
    rows = entries.select(
        pl.col("person").map_elements(lambda k: users[k], return_dtype=pl.String).alias("User"),
        pl.format("freelancer{}@example.org", pl.col("person") + 1).alias("Email"),
        pl.col("platform").replace_strict(CLIENTS).alias("Client"),
        pl.col("project").alias("Project"),
        pl.lit("").alias("Task"),
        pl.col("description").alias("Description"),
        pl.lit("No").alias("Billable"),
        timeline.local(pl.col("start"), ZONE, "%Y-%m-%d").alias("Start date"),
        timeline.local(pl.col("start"), ZONE, "%H:%M:%S").alias("Start time"),
        timeline.local(pl.col("end"), ZONE, "%Y-%m-%d").alias("End date"),
        timeline.local(pl.col("end"), ZONE, "%H:%M:%S").alias("End time"),
        pl.format(
            "{}:{}:{}",
            seconds // 3600,
            (seconds % 3600 // 60).cast(pl.String).str.zfill(2),
            (seconds % 60).cast(pl.String).str.zfill(2),
        ).alias("Duration"),
        pl.lit("").alias("Tags"),
    )
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows.iter_rows())
    return path
