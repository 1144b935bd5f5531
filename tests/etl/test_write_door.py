"""Writes go through one door: only `etl/warehouse.py` begins, commits or rolls back a
transaction, shows frames to SQL, replaces tables or checkpoints, and only it and
`etl/reader.py` connect to DuckDB files."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ETL = Path(__file__).resolve().parents[2] / "etl"
DOOR = ETL / "warehouse.py"
TRANSACTION_SQL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|CHECKPOINT|ABORT)\b", re.IGNORECASE)
REPLACE_SQL = re.compile(r"\bCREATE\s+(OR\s+REPLACE\s+)?TABLE\b", re.IGNORECASE)
STAGING_CALLS = {"register", "unregister"}


def modules() -> list[Path]:
    return sorted(p for p in ETL.rglob("*.py") if p != DOOR)


def trespasses(path: Path) -> list[str]:
    """What `path` does that only the door may: line number and what."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for statement in node.value.split(";"):
                if TRANSACTION_SQL.search(statement) or REPLACE_SQL.search(statement):
                    found.append(f"{node.lineno}: {statement.strip()[:60]!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            first = node.args[0] if node.args else None
            named = isinstance(first, ast.Constant | ast.JoinedStr)  # con.register("name", ...)
            if node.func.attr in STAGING_CALLS and named:
                found.append(f"{node.lineno}: .{node.func.attr}(...)")
            connects = node.func.attr == "connect" and ast.unparse(node.func.value) == "duckdb"
            if connects and path.name != "reader.py":
                found.append(f"{node.lineno}: duckdb.connect(...)")
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ETL)))
def test_only_the_warehouse_opens_transactions_and_replaces_tables(path: Path):
    assert trespasses(path) == []


def test_the_check_sees_a_transaction_written_by_hand(tmp_path: Path):
    module = tmp_path / "by_hand.py"
    module.write_text(
        'def f(con, frame):\n    con.execute("BEGIN TRANSACTION")\n'
        '    con.register("rows", frame)\n'
        '    con.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM rows; COMMIT")\n'
    )
    assert len(trespasses(module)) == 4
