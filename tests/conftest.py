"""Shared fixtures: paths to ../shared, isolated settings, a migrated in-memory warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from etl.settings import Settings
from etl.warehouse import apply_migrations

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the repository; tests that need it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent (real samples are not part of the repository)")
    return SHARED


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with an empty data dir in tmp and a fixed pseudonym key."""
    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    return Settings(data_dir=tmp_path / "data", lock_timeout_seconds=2)


@pytest.fixture
def memory_warehouse() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the warehouse schema applied."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    apply_migrations(con)
    yield con
    con.close()


@pytest.fixture(scope="session")
def demo_snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo-like warehouse's snapshots after its first run and after the second."""
    from tests.etl.demo_warehouse import build_demo_warehouse

    return build_demo_warehouse(tmp_path_factory.mktemp("demo"))
