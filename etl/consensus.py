"""Consensus labels of the warehouse's fields from a published snapshot: one row per unit (an
item within its project and field) of every categorical field the Quality page offers
(`mart_quality_fields`), from the answers the quality figures count, through
`metrics.consensus_labels`. The one way `crowdmeter consensus --project` and the Quality page's
download get them, so both give the same rows.

`query(sql, params)` runs one bound query on the snapshot (`SnapshotReader.frame`, or a page's
`ScopedData.frame`); `keys` ("PLATFORM:PROJECT_ID") limit the projects read (a manager's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from etl.tracking import IN_KEYS, Query
from metrics.consensus import TieRule
from metrics.consensus_labels import COLUMNS, Method, consensus_labels
from metrics.quality import ANSWERED, first_answers

FIELDS_SQL = f"""
SELECT platform, project_id, field FROM mart_quality_fields
WHERE kind = 'categorical' AND {IN_KEYS}
    AND ($platform::VARCHAR IS NULL OR platform = $platform)
    AND ($project_id::VARCHAR IS NULL OR project_id = $project_id)
    AND ($field::VARCHAR IS NULL OR field = $field)
ORDER BY platform, project_id, field
"""
# The answers of one field that agreement counts (docs/METRICS.md, "Quality"): of submitted,
# approved and rejected assignments; `first_answers` keeps the first of a multi-valued field
# and `encode_ratings` drops answers without a value.
ANSWERS_SQL = """
SELECT a.item_id AS unit, a.worker_id AS coder, n.value, n.ordinal
FROM assignments AS a JOIN annotations AS n USING (assignment_uid)
WHERE a.platform = $platform AND a.project_id = $project_id AND n.field = $field
    AND list_contains($answered::VARCHAR[], a.status)
"""
KEYS = ("platform", "project_id", "field")
SCHEMA = {
    "platform": pl.String,
    "project_id": pl.String,
    "field": pl.String,
    "unit": pl.String,
    "label": pl.String,
    "confidence": pl.Float64,
    "n_ratings": pl.Int64,
}


@dataclass(frozen=True)
class FieldChoice:
    """Which fields to label: all in `keys` (None: every project), narrowed by the others."""

    keys: Sequence[str] | None = None
    platform: str | None = None
    project_id: str | None = None
    field: str | None = None


def consensus_fields(query: Query, choice: FieldChoice) -> pl.DataFrame:
    """The categorical fields (platform, project_id, field) `choice` names, in order."""
    params = {
        "keys": None if choice.keys is None else list(choice.keys),
        "platform": choice.platform,
        "project_id": choice.project_id,
        "field": choice.field,
    }
    return query(FIELDS_SQL, params)


def field_consensus(
    query: Query,
    choice: FieldChoice,
    method: Method = "majority",
    ties: TieRule = "none",
    seed: int = 0,
) -> pl.DataFrame:
    """One row per unit of each field `choice` names: platform, project_id, field, unit,
    label, confidence, n_ratings; sorted by field, then unit."""
    parts = []
    for key in consensus_fields(query, choice).iter_rows():
        params = dict(zip(KEYS, key, strict=True)) | {"answered": list(ANSWERED)}
        answers = first_answers(query(ANSWERS_SQL, params)).drop("ordinal")
        if answers["value"].null_count() == answers.height:
            continue
        labels = consensus_labels(answers, method, ties, seed)
        keys = [pl.lit(v, pl.String).alias(k) for k, v in zip(KEYS, key, strict=True)]
        parts.append(labels.select(*keys, *COLUMNS).cast(SCHEMA))
    return pl.concat(parts) if parts else pl.DataFrame(schema=SCHEMA)
