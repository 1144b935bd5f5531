"""Label Studio JSON export: one task per item, its annotations with `completed_by`, `lead_time`,
`was_cancelled`, `ground_truth` and `reviews` (accepted or rejected, by whom and when).

Gold items carry an extra annotation by the project lead marked `ground_truth`. `lead_time` is
the time the task was open, so now and then it includes an idle tab. The vendor's annotator
profiles add a self-reported `gender` to `completed_by` (left out when the annotator left it
blank), which config maps with `worker_attributes = { gender = "completed_by.gender" }`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from simulate.model import Population, Project
from simulate.texts import mix64, texts
from simulate.writers.base import Sink, Timeline

PROJECT_NUMBER = 58_506
IDLE_SHARE = 0.03


class LabelStudioWriter:
    """One JSON array per project, written task by task so memory stays flat."""

    def __init__(self, out: Path, population: Population, timeline: Timeline) -> None:
        self.out = out / "labelstudio"
        self.population = population
        self.epoch = timeline.epoch
        self.sinks: dict[str, Sink] = {}
        w = population.workers
        self.lead = int(np.flatnonzero(w.role == "reviewer")[0])
        self.users = {}

    def user(self, worker: int) -> dict:
        w = self.population.workers
        if worker not in self.users:
            profile = {
                "id": int(w.raw_id[worker]),
                "email": f"annotator{int(w.raw_id[worker]) % 1000:03d}@example.org",
                "first_name": "",
                "last_name": "",
            }
            if w.gender[worker] is not None:
                profile["gender"] = w.gender[worker]
            self.users[worker] = profile
        return self.users[worker]

    def stamp(self, seconds: float) -> str:
        moment = datetime.fromtimestamp(self.epoch + seconds, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def write(self, project: Project, frame: pl.DataFrame, history: dict[str, np.ndarray]) -> None:
        sink = self.sinks.get(project.project_id)
        if sink is None:
            sink = self.sinks[project.project_id] = Sink(
                self.out / f"project-{PROJECT_NUMBER}-{project.project_id}.json"
            )
            sink.write_text("[")
        frame = frame.sort("item", "start")
        text = texts(
            project.project_id,
            project.classes,
            frame["truth"].to_numpy(),
            mix64(40, frame["item"].to_numpy()),
        )
        idle = (
            mix64(41, frame["item"].to_numpy(), frame["worker"].to_numpy()) % np.uint64(10_000)
        ).astype(float) / 10_000
        frame = frame.with_columns(text=pl.Series(text), idle=idle)
        chunks = []
        for rows in frame.partition_by("item", maintain_order=True):
            chunks.append(json.dumps(self._task(project, rows.to_dicts()), separators=(",", ":")))
        if chunks:
            sink.write_text(("\n" if sink.rows == 0 else ",\n") + ",\n".join(chunks))
            sink.rows += len(chunks)

    def _task(self, project: Project, rows: list[dict]) -> dict:
        first = rows[0]
        task_id = 90_000_000 + first["item"]
        annotations = [self._annotation(project, task_id, r, n + 1) for n, r in enumerate(rows)]
        if first["is_gold"]:
            lead = dict(first, worker=self.lead, answer=first["truth"], status="submitted",
                        start=first["start"] - 3600, submit=first["start"] - 3500, active=100.0,
                        idle=1.0)  # fmt: skip
            annotations.insert(0, self._annotation(project, task_id, lead, 0, ground_truth=True))
        last = max(r["submit"] for r in rows)
        return {
            "id": task_id,
            "annotations": annotations,
            "file_upload": "tickets-2025.csv",
            "drafts": [],
            "predictions": [],
            "data": {"text": first["text"], "ticket_id": f"T-{task_id}"},
            "meta": {},
            "created_at": self.stamp(first["start"] - 7200),
            "updated_at": self.stamp(last),
            "inner_id": first["item"] + 1,
            "total_annotations": len(annotations),
            "cancelled_annotations": sum(r["status"] == "skipped" for r in rows),
            "total_predictions": 0,
            "project": PROJECT_NUMBER,
        }

    def _annotation(
        self, project: Project, task_id: int, r: dict, n: int, ground_truth: bool = False
    ) -> dict:
        """Annotation `n` of a task (0 is the lead's ground truth); ids are unique per task."""
        cancelled = r["status"] == "skipped"
        lead_time = r["active"] + (r["idle"] * 2400 if r["idle"] < IDLE_SHARE else 0.0)
        ann_id = (task_id - 90_000_000) * 10 + n + 30_000_000
        result = [] if cancelled else [{
            "id": f"r{ann_id % 10**6:06d}",
            "type": "choices",
            "value": {"choices": [project.classes[r["answer"]]]},
            "origin": "manual",
            "to_name": "text",
            "from_name": project.field,
        }]  # fmt: skip
        reviews = []
        if r.get("reviewer", -1) >= 0 and not ground_truth:
            reviews.append({
                "id": ann_id + 5_000_000_000,
                "created_by": self.user(r["reviewer"]),
                "created_at": self.stamp(r["decided_at"]),
                "accepted": r["status"] == "approved",
                "annotation": ann_id,
            })  # fmt: skip
        return {
            "id": ann_id,
            "completed_by": self.user(r["worker"]),
            "result": result,
            "reviews": reviews,
            "was_cancelled": cancelled,
            "ground_truth": ground_truth,
            "created_at": self.stamp(r["submit"]),
            "updated_at": self.stamp(r["submit"]),
            "lead_time": round(lead_time, 3),
            "task": task_id,
            "project": PROJECT_NUMBER,
            "last_action": None
            if not reviews
            else ("accepted" if reviews[0]["accepted"] else "rejected"),
        }

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.write_text("\n]\n")
            sink.close()
