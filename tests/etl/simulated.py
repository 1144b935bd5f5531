"""A simulated workforce ingested into a fresh warehouse (shared by the fairness mart's tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.load import ingest
from etl.settings import Settings, load_settings
from simulate.workforce import simulate


def simulated_warehouse(root: Path, seed: int, scale: float, key: str) -> Settings:
    """Simulate into `root/exports`, ingest it all (which publishes) under pseudonym `key`, and
    return the settings of the warehouse in `root/data`."""
    truth = simulate(root / "exports", seed=seed, scale=scale).as_dict()
    mp = pytest.MonkeyPatch()
    mp.setenv("CROWDMETER_PSEUDONYM_KEY", key)
    settings = load_settings(root / "exports" / "config.toml", data_dir=root / "data")
    try:
        report = ingest(settings, [root / "exports" / f["path"] for f in truth["files"]])
    finally:
        mp.undo()
    assert report.status == "succeeded"
    return settings
