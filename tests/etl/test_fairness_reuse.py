"""The fairness mart recomputes at publish only the audits whose inputs a run changed."""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest

from etl.marts import fairness
from tests.etl.simulated import simulated_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    return simulated_warehouse(tmp_path_factory.mktemp("reuse"), 5, 0.1, "reuse-key")


def counted(monkeypatch: pytest.MonkeyPatch) -> Counter:
    runs: Counter = Counter()
    for name in ("pay_findings", "review_findings", "workload_findings", "label_findings"):
        real = getattr(fairness, name)

        def wrapper(*args, _real=real, _name=name, **kwargs):
            runs[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(fairness, name, wrapper)
    return runs


def findings(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.sql(f"SELECT * FROM {fairness.TABLE} ORDER BY ALL").fetchall()


def test_a_second_build_with_no_change_reuses_every_audit(warehouse, monkeypatch):
    runs = counted(monkeypatch)
    with duckdb.connect(str(warehouse.warehouse_path)) as con:
        before = findings(con)
        fairness.build(con, warehouse)
        assert findings(con) == before
    assert sum(runs.values()) == 0


def test_a_change_on_one_platform_recomputes_what_reads_it(warehouse, monkeypatch):
    runs = counted(monkeypatch)
    with duckdb.connect(str(warehouse.warehouse_path)) as con:
        con.execute(
            "UPDATE assignments SET submitted_at = submitted_at + INTERVAL 1 MINUTE"
            " WHERE platform = 'mturk'"
        )
        fairness.build(con, warehouse)
    # the workload audit reads assignments' times; the others read nothing that changed
    assert runs == Counter({"workload_findings": 1})


def test_changed_settings_recompute_everything(warehouse, monkeypatch):
    runs = counted(monkeypatch)
    changed = warehouse.model_copy(update={"min_group_size": warehouse.min_group_size + 1})
    with duckdb.connect(str(warehouse.warehouse_path)) as con:
        fairness.build(con, changed)
    assert set(runs) == {"pay_findings", "review_findings", "workload_findings",
                         "label_findings"}  # fmt: skip
