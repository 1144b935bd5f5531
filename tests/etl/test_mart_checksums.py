"""Every mart of a demo-like warehouse is the same as when the checksums were stored.

The warehouse is the simulator's workforce (seed 7, scale 0.1, a fixed end date) ingested in one
run, as `crowdmeter demo` does. Each mart is summarised as its columns, its row count and a hash
of its rows in a canonical order, floats rounded to 9 significant digits and those below 1e-9
to zero (sums taken in another order differ in the last bits). A second run ingesting one file
again (unchanged) rebuilds the marts reusing the quality figures of every field, and must give
them too. A refactoring of the ETL must keep them all; a change that means to alter a figure
regenerates the file, from the repository root:
`PYTHONPATH=. python -m tests.etl.test_mart_checksums`, and says why in its commit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from etl.load import ingest
from etl.settings import load_settings
from etl.simulate import simulate

CHECKSUMS = Path(__file__).parent / "data" / "mart_checksums.json"
RECIPE = {"seed": 7, "scale": 0.1, "end_date": "2025-06-30", "pseudonym_key": "checksum-key"}


def build_demo_warehouse(folder: Path) -> tuple[Path, Path]:
    """Simulate and ingest the demo-like workforce into `folder`; return the published snapshot
    and the snapshot of a second run that ingests the first export again."""
    exports = folder / "exports"
    simulate(
        exports,
        seed=RECIPE["seed"],
        scale=RECIPE["scale"],
        end_date=dt.date.fromisoformat(RECIPE["end_date"]),
    )
    settings = load_settings(exports / "config.toml", data_dir=folder / "data")
    files = [
        p
        for p in sorted(exports.rglob("*"))
        if p.is_file()
        and p.name not in {"truth.json", "config.toml"}
        and "dirty" not in p.relative_to(exports).parts
    ]
    first = ingest(settings, files)
    again = ingest(settings, files[:1])
    assert first.status == again.status == "succeeded"
    assert again.files[0].status == "unchanged"
    return settings.snapshots_dir / first.snapshot, settings.snapshots_dir / again.snapshot


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The marts the build wrote (`mart_builds`, the build log, is a table of the schema)."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_name LIKE 'mart\\_%' ESCAPE '\\' AND table_name <> 'mart_builds'"
        " ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows]


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


@pytest.fixture(scope="module")
def demo_checksums(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """The marts' checksums after the first run and after the second."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CROWDMETER_PSEUDONYM_KEY", RECIPE["pseudonym_key"])
        snapshots = build_demo_warehouse(tmp_path_factory.mktemp("demo"))
        yield tuple(mart_checksums(snapshot) for snapshot in snapshots)


def stored() -> dict[str, Any]:
    return json.loads(CHECKSUMS.read_text())


@pytest.mark.parametrize("run", ["first", "again"])
def test_every_mart_is_unchanged(demo_checksums, run):
    got = demo_checksums[0 if run == "first" else 1]
    expected = stored()["marts"]
    assert sorted(got) == sorted(expected)
    changed = [table for table in expected if got[table] != expected[table]]
    assert changed == [], {t: (expected[t], got[t]) for t in changed}


def test_the_checksums_are_of_this_recipe():
    assert stored()["recipe"] == RECIPE


if __name__ == "__main__":  # regenerate the stored checksums (see the module docstring)
    import tempfile

    os.environ["CROWDMETER_PSEUDONYM_KEY"] = RECIPE["pseudonym_key"]
    with tempfile.TemporaryDirectory() as tmp:
        marts = mart_checksums(build_demo_warehouse(Path(tmp))[0])
    CHECKSUMS.write_text(json.dumps({"recipe": RECIPE, "marts": marts}, indent=1) + "\n")
    print(f"wrote {len(marts)} marts to {CHECKSUMS}", file=sys.stderr)
