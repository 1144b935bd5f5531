"""Fixtures of the ETL tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.etl.demo_warehouse import build_demo_warehouse


@pytest.fixture(scope="session")
def demo_snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo-like warehouse's snapshots after its first run and after the second."""
    return build_demo_warehouse(tmp_path_factory.mktemp("demo"))
