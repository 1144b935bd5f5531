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

The queries, and how the work (in groups of workers) and the answers (field by field) are
read a part at a time, are in `etl.marts.fairness_inputs`.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from itertools import combinations
from typing import Any

import duckdb
import polars as pl
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from etl.marts.fairness_inputs import (
    INPUT_SQL,
    LabelInputs,
    WorkInput,
    attribute_table,
    attributes_of,
    audited,
    label_inputs,
    reference_for,
    runnable_reference,
    work_input,
    worker_time_zones,
)
from etl.settings import Settings
from etl.warehouse import memory_for_python, replace_table
from metrics.fairness.findings import (
    SCHEMA,
    AuditSettings,
    Finding,
    findings_frame,
    group_labels,
)
from metrics.fairness.labels import (
    error_rates,
    label_distribution,
    label_rates,
    majority_agreement,
)
from metrics.fairness.pay_equity import intersection, pay_equity
from metrics.fairness.review import review_fairness
from metrics.fairness.workload import worker_workload, workload_by_group

TABLE = "mart_fairness_findings"
# each audit's input fingerprint when its findings were last computed (see `build`)
INPUTS = "mart_fairness_inputs"
GRAINS: dict[str, tuple[str, ...]] = {
    TABLE: ("audit", "attribute", "group", "reference", "measure"),
    INPUTS: ("audit",),
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
    "pay_equity": ("pay_cells",),
    "review_fairness": ("reviews",),
    "workload": ("work",),
    "label_bias": ("answers", "answer_items"),
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
    order-free hash (xor of row hashes) of its input queries' rows and of the workers'
    attributes, and the settings. Equal digests, equal findings (the audits are deterministic
    given their rows and seed, whatever the rows' order)."""
    settings_text = json.dumps(
        [settings.fairness.model_dump(mode="json"), settings.min_group_size], sort_keys=True
    )
    attributes = _digest(con, INPUT_SQL["attributes"].format(
        key="worker_id, platform", table="workers"))  # fmt: skip
    out = {}
    for audit, queries in AUDIT_INPUTS.items():
        digests = [
            _digest(con, FINGERPRINT_SQL.get(q, "{query}").format(query=INPUT_SQL[q]))
            for q in queries
        ]
        text = json.dumps([settings_text, attributes, *digests])
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


def people_of(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The workers' attributes, one column each (`attribute_table`)."""
    return attribute_table(con.sql(INPUT_SQL["attributes"].format(
        key="worker_id, platform", table="workers")).pl())  # fmt: skip


def audit_inputs(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> dict[str, Callable[[], Any]]:
    """Per audit, its input read from `con` when called: a frame (pay cells, counted reviews),
    the work in groups of workers, or the answers field by field."""
    return {
        "pay_equity": lambda: con.sql(INPUT_SQL["pay_cells"]).pl(),
        "review_fairness": lambda: con.sql(INPUT_SQL["reviews"]).pl(),
        "workload": lambda: work_input(con, settings),
        "label_bias": lambda: label_inputs(con, settings),
    }


def audit_warehouse(
    con: duckdb.DuckDBPyConnection, settings: Settings, skip: Iterable[str] = ()
) -> list[Finding]:
    """Every finding of the four audits on the warehouse `con` (but the audits named in
    `skip`), sorted. Run inside `etl.warehouse.memory_for_python`."""
    skip = set(skip)
    people = people_of(con)
    inputs = audit_inputs(con, settings)
    audits = {
        "pay_equity": pay_findings,
        "review_fairness": review_findings,
        "workload": workload_findings,
        "label_bias": label_findings,
    }
    found: list[Finding] = []
    for audit, run in audits.items():
        if audit not in skip:
            found += run(inputs[audit](), people, settings)
    return sorted(
        found, key=lambda f: (f.audit, f.attribute, f.measure, f.group, f.reference or "")
    )


def pay_findings(cells: pl.DataFrame, people: pl.DataFrame, settings: Settings) -> list[Finding]:
    """Pay equity per attribute, and per pair of attributes whose cells are all large enough."""
    audit, fairness = audit_settings(settings), settings.fairness
    found: list[Finding] = []
    attributes = attributes_of(people)
    for attribute in attributes:
        mine = audited(cells, people, attribute)
        runnable, ref = runnable_reference(mine, people, attribute, settings)
        if runnable:
            found += _pay_equity(mine, people, attribute, ref, audit)
    for first, second in combinations(attributes, 2):
        both = audited(audited(people, people, first), people, second)
        crossed = intersection(both, first, second, fairness.intersection_min_group_size)
        if crossed is None:
            continue
        name = f"{first} x {second}"
        mine = cells.filter(pl.col("worker_id").is_in(both["worker_id"].implode()))
        runnable, ref = runnable_reference(mine, crossed, name, settings)
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
    """Review fairness per attribute (reviews one per row, or counted)."""
    audit, found = audit_settings(settings), []
    for attribute in attributes_of(people):
        mine = audited(reviews, people, attribute)
        runnable, ref = runnable_reference(mine, people, attribute, settings)
        if runnable:
            found += review_fairness(mine, people, attribute, ref, settings=audit)
    return found


def workload_findings(
    work: pl.DataFrame | WorkInput, people: pl.DataFrame, settings: Settings
) -> list[Finding]:
    """Workload per attribute, on each worker's clock where the workers template gave their
    time zone (UTC otherwise), from the work (a frame of `INPUT_SQL["work"]` rows, or read as
    a `WorkInput`), one group of workers at a time. A worker's workload is computed once for
    all the attributes recorded on the same platforms (each is audited over their work)."""
    audit, found = audit_settings(settings), []
    if isinstance(work, pl.DataFrame):
        work = WorkInput.of(work, settings.fairness.sensitive_task_types)
    zones = work.coded(worker_time_zones(people))
    attributes = attributes_of(people)
    recorded = {a: set(people.filter(pl.col(a).is_not_null())["platform"]) for a in attributes}
    where_of = {a: tuple(i for i, p in enumerate(work.platforms) if p in recorded[a])
                for a in attributes}  # fmt: skip
    per_worker: dict[tuple[int, ...], list[pl.DataFrame]] = defaultdict(list)
    for batch in work.batches():
        for where in set(where_of.values()):
            rows = batch.filter(pl.col("platform").is_in(where))
            if rows.height:
                per_worker[where].append(worker_workload(rows, zones))
    seen = work.workers_on()  # every worker with a task, timed or not
    for attribute in attributes:
        where = where_of[attribute]
        mine = seen.filter(pl.col("platform_code").is_in(where))
        runnable, ref = runnable_reference(mine, people, attribute, settings)
        if runnable:
            table = work.named(pl.concat(per_worker[where])).sort("worker_id")
            found += workload_by_group(table, people, attribute, ref, settings=audit)
    return found


def label_findings(answers: LabelInputs, people: pl.DataFrame, settings: Settings) -> list[Finding]:
    """Label bias per project field: by data-subject group (label rates, and error rates
    against gold on fields of two labels) and by annotator group (label distribution and
    agreement with the majority)."""
    audit, found = audit_settings(settings), []
    worker_attributes = attributes_of(people)
    subject_attributes = answers.subject_attributes
    for part in answers.fields:
        field, scope = part.scope.rpartition("/")[2], part.scope
        if field in worker_attributes or field in subject_attributes:
            continue  # the survey's own answers
        rows = part.subjects() if subject_attributes else None
        for attribute in subject_attributes:
            if attribute not in rows.columns or rows[attribute].null_count() == rows.height:
                continue
            items = rows.select("item_id", group_labels(rows[attribute]).alias("group"))
            ref = reference_for(items.unique("item_id"), attribute, settings.fairness)
            found_here = label_rates(rows, attribute, ref, settings=audit)
            labels = set(rows["value"].drop_nulls()) | set(rows["gold"].drop_nulls())
            if len(labels) == 2 and rows["gold"].null_count() < rows.height:
                found_here += error_rates(rows, attribute, None, ref, settings=audit)
            found += scoped(found_here, scope)
        if not worker_attributes:
            continue
        annotated = part.annotators().join(people.drop("platform"), on="worker_id", how="left")
        for attribute in worker_attributes:
            mine = audited(annotated, people, attribute)
            runnable, ref = runnable_reference(mine, people, attribute, settings)
            if mine.is_empty() or not runnable:
                continue
            found_here = label_distribution(mine, attribute, settings=audit)
            found_here += majority_agreement(mine, attribute, ref, settings=audit)
            found += scoped(found_here, scope)
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
