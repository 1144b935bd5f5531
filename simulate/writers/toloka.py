"""Toloka pool results TSV: `INPUT:`, `OUTPUT:`, `GOLDEN:` and `ASSIGNMENT:` columns, naive times.

Toloka hands out tasks in suites (pages): rows of one suite share the assignment id, its times,
its status and its reward, which is the reward of the whole suite.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from simulate.model import PLATFORM_BY_NAME, Population, Project
from simulate.texts import HEX, texts, token
from simulate.writers.base import Sink, Timeline

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.3f"
POOLS = {"toxicity": 42_774_131, "relevance": 42_774_177}
STATUS = {
    "approved": "APPROVED",
    "rejected": "REJECTED",
    "submitted": "SUBMITTED",
    "skipped": "SKIPPED",
    "expired": "EXPIRED",
}


def toloka_id(prefix: int, *parts: np.ndarray | int) -> np.ndarray:
    """Ids shaped like Toloka's `00028cae73--65bfe1d31df46816f6e7d755`."""
    return np.char.add(
        np.char.add(token(10, prefix, alphabet=HEX), "--"), token(24, *parts, alphabet=HEX)
    )


class TolokaWriter:
    """One TSV per pool (project), streamed day by day."""

    def __init__(self, out: Path, population: Population, timeline: Timeline) -> None:
        self.out = out / "toloka"
        self.population = population
        self.timeline = timeline
        self.zone = PLATFORM_BY_NAME["toloka"].timezone
        self.sinks: dict[str, Sink] = {}

    def write(self, project: Project, frame: pl.DataFrame, history: dict[str, np.ndarray]) -> None:
        if project.project_id not in self.sinks:
            pool = POOLS[project.project_id]
            name = f"assignments_from_pool_{pool}__{self.population.end_date:%d-%m-%Y}.tsv"
            self.sinks[project.project_id] = Sink(self.out / name)
        self.sinks[project.project_id].write_csv(self._rows(project, frame), separator="\t")

    def _rows(self, project: Project, f: pl.DataFrame) -> pl.DataFrame:
        w = self.population.workers
        pool = POOLS[project.project_id]
        who = f["worker"].to_numpy()
        item = f["item"].to_numpy()
        suite = f["suite"].to_numpy() + f["day"].to_numpy() * 10**9
        classes = np.array(project.classes, dtype=object)
        answered = ~f["status"].is_in(["skipped", "expired"]).to_numpy()
        output = np.where(answered, classes[f["answer"].to_numpy()], None)
        gold = np.where(f["is_gold"].to_numpy(), classes[f["truth"].to_numpy()], None)
        assignment = toloka_id(pool, 2, suite)
        inputs = {
            "INPUT:text": texts(
                project.project_id,
                project.classes,
                f["truth"].to_numpy(),
                item.astype(np.uint64) * np.uint64(7919),
            )
        }
        if project.project_id == "toxicity":
            inputs["INPUT:dialect"] = np.where(f["attribute"].to_numpy() == 1, "aae", "sae")
        t, zone = self.timeline, self.zone
        status = pl.col("status")
        return f.select(
            *(pl.Series(k, v) for k, v in inputs.items()),
            pl.Series(f"OUTPUT:{project.field}", list(output), dtype=pl.String),
            pl.Series(f"GOLDEN:{project.field}", list(gold), dtype=pl.String),
            pl.lit(None, pl.String).alias("HINT:text"),
            pl.Series(
                "ASSIGNMENT:link",
                np.char.add(f"https://platform.toloka.ai/task/{pool}/", assignment),
            ),
            pl.Series("ASSIGNMENT:task_id", toloka_id(pool, 1, item)),
            pl.Series("ASSIGNMENT:assignment_id", assignment),
            pl.Series("ASSIGNMENT:task_suite_id", toloka_id(pool, 3, suite)),
            pl.Series("ASSIGNMENT:worker_id", w.raw_id[who].astype(str)),
            status.replace_strict(STATUS).alias("ASSIGNMENT:status"),
            t.local(pl.col("suite_start"), zone, TIME_FORMAT).alias("ASSIGNMENT:started"),
            t.local(
                pl.when(pl.Series(answered)).then(pl.col("suite_submit")), zone, TIME_FORMAT
            ).alias("ASSIGNMENT:submitted"),
            t.local(
                pl.when(status == "approved").then(pl.col("decided_at")), zone, TIME_FORMAT
            ).alias("ASSIGNMENT:accepted"),
            t.local(
                pl.when(status == "rejected").then(pl.col("decided_at")), zone, TIME_FORMAT
            ).alias("ASSIGNMENT:rejected"),
            t.local(
                pl.when(status == "skipped").then(pl.col("suite_submit")), zone, TIME_FORMAT
            ).alias("ASSIGNMENT:skipped"),
            t.local(
                pl.when(status == "expired").then(pl.col("suite_start") + 1800), zone, TIME_FORMAT
            ).alias("ASSIGNMENT:expired"),
            pl.col("suite_reward").round(3).cast(pl.String).alias("ASSIGNMENT:reward"),
        )

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.close()
