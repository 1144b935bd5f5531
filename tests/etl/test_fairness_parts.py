"""The fairness mart reads its large inputs a part at a time (the work in groups of workers, the
answers field by field): the findings are those of the whole input at once."""

from __future__ import annotations

from dataclasses import astuple

import duckdb
import polars as pl
import pytest

from etl.marts import fairness, fairness_inputs
from etl.marts.fairness_inputs import INPUT_SQL, audited, runnable_reference, worker_time_zones
from metrics.fairness.workload import workload
from tests.etl.simulated import simulated_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    settings = simulated_warehouse(tmp_path_factory.mktemp("parts"), 3, 0.1, "parts-key")
    # hours on classification counted as sensitive: the SQL and the frame must agree on it
    fair = settings.fairness.model_copy(update={"sensitive_task_types": ["classification"]})
    return settings.model_copy(update={"fairness": fair})


def test_workload_in_groups_of_workers_equals_the_whole_work_at_once(warehouse, monkeypatch):
    monkeypatch.setattr(fairness_inputs, "WORK_BUCKET_ROWS", 2_000)  # several groups
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as con:
        people = fairness.people_of(con)
        grouped = fairness.workload_findings(
            fairness_inputs.work_input(con, warehouse), people, warehouse
        )
        work = con.sql(INPUT_SQL["work"]).pl()
        tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert work.height > 3 * 2_000 and not {"fairness_workers", "fairness_platforms"} & tables
    audit = fairness.audit_settings(warehouse)
    whole = []  # each attribute over the work of its platforms, in one frame
    for attribute in fairness.attributes_of(people):
        mine = audited(work, people, attribute)
        runnable, ref = runnable_reference(mine, people, attribute, warehouse)
        if runnable:
            whole += workload(mine, people, attribute, ref, time_zones=worker_time_zones(people),
                              sensitive_task_types=["classification"], settings=audit)  # fmt: skip
    assert comparable(grouped) == comparable(whole)
    sensitive = [f for f in grouped if f.measure == "sensitive_hours_per_week" and f.estimate]
    assert sensitive  # the sensitive task types reached the SQL


def comparable(findings: list) -> list[tuple]:
    """Findings sorted, their figures to 9 significant digits (sums of the same hours in
    another order differ in the last bits, as the mart checksums allow)."""
    rows = [tuple(float(f"{x:.9g}") if isinstance(x, float) else x for x in astuple(f))
            for f in findings]  # fmt: skip
    return sorted(rows, key=repr)


def test_label_fields_are_read_one_at_a_time_and_their_tables_dropped(warehouse):
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as con:
        inputs = fairness_inputs.label_inputs(con, warehouse)
        fields = list(inputs.fields)
        tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        answers = con.sql(INPUT_SQL["answers"]).pl()
    assert not {"fairness_answers", "fairness_answer_items", "fairness_fields"} & tables
    scopes = answers.select(
        pl.concat_str("platform", pl.lit(":"), "project_id", pl.lit("/"), "field")
    ).to_series()
    assert sorted(f.scope for f in fields) == sorted(scopes.unique().to_list())
    assert "dialect" in inputs.subject_attributes  # the items' data subjects, from the items
