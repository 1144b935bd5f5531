"""MTurk requester batch results CSV, one file per HIT type, plus the demographics survey batch.

Like the real downloads: the header ends with `Approve,Reject` that data rows leave out, rewards
read `$0.05`, times `Wed Apr 04 10:26:23 PDT 2018`, and `WorkTimeInSeconds` is accept to submit.
Requesters mark gold HITs with an input column holding the expected answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from simulate.model import MTURK_HIT_TYPES, Population, Project
from simulate.texts import mix64, texts, token
from simulate.writers.base import Sink, Timeline

TIME_FORMAT = "%a %b %d %H:%M:%S %Z %Y"
ZONE = "America/Los_Angeles"
AUTO_APPROVAL_SECONDS = 259200
TITLES = {
    "tweet-emotion": "Which word best describes the emotion of this tweet?",
    "about-you": "About you (optional questions, 1 minute)",
}
SURVEY_REWARD = 0.10
BATCH_IDS = {"standard": 4_930_000, "qualified": 4_930_017}
SURVEY_BATCH_ID = 4_929_981


def dollars(amount: float) -> str:
    return f"${amount:.2f}"


class MturkWriter:
    """Writes one batch file per HIT type of the emotion project, streaming day by day."""

    def __init__(self, out: Path, population: Population, timeline: Timeline) -> None:
        self.out = out / "mturk"
        self.population = population
        self.timeline = timeline
        self.sinks: dict[str, Sink] = {}
        self.batch_ids = BATCH_IDS

    def write(self, project: Project, frame: pl.DataFrame, history: dict[str, np.ndarray]) -> None:
        for hit_type in MTURK_HIT_TYPES:
            part = frame.filter(pl.col("hit_type") == hit_type)
            if part.height:
                self._sink(project, hit_type).write_csv(
                    self._rows(project, hit_type, part, history)
                )

    def _sink(self, project: Project, hit_type: str) -> Sink:
        if hit_type not in self.sinks:
            path = (
                self.out
                / f"{project.project_id}_{hit_type}_Batch_{self.batch_ids[hit_type]}_results.csv"
            )
            sink = Sink(path)
            sink.write_text(",".join(self.header(project)) + "\n")
            sink.rows = 1  # the header goes out by hand: it names Approve,Reject, rows do not
            self.sinks[hit_type] = sink
        return self.sinks[hit_type]

    @staticmethod
    def header(project: Project) -> list[str]:
        return [*COMMON_COLUMNS, "Input.id_str", "Input.text", f"Input.gold_{project.field}",
                f"Answer.{project.field}.label", "Approve", "Reject"]  # fmt: skip

    def _rows(
        self, project: Project, hit_type: str, f: pl.DataFrame, history: dict[str, np.ndarray]
    ) -> pl.DataFrame:
        w = self.population.workers
        who = f["worker"].to_numpy()
        item = f["item"].to_numpy()
        classes = np.array(project.classes, dtype=object)
        gold = np.where(f["is_gold"].to_numpy(), classes[f["truth"].to_numpy()], None)
        rates = approval_rates(who, history["approved"], history["decided"])
        created = float(f["start"].min()) - 600
        t = self.timeline
        frame = f.select(
            pl.Series("HITId", token(30, 11, item)),
            pl.Series(
                "HITTypeId",
                token(
                    30, 12, list(MTURK_HIT_TYPES).index(hit_type), np.zeros(len(f), dtype=np.int64)
                ),
            ),
            pl.lit(TITLES[project.project_id]).alias("Title"),
            pl.lit("Pick the word that matches the tweet most closely.").alias("Description"),
            pl.lit("emotion detection, text").alias("Keywords"),
            pl.lit(dollars(MTURK_HIT_TYPES[hit_type])).alias("Reward"),
            t.local(pl.lit(created), ZONE, TIME_FORMAT).alias("CreationTime"),
            pl.lit(str(project.labels_per_item)).alias("MaxAssignments"),
            pl.lit(f"BatchId:{self.batch_ids[hit_type]};OriginalHitTemplateId:928390866;").alias(
                "RequesterAnnotation"
            ),
            pl.lit("3600").alias("AssignmentDurationInSeconds"),
            pl.lit(str(AUTO_APPROVAL_SECONDS)).alias("AutoApprovalDelayInSeconds"),
            t.local(pl.lit(created + 7 * 86400), ZONE, TIME_FORMAT).alias("Expiration"),
            pl.lit(None, pl.String).alias("NumberOfSimilarHITs"),
            pl.lit(None, pl.String).alias("LifetimeInSeconds"),
            pl.Series("AssignmentId", np.char.add("3", token(29, 13, item, who))),
            pl.Series("WorkerId", w.raw_id[who].astype(str)),
            pl.col("status").replace_strict(MTURK_STATUS).alias("AssignmentStatus"),
            t.local(pl.col("start"), ZONE, TIME_FORMAT).alias("AcceptTime"),
            t.local(pl.col("submit"), ZONE, TIME_FORMAT).alias("SubmitTime"),
            t.local(pl.col("submit") + AUTO_APPROVAL_SECONDS, ZONE, TIME_FORMAT).alias(
                "AutoApprovalTime"
            ),
            t.local(
                pl.when(pl.col("status") == "approved").then(pl.col("decided_at")),
                ZONE,
                TIME_FORMAT,
            ).alias("ApprovalTime"),
            t.local(
                pl.when(pl.col("status") == "rejected").then(pl.col("decided_at")),
                ZONE,
                TIME_FORMAT,
            ).alias("RejectionTime"),
            pl.when(pl.col("status") == "rejected")
            .then(pl.lit("Failed a check question."))
            .alias("RequesterFeedback"),
            (pl.col("submit") - pl.col("start"))
            .cast(pl.Int64)
            .cast(pl.String)
            .alias("WorkTimeInSeconds"),
            pl.Series("LifetimeApprovalRate", rates),
            pl.Series("Last30DaysApprovalRate", rates),
            pl.Series("Last7DaysApprovalRate", rates),
            pl.Series("Input.id_str", (mix64(14, item) >> np.uint64(4)).astype(str)),
            pl.Series(
                "Input.text",
                texts(project.project_id, project.classes, f["truth"].to_numpy(), mix64(15, item)),
            ),
            pl.Series(f"Input.gold_{project.field}", list(gold), dtype=pl.String),
            pl.Series(f"Answer.{project.field}.label", classes[f["answer"].to_numpy()].astype(str)),
        )
        return frame

    def write_survey(self, idx: np.ndarray, start: np.ndarray) -> None:
        """One optional demographics HIT per worker (`idx`, taken at `start`): the self-reported
        groups the fairness audit maps with `worker_attributes`."""
        w = self.population.workers
        order = np.argsort(start, kind="stable")
        idx, start = idx[order], start[order]
        t = self.timeline
        frame = pl.DataFrame(
            {
                "start": start,
                "submit": start + 45.0 + (mix64(16, idx) % np.uint64(60)).astype(float),
            }
        )
        survey = frame.select(
            pl.Series("HITId", token(30, 17, idx)),
            pl.Series("HITTypeId", token(30, 18, np.zeros(len(idx), dtype=np.int64))),
            pl.lit(TITLES["about-you"]).alias("Title"),
            pl.lit("Tell us a little about yourself. Every question is optional.").alias(
                "Description"
            ),
            pl.lit("survey, demographics").alias("Keywords"),
            pl.lit(dollars(SURVEY_REWARD)).alias("Reward"),
            t.local(pl.lit(-86400.0), ZONE, TIME_FORMAT).alias("CreationTime"),
            pl.lit("1").alias("MaxAssignments"),
            pl.lit(f"BatchId:{SURVEY_BATCH_ID};OriginalHitTemplateId:928390870;").alias(
                "RequesterAnnotation"
            ),
            pl.lit("3600").alias("AssignmentDurationInSeconds"),
            pl.lit(str(AUTO_APPROVAL_SECONDS)).alias("AutoApprovalDelayInSeconds"),
            t.local(pl.lit(100 * 86400.0), ZONE, TIME_FORMAT).alias("Expiration"),
            pl.lit(None, pl.String).alias("NumberOfSimilarHITs"),
            pl.lit(None, pl.String).alias("LifetimeInSeconds"),
            pl.Series("AssignmentId", np.char.add("3", token(29, 19, idx))),
            pl.Series("WorkerId", w.raw_id[idx].astype(str)),
            pl.lit("Approved").alias("AssignmentStatus"),
            t.local(pl.col("start"), ZONE, TIME_FORMAT).alias("AcceptTime"),
            t.local(pl.col("submit"), ZONE, TIME_FORMAT).alias("SubmitTime"),
            t.local(pl.col("submit") + AUTO_APPROVAL_SECONDS, ZONE, TIME_FORMAT).alias(
                "AutoApprovalTime"
            ),
            t.local(pl.col("submit") + 3600, ZONE, TIME_FORMAT).alias("ApprovalTime"),
            pl.lit(None, pl.String).alias("RejectionTime"),
            pl.lit(None, pl.String).alias("RequesterFeedback"),
            (pl.col("submit") - pl.col("start"))
            .cast(pl.Int64)
            .cast(pl.String)
            .alias("WorkTimeInSeconds"),
            pl.lit("0% (0/0)").alias("LifetimeApprovalRate"),
            pl.lit("0% (0/0)").alias("Last30DaysApprovalRate"),
            pl.lit("0% (0/0)").alias("Last7DaysApprovalRate"),
            pl.lit("v2").alias("Input.survey_version"),
            pl.Series("Answer.gender", list(w.gender[idx]), dtype=pl.String),
            pl.Series("Answer.age_band", list(w.age_band[idx]), dtype=pl.String),
        )
        sink = Sink(self.out / f"about-you_Batch_{SURVEY_BATCH_ID}_results.csv")
        sink.write_text(",".join([*survey.columns, "Approve", "Reject"]) + "\n")
        sink.rows = 1
        sink.write_csv(survey)
        sink.close()

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.close()


COMMON_COLUMNS = (
    "HITId", "HITTypeId", "Title", "Description", "Keywords", "Reward", "CreationTime",
    "MaxAssignments", "RequesterAnnotation", "AssignmentDurationInSeconds",
    "AutoApprovalDelayInSeconds", "Expiration", "NumberOfSimilarHITs", "LifetimeInSeconds",
    "AssignmentId", "WorkerId", "AssignmentStatus", "AcceptTime", "SubmitTime",
    "AutoApprovalTime", "ApprovalTime", "RejectionTime", "RequesterFeedback",
    "WorkTimeInSeconds", "LifetimeApprovalRate", "Last30DaysApprovalRate",
    "Last7DaysApprovalRate",
)  # fmt: skip
MTURK_STATUS = {"approved": "Approved", "rejected": "Rejected", "submitted": "Submitted"}


def approval_rates(who: np.ndarray, approved: np.ndarray, decided: np.ndarray) -> np.ndarray:
    """MTurk's `97% (120/124)` per row, from each worker's decisions so far (one string each)."""
    workers, row_worker = np.unique(who, return_inverse=True)
    a, d = approved[workers], decided[workers]
    pct = np.floor(100 * a / np.maximum(d, 1)).astype(int)
    text = np.array([f"{p}% ({x}/{y})" for p, x, y in zip(pct, a, d, strict=True)])
    return text[row_worker]
