"""Every mart of the demo-like warehouse (`tests/etl/demo_warehouse.py`) is the same as when
the checksums were stored, after its first run and after the second.

Each mart is summarised as its columns, its row count and a hash of its rows in a canonical
order, floats rounded to 9 significant digits and those below 1e-9 to zero (sums taken in
another order differ in the last bits). A refactoring of the ETL must keep them all; a change
that means to alter a figure regenerates the file, from the repository root:
`PYTHONPATH=. python -m tests.etl.test_mart_checksums`, and says why in its commit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.etl.demo_warehouse import RECIPE, build_demo_warehouse, mart_tables

CHECKSUMS = Path(__file__).parent / "data" / "mart_checksums.json"


def canonical(value: Any) -> Any:
    """A value as JSON can hold it, floats to 9 significant digits (below 1e-9: zero)."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if abs(value) < 1e-9:  # a difference of equal sums: 0, or 1e-16 in another order
            return 0.0
        return float(f"{value:.9g}")
    if isinstance(value, decimal.Decimal):
        return str(value.normalize())
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    return value


def table_checksum(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    rows = sorted(
        json.dumps(canonical(list(row)), sort_keys=True)
        for row in con.execute(f"SELECT * FROM {table}").fetchall()
    )
    digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return {"columns": [f"{c} {t}" for c, t in columns], "rows": len(rows), "sha256": digest}


def mart_checksums(snapshot: Path) -> dict[str, dict[str, Any]]:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return {table: table_checksum(con, table) for table in mart_tables(con)}
    finally:
        con.close()


def stored() -> dict[str, Any]:
    return json.loads(CHECKSUMS.read_text())


@pytest.mark.parametrize("run", [0, 1], ids=["first", "again"])
def test_every_mart_is_unchanged(demo_snapshots, run):
    got = mart_checksums(demo_snapshots[run])
    expected = stored()["marts"]
    assert sorted(got) == sorted(expected)
    changed = [table for table in expected if got[table] != expected[table]]
    assert changed == [], {t: (expected[t], got[t]) for t in changed}


def test_the_checksums_are_of_this_recipe():
    assert stored()["recipe"] == RECIPE


if __name__ == "__main__":  # regenerate the stored checksums (see the module docstring)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        marts = mart_checksums(build_demo_warehouse(Path(tmp))[0])
    CHECKSUMS.write_text(json.dumps({"recipe": RECIPE, "marts": marts}, indent=1) + "\n")
    print(f"wrote {len(marts)} marts to {CHECKSUMS}", file=sys.stderr)
