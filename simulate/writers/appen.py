"""Appen (Figure Eight / CrowdFlower) full report CSV: one row per judgment.

As in real reports: `_worker_id` can be a 19-digit negative integer, `_country` is ISO alpha-3,
times are naive `M/D/YYYY HH:MM:SS`, test questions carry `_golden` and `<field>_gold`, and
judgments of contributors caught by test questions are `_tainted`. `_ip` and `_city` are there
for the importer to drop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from simulate.model import ISO3, PLATFORM_BY_NAME, Population, Project
from simulate.texts import mix64, texts
from simulate.writers.base import Sink, Timeline

TIME_FORMAT = "%-m/%-d/%Y %H:%M:%S"
CHANNELS = np.array(["neodev", "clixsense", "prodege", "instagc", "elite", "gifthulk"])
JOB_ID = 1_866_420


class AppenWriter:
    """One full report per job (project), streamed day by day."""

    def __init__(self, out: Path, population: Population, timeline: Timeline) -> None:
        self.out = out / "appen"
        self.population = population
        self.timeline = timeline
        self.zone = PLATFORM_BY_NAME["appen"].timezone
        self.sinks: dict[str, Sink] = {}
        w = population.workers
        noise = (mix64(30, np.arange(len(w))) % np.uint64(600)).astype(float) / 10_000 - 0.03
        self.trust = np.clip(w.accuracy + noise, 0.0, 1.0).round(4)

    def write(self, project: Project, frame: pl.DataFrame, history: dict[str, np.ndarray]) -> None:
        if project.project_id not in self.sinks:
            self.sinks[project.project_id] = Sink(
                self.out / f"f{JOB_ID}_{project.project_id}_full.csv"
            )
        self.sinks[project.project_id].write_csv(self._rows(project, frame))

    def _rows(self, project: Project, f: pl.DataFrame) -> pl.DataFrame:
        w = self.population.workers
        who = f["worker"].to_numpy()
        item = f["item"].to_numpy()
        classes = np.array(project.classes, dtype=object)
        golden = f["is_gold"].to_numpy()
        missed = np.where(golden & ~f["correct"].to_numpy(), "true", None)
        t, zone = self.timeline, self.zone
        worker_hash = mix64(31, who)
        return f.select(
            pl.Series("_unit_id", (2_900_000_000 + item).astype(str)),
            t.local(pl.col("submit"), zone, TIME_FORMAT).alias("_created_at"),
            pl.Series("_golden", np.where(golden, "true", "false")),
            # judgment ids: unique per item and replica, like CrowdFlower's running numbers
            (5_100_000_000 + pl.col("item") * 10 + pl.col("start").rank("ordinal").over("item"))
            .cast(pl.String)
            .alias("_id"),
            pl.Series("_missed", list(missed), dtype=pl.String),
            t.local(pl.col("start"), zone, TIME_FORMAT).alias("_started_at"),
            pl.Series("_tainted", np.where(f["status"].to_numpy() == "rejected", "true", "false")),
            pl.Series("_channel", CHANNELS[(worker_hash % np.uint64(len(CHANNELS))).astype(int)]),
            pl.Series("_trust", self.trust[who].astype(str)),
            pl.Series("_worker_id", w.raw_id[who].astype(str)),
            pl.Series("_country", [ISO3[c] for c in w.country[who]]),
            pl.lit(None, pl.String).alias("_region"),
            pl.Series(
                "_city",
                np.char.add("City ", ((worker_hash >> np.uint64(8)) % np.uint64(90)).astype(str)),
            ),
            pl.Series(
                "_ip",
                np.char.add(
                    "192.0.2.",
                    ((worker_hash >> np.uint64(16)) % np.uint64(250) + np.uint64(1)).astype(str),
                ),
            ),
            pl.Series(project.field, classes[f["answer"].to_numpy()].astype(str)),
            pl.Series(
                "review_text",
                texts(project.project_id, project.classes, f["truth"].to_numpy(), mix64(33, item)),
            ),
            pl.Series(
                f"{project.field}_gold",
                list(np.where(golden, classes[f["truth"].to_numpy()], None)),
                dtype=pl.String,
            ),
            pl.Series(
                f"{project.field}_gold_reason",
                list(np.where(golden, "Read the whole review.", None)),
                dtype=pl.String,
            ),
        )

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.close()
