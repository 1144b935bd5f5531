"""What the fairness audits read from the warehouse, and how the two large inputs are read a part
at a time, so that Python never holds every assignment or every answer at once.

- `INPUT_SQL`: each audit's input query (their rows are what `etl.marts.fairness.fingerprints`
  digests). Reviews come counted: one row per worker, reviewer, status and gold-correctness with
  the reviews it stands for (`count`), which the audit sums as it would single reviews.
- `work_input`: the workload audit's assignments, lean (integer codes for workers and
  platforms, the task type as whether it is sensitive), which the audit takes one group of
  workers at a time (`WORK_BUCKET_ROWS` assignments or so: a worker's workload needs only their
  own tasks).
- `label_inputs`: the label audit's answers, one project field at a time (the audit never looks
  across fields): per field, its answers counted per item, value and gold with the item's
  attributes (the data-subject side), and its answers one per row (the annotator side, whose
  agreement with the majority needs each answer).

The answers go through temporary tables sorted by field, built under `etl_memory_limit` (DuckDB
spills beyond it); Python reads one field of them at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

import duckdb
import polars as pl

from etl.settings import FairnessSettings, Settings
from etl.sources.workers import ANSWERED_ON, TIME_ZONE
from metrics.fairness.findings import COUNT, NOT_STATED, with_groups

_HOURS = (
    "approved_seconds + rejected_seconds + returned_seconds + gap_seconds"
    " + tracking_adjustment_seconds + unpaid_logged_seconds"
)
# the project fields the label audit reads: fields without regions
_FIELDS = "SELECT platform, project_id, field FROM mart_project_fields WHERE NOT has_regions"
INPUT_SQL = {
    "attributes": "SELECT {key}, attributes::VARCHAR AS attributes FROM {table}"
    " WHERE attributes IS NOT NULL",
    "pay_cells": f"""
        WITH cells AS (
            SELECT worker_id, platform, project_id, task_type,
                   sum(gross_earnings - fees) AS earnings, sum({_HOURS}) / 3600 AS hours,
                   sum(gap_seconds) / NULLIF(sum({_HOURS}), 0) AS fragmented_share,
                   min(day) AS first_day
            FROM mart_earnings_ledger GROUP BY ALL
            HAVING sum(priced_tasks) > 0 OR sum(gross_earnings) > 0)
        SELECT * EXCLUDE (first_day),
               (first_day - min(first_day) OVER (PARTITION BY worker_id))::DOUBLE AS tenure_days
        FROM cells""",
    # items without gold take no part in grading: joining only those with gold is the same
    "reviews": """
        WITH graded AS (
            SELECT n.assignment_uid,
                   bool_and(n.value = coalesce(n.gold_value, i.gold_value)) AS gold_correct
            FROM annotations n JOIN assignments a USING (assignment_uid)
            LEFT JOIN (SELECT platform, project_id, item_id, gold_value FROM items
                       WHERE gold_value IS NOT NULL) i USING (platform, project_id, item_id)
            WHERE n.ordinal = 0 AND coalesce(n.gold_value, i.gold_value) IS NOT NULL
            GROUP BY n.assignment_uid)
        SELECT a.worker_id, a.platform, a.reviewer_id, a.status, g.gold_correct,
               count(*) AS count
        FROM assignments a LEFT JOIN graded g USING (assignment_uid)
        WHERE a.status IN ('approved', 'rejected') AND a.reviewer_id IS NOT NULL
        GROUP BY ALL""",
    "work": """
        SELECT a.worker_id, a.platform, a.started_at, a.submitted_at, a.active_seconds,
               coalesce(a.task_type, p.task_type) AS task_type
        FROM assignments a LEFT JOIN projects p USING (platform, project_id)""",
    # first answers of submitted, approved and rejected assignments, with the answer's own gold
    "answers": f"""
        SELECT a.platform, a.project_id, n.field, a.item_id, a.worker_id, n.value,
               n.gold_value AS answer_gold
        FROM annotations n JOIN assignments a USING (assignment_uid)
        JOIN ({_FIELDS}) f
            ON f.platform = a.platform AND f.project_id = a.project_id AND f.field = n.field
        WHERE a.status IN ('submitted', 'approved', 'rejected') AND n.ordinal = 0
            AND n.value IS NOT NULL""",
    # what the label audit reads of items: their gold answer and their data subjects' attributes
    "answer_items": f"""
        SELECT platform, project_id, item_id, gold_value, attributes::VARCHAR AS attributes
        FROM items SEMI JOIN (SELECT DISTINCT platform, project_id FROM ({_FIELDS}))
            USING (platform, project_id)
        WHERE gold_value IS NOT NULL OR attributes IS NOT NULL""",
}
# Assignments the workload audit holds in Python at a time.
WORK_BUCKET_ROWS = 2_000_000

_LABEL_SQL = f"""
CREATE OR REPLACE TEMP TABLE fairness_fields AS
SELECT (row_number() OVER (ORDER BY platform, project_id, field) - 1)::INTEGER AS part,
       platform, project_id, field
FROM ({_FIELDS});
CREATE OR REPLACE TEMP TABLE fairness_answers AS
SELECT f.part, a.item_id, a.worker_id, a.value, a.answer_gold
FROM ({INPUT_SQL["answers"]}) a JOIN fairness_fields f USING (platform, project_id, field)
ORDER BY f.part;
CREATE OR REPLACE TEMP TABLE fairness_answer_items AS
SELECT d.part, d.item_id, i.gold_value AS item_gold, i.attributes::VARCHAR AS item_attributes
FROM (SELECT DISTINCT part, item_id FROM fairness_answers) d
JOIN fairness_fields f USING (part)
LEFT JOIN items i
    ON i.platform = f.platform AND i.project_id = f.project_id AND i.item_id = d.item_id
ORDER BY d.part;
"""
_LABEL_TABLES = ("fairness_fields", "fairness_answers", "fairness_answer_items")
_ANSWERS_SQL = "SELECT item_id, worker_id, value, answer_gold FROM fairness_answers WHERE part = ?"
_ITEMS_SQL = "SELECT item_id, item_gold, item_attributes FROM fairness_answer_items WHERE part = ?"


@dataclass
class LabelField:
    """One project field's answers and answered items, read from `read_answers` (`item_id`,
    `worker_id`, `value`, `answer_gold`) and `read_items` (`item_id`, `item_gold`,
    `item_attributes`) when first asked for."""

    scope: str  # platform:project/field
    platform: str
    read_answers: Callable[[], pl.DataFrame]
    read_items: Callable[[], pl.DataFrame]

    @cached_property
    def answers(self) -> pl.DataFrame:
        return self.read_answers()

    def subjects(self) -> pl.DataFrame:
        """The field's answers counted per item, value and gold (the answer's, else the
        item's), with one column per attribute of the item (`attribute_table`)."""
        rows = self.answers.join(self.read_items(), on="item_id", how="left")
        counted = rows.group_by(
            "item_id",
            "value",
            pl.coalesce("answer_gold", "item_gold").alias("gold"),
            "item_attributes",
        ).agg(pl.len().cast(pl.Int64).alias(COUNT))
        return attribute_table(counted, "item_attributes")

    def annotators(self) -> pl.DataFrame:
        """The field's answers, one per row, with the field's `platform`."""
        return self.answers.select(
            "item_id", "worker_id", "value", platform=pl.lit(self.platform, pl.String)
        )


@dataclass(frozen=True)
class LabelInputs:
    """The label audit's input: the attributes any answered item has, and its fields."""

    subject_attributes: list[str]
    fields: Iterator[LabelField]


@contextmanager
def sql_memory(con: duckdb.DuckDBPyConnection, settings: Settings) -> Iterator[None]:
    """Inside `etl.warehouse.memory_for_python`: a block of SQL alone (a temporary table
    built), under `etl_memory_limit`, back to `marts_memory_limit` after (DuckDB spills the
    table beyond it)."""
    con.execute("SET memory_limit = ?", [settings.etl_memory_limit])
    try:
        yield
    finally:
        con.execute("SET memory_limit = ?", [settings.marts_memory_limit])


@dataclass(frozen=True)
class WorkInput:
    """The workload audit's tasks, lean: `tasks` with `worker_id` and `platform` as integer
    codes (into `workers`, in worker id order, and `platforms`), `started_at`, `submitted_at`,
    `active_seconds` and `sensitive` (the task type, its own or its project's, is one of
    `[fairness] sensitive_task_types`)."""

    tasks: pl.DataFrame
    workers: pl.DataFrame  # code, worker_id
    platforms: list[str]

    @classmethod
    def of(cls, work: pl.DataFrame, sensitive_task_types: Iterable[str]) -> WorkInput:
        """A frame of `INPUT_SQL["work"]` rows, encoded."""
        workers = _codes(work["worker_id"], "worker_id")
        platforms = work["platform"].unique().sort().to_list()
        codes = pl.DataFrame({"platform": platforms}).with_row_index("platform_code")
        tasks = (
            work.join(workers.rename({"code": "worker"}), on="worker_id")
            .join(codes, on="platform")
            .select(
                worker_id=pl.col("worker").cast(pl.Int32),
                platform=pl.col("platform_code").cast(pl.Int16),
                started_at="started_at",
                submitted_at="submitted_at",
                active_seconds=pl.col("active_seconds").cast(pl.Float64)
                if "active_seconds" in work.columns
                else pl.lit(None, pl.Float64),
                sensitive=pl.col("task_type").is_in(list(sensitive_task_types))
                if "task_type" in work.columns
                else pl.lit(False),
            )
        )
        return cls(tasks, workers, platforms)

    def coded(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` with its `worker_id`s as their codes (rows of other workers dropped)."""
        codes = self.workers.rename({"code": "coded"})
        joined = frame.join(codes, on="worker_id", maintain_order="left")
        return joined.with_columns(worker_id="coded").drop("coded")

    def named(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` with its `worker_id` codes as the workers' ids."""
        names = self.workers.rename({"worker_id": "named", "code": "worker_id"})
        joined = frame.join(names, on="worker_id", maintain_order="left")
        return joined.with_columns(worker_id="named").drop("named")

    def workers_on(self) -> pl.DataFrame:
        """Each worker (`worker_id`) with a task on a platform (`platform`, `platform_code`)."""
        platforms = pl.DataFrame({"platform": self.platforms}).with_row_index("platform_code")
        pairs = self.tasks.select("worker_id", platform_code="platform").unique()
        return self.named(pairs).join(
            platforms.with_columns(pl.col("platform_code").cast(pl.Int16)), on="platform_code"
        )

    def batches(self, rows: int | None = None) -> Iterator[pl.DataFrame]:
        """The tasks in groups of workers (consecutive codes) of about `rows` tasks each
        (`WORK_BUCKET_ROWS`)."""
        n = max(1, -(-self.tasks.height // (rows or WORK_BUCKET_ROWS)))
        per_group = -(-self.workers.height // n)
        for first in range(0, max(self.workers.height, 1), max(per_group, 1)):
            code = pl.col("worker_id")
            yield self.tasks.filter((code >= first) & (code < first + per_group))


def _codes(ids: pl.Series, name: str) -> pl.DataFrame:
    """The distinct `ids` in order with their `code` (0, 1, ...)."""
    return (
        ids.unique()
        .sort()
        .to_frame(name)
        .with_row_index("code")
        .with_columns(pl.col("code").cast(pl.Int32))
    )


_WORK_CODES_SQL = """
CREATE OR REPLACE TEMP TABLE fairness_workers AS
SELECT (row_number() OVER (ORDER BY worker_id) - 1)::INTEGER AS code, worker_id
FROM (SELECT DISTINCT worker_id FROM assignments);
CREATE OR REPLACE TEMP TABLE fairness_platforms AS
SELECT (row_number() OVER (ORDER BY platform) - 1)::SMALLINT AS code, platform
FROM (SELECT DISTINCT platform FROM assignments);
"""
_WORK_TASKS_SQL = """
SELECT w.code AS worker_id, g.code AS platform, a.started_at, a.submitted_at,
       a.active_seconds::DOUBLE AS active_seconds,
       list_contains(?::VARCHAR[], coalesce(a.task_type, p.task_type)) AS sensitive
FROM assignments a JOIN fairness_workers w USING (worker_id)
JOIN fairness_platforms g USING (platform)
LEFT JOIN projects p USING (platform, project_id)"""


def work_input(con: duckdb.DuckDBPyConnection, settings: Settings) -> WorkInput:
    """`INPUT_SQL["work"]` read as a `WorkInput`: ids travel as codes, task types as one truth,
    so that ten million tasks weigh some 300 MB."""
    with sql_memory(con, settings):
        con.execute(_WORK_CODES_SQL)
        try:
            sensitive = list(settings.fairness.sensitive_task_types)
            tasks = con.sql(_WORK_TASKS_SQL, params=[sensitive]).pl()
            workers = con.sql("SELECT code, worker_id FROM fairness_workers ORDER BY code").pl()
            platforms = [p for (p,) in con.sql(
                "SELECT platform FROM fairness_platforms ORDER BY code").fetchall()]  # fmt: skip
        finally:
            for table in ("fairness_workers", "fairness_platforms"):
                con.execute(f"DROP TABLE IF EXISTS {table}")
    return WorkInput(tasks, workers, platforms)


def label_inputs(con: duckdb.DuckDBPyConnection, settings: Settings) -> LabelInputs:
    """The label audit's fields, each read when the audit reaches it; the temporary tables
    behind them are dropped once the last is read."""
    with sql_memory(con, settings):
        con.execute(_LABEL_SQL)
    texts = con.sql(
        "SELECT DISTINCT item_attributes FROM fairness_answer_items"
        " WHERE item_attributes IS NOT NULL ORDER BY 1"
    ).fetchall()
    keys = sorted({k for (text,) in texts for k in json.loads(text)})
    fields = con.sql(
        "SELECT part, platform, project_id, field FROM fairness_fields ORDER BY part"
    ).fetchall()

    def read(sql: str, part: int) -> pl.DataFrame:
        return con.sql(sql, params=[part]).pl()

    def each() -> Iterator[LabelField]:
        try:
            for part, platform, project, field in fields:
                yield LabelField(
                    f"{platform}:{project}/{field}",
                    platform,
                    lambda p=part: read(_ANSWERS_SQL, p),
                    lambda p=part: read(_ITEMS_SQL, p),
                )
        finally:
            for table in _LABEL_TABLES:
                con.execute(f"DROP TABLE IF EXISTS {table}")

    return LabelInputs(keys, each())


def attribute_table(rows: pl.DataFrame, json_column: str = "attributes") -> pl.DataFrame:
    """One row per row of `rows` with one column per key of its JSON `json_column` (text;
    missing answers null), the JSON column dropped.

    >>> rows = pl.DataFrame({"worker_id": ["a", "b"],
    ...                      "attributes": ['{"g": "f"}', '{"g": null, "age": 3}']})
    >>> attribute_table(rows).rows()
    [('a', None, 'f'), ('b', '3', None)]
    """
    # each distinct text parsed once (answers share their item's few attribute texts)
    texts = rows[json_column].unique(maintain_order=True)
    parsed = [json.loads(text) if text else {} for text in texts.to_list()]
    keys = sorted({k for answers in parsed for k in answers})
    columns = {
        k: pl.Series(k, [_text(answers.get(k)) for answers in parsed], dtype=pl.String)
        for k in keys
    }
    table = pl.DataFrame([texts, *columns.values()]) if keys else texts.to_frame()
    joined = rows.join(table, on=json_column, how="left", nulls_equal=True, maintain_order="left")
    return joined.drop(json_column).select(*[c for c in rows.columns if c != json_column], *keys)


def attributes_of(people: pl.DataFrame, key: str = "worker_id") -> list[str]:
    """The attribute columns of an attribute table (the survey's answer date and the
    workers' time zones are none)."""
    return [c for c in people.columns if c not in (key, "platform", ANSWERED_ON, TIME_ZONE)]


def audited(frame: pl.DataFrame, people: pl.DataFrame, attribute: str) -> pl.DataFrame:
    """The rows of `frame` on the platforms where some worker answered `attribute`."""
    platforms = people.filter(pl.col(attribute).is_not_null())["platform"].unique()
    return frame.filter(pl.col("platform").is_in(platforms.implode()))


def worker_groups(rows: pl.DataFrame, people: pl.DataFrame, attribute: str) -> pl.DataFrame:
    """The distinct workers of `rows` with their `group` of `attribute`."""
    return with_groups(rows.select("worker_id").unique(), people, attribute)


def reference_for(groups: pl.DataFrame, attribute: str, fairness: FairnessSettings) -> str | None:
    """The reference among `groups` (one row per unit with its `group`): the configured one
    where some unit has it, else the largest group that stated an answer (None when none did:
    the audit then takes the largest).

    >>> units = pl.DataFrame({"group": ["a", "b", "b", "not stated", "not stated", "not stated"]})
    >>> reference_for(units, "g", FairnessSettings()), reference_for(
    ...     units, "g", FairnessSettings(reference_groups={"g": "a"}))
    ('b', 'a')
    """
    configured = fairness.reference_groups.get(attribute)
    if configured is not None and configured in groups["group"].to_list():
        return configured
    sizes = groups.filter(pl.col("group") != NOT_STATED).group_by("group").len()
    if sizes.is_empty():
        return None
    return sizes.sort(["len", "group"], descending=[True, False])["group"][0]


def runnable_reference(
    rows: pl.DataFrame, people: pl.DataFrame, attribute: str, settings: Settings
) -> tuple[bool, str | None]:
    """(whether the workers of `rows` fall in two groups or more, their reference group)."""
    groups = worker_groups(rows, people, attribute)
    return groups["group"].n_unique() >= 2, reference_for(groups, attribute, settings.fairness)


def worker_time_zones(people: pl.DataFrame) -> pl.DataFrame:
    """`worker_id` and `time_zone` of the workers whose time zone is known."""
    if TIME_ZONE not in people.columns:
        return pl.DataFrame(schema={"worker_id": pl.String, "time_zone": pl.String})
    return people.filter(pl.col(TIME_ZONE).is_not_null()).select("worker_id", TIME_ZONE)


def _text(value: object) -> str | None:
    """An attribute answer as text (JSON numbers and booleans as written), None when missing."""
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)
