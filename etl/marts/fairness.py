"""The fairness audits run on the built warehouse at publish: `mart_fairness_findings`, one row
per finding of `metrics/fairness/` (the fields of `crowdmeter audit --json`; suppressed groups
kept with flag "suppressed"), read by the `audit` command, the Fairness page and the report.

Where the inputs come from:

- worker attributes: `workers.attributes` (configured export columns, the `workers` survey
  template); an attribute is audited over the workers of the platforms that record it (a
  platform that never asked has no "not stated" workers, it has no answers at all);
- pay equity: `mart_earnings_ledger` (built before) summed per worker, platform, project and
  task type, priced work only; controls tenure (days from the worker's first day to the
  cell's) and fragmented share (gaps inside sessions / all time worked);
- review fairness: assignments approved or rejected by a named reviewer, gold-correct when
  every first answer with a gold answer equals it;
- label bias: first answers of submitted, approved and rejected assignments per project field
  without regions; data-subject groups from `items.attributes`, annotator groups from workers'
  (a field that is itself an attribute, the survey's answers, is left out);
- workload: every assignment, with its project's task type where it names none.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable
from dataclasses import replace
from itertools import combinations

import duckdb
import polars as pl
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from etl.settings import FairnessSettings, Settings
from etl.sources.workers import ANSWERED_ON, TIME_ZONE
from etl.warehouse import memory_for_python, replace_table
from metrics.fairness.findings import (
    NOT_STATED,
    SCHEMA,
    AuditSettings,
    Finding,
    findings_frame,
    group_labels,
    with_groups,
)
from metrics.fairness.labels import (
    error_rates,
    label_distribution,
    label_rates,
    majority_agreement,
)
from metrics.fairness.pay_equity import intersection, pay_equity
from metrics.fairness.review import review_fairness
from metrics.fairness.workload import workload

TABLE = "mart_fairness_findings"
# each audit's input fingerprint when its findings were last computed (see `build`)
INPUTS = "mart_fairness_inputs"
GRAINS: dict[str, tuple[str, ...]] = {
    TABLE: ("audit", "attribute", "group", "reference", "measure"),
    INPUTS: ("audit",),
}

_HOURS = (
    "approved_seconds + rejected_seconds + returned_seconds + gap_seconds"
    " + tracking_adjustment_seconds + unpaid_logged_seconds"
)
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
    "reviews": """
        WITH graded AS (
            SELECT n.assignment_uid,
                   bool_and(n.value = coalesce(n.gold_value, i.gold_value)) AS gold_correct
            FROM annotations n JOIN assignments a USING (assignment_uid)
            LEFT JOIN items i USING (platform, project_id, item_id)
            WHERE n.ordinal = 0 AND coalesce(n.gold_value, i.gold_value) IS NOT NULL
            GROUP BY n.assignment_uid)
        SELECT a.worker_id, a.platform, a.reviewer_id, a.status, g.gold_correct
        FROM assignments a LEFT JOIN graded g USING (assignment_uid)
        WHERE a.status IN ('approved', 'rejected') AND a.reviewer_id IS NOT NULL""",
    "work": """
        SELECT a.worker_id, a.platform, a.started_at, a.submitted_at, a.active_seconds,
               coalesce(a.task_type, p.task_type) AS task_type
        FROM assignments a LEFT JOIN projects p USING (platform, project_id)""",
    "answers": """
        SELECT a.platform || ':' || a.project_id || '/' || n.field AS scope, a.platform,
               a.item_id, a.worker_id, n.value, coalesce(n.gold_value, i.gold_value) AS gold,
               i.attributes::VARCHAR AS item_attributes
        FROM annotations n JOIN assignments a USING (assignment_uid)
        JOIN mart_project_fields f
            ON f.platform = a.platform AND f.project_id = a.project_id AND f.field = n.field
        LEFT JOIN items i
            ON i.platform = a.platform AND i.project_id = a.project_id AND i.item_id = a.item_id
        WHERE a.status IN ('submitted', 'approved', 'rejected') AND n.ordinal = 0
            AND n.value IS NOT NULL AND NOT f.has_regions""",
}


def build(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Run the audits on the warehouse and write `mart_fairness_findings`, recomputing only
    the audits whose inputs changed: each audit's fingerprint (`fingerprints`: its input rows
    per platform, the attributes and the settings) is kept in `mart_fairness_inputs`, and an
    audit whose fingerprint is the one kept keeps its previous findings."""
    now = fingerprints(con, settings)
    before, kept = _previous(con)
    reuse = {audit for audit, fp in now.items() if before.get(audit) == fp}
    with memory_for_python(con, settings):
        fresh = findings_frame(audit_warehouse(con, settings, skip=reuse))
    frame = pl.concat([kept.filter(pl.col("audit").is_in(list(reuse))), fresh]).sort(
        "audit", "attribute", "measure", "group", "reference", nulls_last=False
    )
    replace_table(con, TABLE, "SELECT * FROM fairness_rows", fairness_rows=frame)
    inputs = pl.DataFrame({"audit": list(now), "fingerprint": list(now.values())})
    replace_table(con, INPUTS, "SELECT * FROM fairness_inputs", fairness_inputs=inputs)


# the input queries of each audit, beside the attributes every audit reads
AUDIT_INPUTS = {
    "pay_equity": "pay_cells",
    "review_fairness": "reviews",
    "workload": "work",
    "label_bias": "answers",
}


# The pay cells are sums, whose last bits depend on the order DuckDB's threads add in: their
# fingerprint takes them to a millionth, so that the same ledger gives the same fingerprint.
FINGERPRINT_SQL = {
    "pay_cells": "SELECT * REPLACE (earnings::DECIMAL(38, 6) AS earnings,"
    " hours::DECIMAL(38, 6) AS hours, fragmented_share::DECIMAL(38, 6) AS fragmented_share)"
    " FROM ({query})",
}


def fingerprints(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, str]:
    """Per audit, a digest of what its findings depend on: per platform the count and an
    order-free hash (xor of row hashes) of its input query's rows and of the workers'
    attributes, and the settings. Equal digests, equal findings (the audits are deterministic
    given their rows and seed, whatever the rows' order)."""
    settings_text = json.dumps(
        [settings.fairness.model_dump(mode="json"), settings.min_group_size], sort_keys=True
    )
    attributes = _digest(con, INPUT_SQL["attributes"].format(
        key="worker_id, platform", table="workers"))  # fmt: skip
    out = {}
    for audit, query in AUDIT_INPUTS.items():
        rows = FINGERPRINT_SQL.get(query, "{query}").format(query=INPUT_SQL[query])
        text = json.dumps([settings_text, attributes, _digest(con, rows)])
        out[audit] = hashlib.sha256(text.encode()).hexdigest()
    return out


def _digest(con: duckdb.DuckDBPyConnection, query: str) -> list[list]:
    rows = con.sql(
        f"SELECT platform, count(*) AS n, bit_xor(hash(t)) AS h FROM ({query}) t"
        " GROUP BY platform ORDER BY platform"
    ).fetchall()
    return [[str(p), int(n), str(h)] for p, n, h in rows]


def _previous(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str], pl.DataFrame]:
    """(fingerprint per audit, findings) of the previous build; nothing before the first."""
    tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    if not {TABLE, INPUTS} <= tables:
        return {}, findings_frame([])
    kept = dict(con.sql(f"SELECT audit, fingerprint FROM {INPUTS}").fetchall())
    return kept, con.sql(f"SELECT * FROM {TABLE}").pl().cast(dict(SCHEMA))


def audit_settings(settings: Settings) -> AuditSettings:
    """The audits' resampling settings from `[fairness]` and `min_group_size`."""
    f = settings.fairness
    return AuditSettings(
        f.bootstrap_samples, f.permutations, f.seed, f.confidence, f.alpha, settings.min_group_size
    )


def audit_warehouse(
    con: duckdb.DuckDBPyConnection, settings: Settings, skip: Iterable[str] = ()
) -> list[Finding]:
    """Every finding of the four audits on the warehouse `con` (but the audits named in
    `skip`), sorted."""
    skip = set(skip)

    def query(name: str) -> pl.DataFrame:
        return con.sql(INPUT_SQL[name]).pl()

    people = attribute_table(con.sql(INPUT_SQL["attributes"].format(
        key="worker_id, platform", table="workers")).pl())  # fmt: skip
    audits = {
        "pay_equity": pay_findings,
        "review_fairness": review_findings,
        "workload": workload_findings,
        "label_bias": label_findings,
    }
    found: list[Finding] = []
    for audit, run in audits.items():
        if audit not in skip:
            found += run(query(AUDIT_INPUTS[audit]), people, settings)
    return sorted(
        found, key=lambda f: (f.audit, f.attribute, f.measure, f.group, f.reference or "")
    )


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


def _reference(
    rows: pl.DataFrame, people: pl.DataFrame, attribute: str, settings: Settings
) -> tuple[bool, str | None]:
    """(whether the workers of `rows` fall in two groups or more, their reference group)."""
    groups = worker_groups(rows, people, attribute)
    return groups["group"].n_unique() >= 2, reference_for(groups, attribute, settings.fairness)


def pay_findings(cells: pl.DataFrame, people: pl.DataFrame, settings: Settings) -> list[Finding]:
    """Pay equity per attribute, and per pair of attributes whose cells are all large enough."""
    audit, fairness = audit_settings(settings), settings.fairness
    found: list[Finding] = []
    attributes = attributes_of(people)
    for attribute in attributes:
        mine = audited(cells, people, attribute)
        runnable, ref = _reference(mine, people, attribute, settings)
        if runnable:
            found += _pay_equity(mine, people, attribute, ref, audit)
    for first, second in combinations(attributes, 2):
        both = audited(audited(people, people, first), people, second)
        crossed = intersection(both, first, second, fairness.intersection_min_group_size)
        if crossed is None:
            continue
        name = f"{first} x {second}"
        mine = cells.filter(pl.col("worker_id").is_in(both["worker_id"].implode()))
        runnable, ref = _reference(mine, crossed, name, settings)
        if runnable:
            found += _pay_equity(mine, crossed, name, ref, audit)
    return found


def _pay_equity(
    cells: pl.DataFrame, people: pl.DataFrame, attribute: str, ref: str | None, audit: AuditSettings
) -> list[Finding]:
    # Projects nest in platforms and often fix the task type: the controls are collinear by
    # construction, and the pseudo-inverse statsmodels then uses still identifies the groups'
    # coefficients (the groups are not collinear with the controls), so its warning says nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularMatrixWarning)
        return pay_equity(cells, people, attribute, ref, settings=audit)


def review_findings(
    reviews: pl.DataFrame, people: pl.DataFrame, settings: Settings
) -> list[Finding]:
    """Review fairness per attribute."""
    audit, found = audit_settings(settings), []
    for attribute in attributes_of(people):
        mine = audited(reviews, people, attribute)
        runnable, ref = _reference(mine, people, attribute, settings)
        if runnable:
            found += review_fairness(mine, people, attribute, ref, settings=audit)
    return found


def workload_findings(
    work: pl.DataFrame, people: pl.DataFrame, settings: Settings
) -> list[Finding]:
    """Workload per attribute, on each worker's clock where the workers template gave their
    time zone (UTC otherwise)."""
    audit, found = audit_settings(settings), []
    sensitive = settings.fairness.sensitive_task_types
    zones = worker_time_zones(people)
    for attribute in attributes_of(people):
        mine = audited(work, people, attribute)
        runnable, ref = _reference(mine, people, attribute, settings)
        if runnable:
            found += workload(mine, people, attribute, ref, time_zones=zones,
                              sensitive_task_types=sensitive, settings=audit)  # fmt: skip
    return found


def worker_time_zones(people: pl.DataFrame) -> pl.DataFrame:
    """`worker_id` and `time_zone` of the workers whose time zone is known."""
    if TIME_ZONE not in people.columns:
        return pl.DataFrame(schema={"worker_id": pl.String, "time_zone": pl.String})
    return people.filter(pl.col(TIME_ZONE).is_not_null()).select("worker_id", TIME_ZONE)


def label_findings(
    answers: pl.DataFrame, people: pl.DataFrame, settings: Settings
) -> list[Finding]:
    """Label bias per project field: by data-subject group (label rates, and error rates
    against gold on fields of two labels) and by annotator group (label distribution and
    agreement with the majority)."""
    audit, found = audit_settings(settings), []
    worker_attributes = attributes_of(people)
    subjects = attribute_table(answers, "item_attributes")
    subject_attributes = [c for c in subjects.columns if c not in answers.columns]
    for (scope,), rows in subjects.partition_by("scope", as_dict=True).items():
        field = scope.rpartition("/")[2]
        if field in worker_attributes or field in subject_attributes:
            continue  # the survey's own answers
        for attribute in subject_attributes:
            if rows[attribute].null_count() == rows.height:
                continue
            items = rows.select("item_id", group_labels(rows[attribute]).alias("group"))
            ref = reference_for(items.unique("item_id"), attribute, settings.fairness)
            part = label_rates(rows, attribute, ref, settings=audit)
            labels = set(rows["value"].drop_nulls()) | set(rows["gold"].drop_nulls())
            if len(labels) == 2 and rows["gold"].null_count() < rows.height:
                part += error_rates(rows, attribute, None, ref, settings=audit)
            found += scoped(part, scope)
        annotated = rows.join(people.drop("platform"), on="worker_id", how="left")
        for attribute in worker_attributes:
            mine = audited(annotated, people, attribute)
            runnable, ref = _reference(mine, people, attribute, settings)
            if mine.is_empty() or not runnable:
                continue
            part = label_distribution(mine, attribute, settings=audit)
            part += majority_agreement(mine, attribute, ref, settings=audit)
            found += scoped(part, scope)
    return found


def scoped(findings: Iterable[Finding], scope: str) -> list[Finding]:
    """Findings of one project field: `field=<platform:project/field>` first in the measure's
    scope and at the start of the reason, so that fields never share a row.

    >>> f = Finding("label_bias", "d", "a", None, "label_rate@label=x", 1, 1, 1, None, None, 9,
    ...             None, "why")
    >>> (g := scoped([f], "t:p/tox")[0]).measure, g.reason
    ('label_rate@field=t:p/tox,label=x', 't:p/tox: why')
    """
    out = []
    for f in findings:
        name, _, rest = f.measure.partition("@")
        measure = f"{name}@field={scope}" + (f",{rest}" if rest else "")
        out.append(replace(f, measure=measure, reason=f"{scope}: {f.reason}"))
    return out


def _text(value: object) -> str | None:
    """An attribute answer as text (JSON numbers and booleans as written), None when missing."""
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)
