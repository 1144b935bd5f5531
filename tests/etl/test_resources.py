"""The files Crowdmeter reads at run time are the repository's own, found through the package
(`etl.resources`), so a wheel carries them too (tests/test_wheel.py installs one)."""

from __future__ import annotations

from pathlib import Path

from etl import resources

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_files_are_the_repositorys():
    assert resources.METRICS_DOC.read_bytes() == (ROOT / "docs" / "METRICS.md").read_bytes()
    assert resources.DEFAULT_CONFIG.read_bytes() == (ROOT / "config.toml").read_bytes()
    for shipped, repo in [
        (resources.SCHEMA_DIR, ROOT / "sql" / "schema"),
        (resources.MARTS_DIR, ROOT / "sql" / "marts"),
    ]:
        names = sorted(p.name for p in shipped.glob("*.sql"))
        assert names and names == sorted(p.name for p in repo.glob("*.sql"))
    assert (resources.REFERENCE_TABLES_DIR / "wage_floors.csv").is_file()
