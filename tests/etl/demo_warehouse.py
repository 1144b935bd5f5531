"""A demo-like warehouse for tests that check every mart: the simulator's workforce (seed 7,
scale 0.1, a fixed end date) ingested in one run as `crowdmeter demo` does, then one export
ingested again (unchanged), which rebuilds the marts reusing the quality figures of every field.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from etl.load import ingest
from etl.settings import load_settings
from simulate.workforce import simulate

RECIPE = {"seed": 7, "scale": 0.1, "end_date": "2025-06-30", "pseudonym_key": "checksum-key"}


@contextmanager
def pseudonym_key() -> Iterator[None]:
    """The recipe's pseudonym key in the environment for the block."""
    before = os.environ.get("CROWDMETER_PSEUDONYM_KEY")
    os.environ["CROWDMETER_PSEUDONYM_KEY"] = RECIPE["pseudonym_key"]
    try:
        yield
    finally:
        if before is None:
            del os.environ["CROWDMETER_PSEUDONYM_KEY"]
        else:
            os.environ["CROWDMETER_PSEUDONYM_KEY"] = before


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
    files = [
        p
        for p in sorted(exports.rglob("*"))
        if p.is_file()
        and p.name not in {"truth.json", "config.toml"}
        and "dirty" not in p.relative_to(exports).parts
    ]
    with pseudonym_key():  # read by the settings
        settings = load_settings(exports / "config.toml", data_dir=folder / "data")
        first = ingest(settings, files)
        again = ingest(settings, files[:1])
    assert first.status == again.status == "succeeded"
    assert again.files[0].status == "unchanged"
    return settings.snapshots_dir / first.snapshot, settings.snapshots_dir / again.snapshot


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The marts the build wrote (`mart_builds` and `mart_lagging`, the build log, are tables of
    the schema)."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_name LIKE 'mart\\_%' ESCAPE '\\'"
        " AND table_name NOT IN ('mart_builds', 'mart_lagging')"
        " ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows]
