"""Prodigy `db-out` JSONL: one line per decision with `answer` (accept, reject, ignore),
`_timestamp` (save time, Unix seconds) and the annotator in `_annotator_id`/`_session_id`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from simulate.model import Population, Project
from simulate.texts import mix64, texts
from simulate.writers.base import Sink, Timeline

LABEL = "RELEVANT"


def signed_hash32(item: np.ndarray, odd: int) -> np.ndarray:
    """Prodigy-like signed 32-bit hashes that never collide: multiplying by an odd number is a
    bijection modulo 2**32."""
    return ((item.astype(np.int64) * odd) % 2**32 - 2**31).astype(np.int64)


class ProdigyWriter:
    """One JSONL per dataset (project), lines in save order."""

    def __init__(self, out: Path, population: Population, timeline: Timeline) -> None:
        self.out = out / "prodigy"
        self.population = population
        self.epoch = timeline.epoch
        self.sinks: dict[str, Sink] = {}

    def write(self, project: Project, frame: pl.DataFrame, history: dict[str, np.ndarray]) -> None:
        if project.project_id not in self.sinks:
            # Prodigy's importer names the project after the folder, as datasets are kept.
            folder = self.out / project.project_id
            self.sinks[project.project_id] = Sink(folder / f"{project.project_id}.jsonl")
        f = frame.sort("submit", "worker")
        item = f["item"].to_numpy()
        text = texts(project.project_id, project.classes, f["truth"].to_numpy(), mix64(50, item))
        input_hash = signed_hash32(item, 0x9E3779B1)
        task_hash = signed_hash32(item, 0x85EBCA77)
        ids = self.population.workers.raw_id[f["worker"].to_numpy()]
        answers = np.where(
            f["status"].to_numpy() == "skipped",
            "ignore",
            np.array(project.classes, dtype=object)[f["answer"].to_numpy()],
        )
        saved = (f["submit"].to_numpy() + self.epoch).astype(np.int64)
        lines = [
            json.dumps(
                {
                    "text": t,
                    "meta": {"pmid": str(30_000_000 + i)},
                    "_input_hash": int(ih),
                    "_task_hash": int(th),
                    "label": LABEL,
                    "_view_id": "classification",
                    "answer": a,
                    "_timestamp": int(s),
                    "_annotator_id": who,
                    "_session_id": who,
                }
            )  # fmt: skip
            for t, i, ih, th, a, s, who in zip(
                text, item.tolist(), input_hash, task_hash, answers, saved, ids, strict=True
            )
        ]
        sink = self.sinks[project.project_id]
        sink.write_text("".join(line + "\n" for line in lines))
        sink.rows += len(lines)

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.close()
