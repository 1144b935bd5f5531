"""Publish the warehouse as a read-only snapshot the dashboard and read-only commands open.

A run publishes twice. First its data: the warehouse is checkpointed and copied to
`<run_id>-<stamp>.duckdb.part`, fsynced and renamed, and `CURRENT` is replaced atomically, so
the new rows are readable as soon as they are merged. Then the marts (`etl.marts.MARTS`, in
order) are rebuilt, the build is recorded in `mart_builds`, and a second snapshot makes the
figures current. Between the two, and if the
rebuild fails, readers see the run's data with the figures of the previous build, and
`mart_builds` tells them so. A rebuild that fails on one platform's data publishes the other
platforms' figures and keeps that platform's at their last good build (`mart_lagging` says
which and why; `etl.marts.by_platform`). A crash at any point leaves the previous snapshot
current.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl.lineage import record_mart_build
from etl.marts import build_marts, mart_tables
from etl.marts.by_platform import rebuild
from etl.settings import Settings
from etl.warehouse import checkpoint


class FiguresNotRebuilt(RuntimeError):
    """A run's data is published but its marts could not be rebuilt. `report` is the run's
    per-file outcome (set by `etl.load.ingest`), so the caller can still show it."""

    report: object | None = None


class FiguresPartlyRebuilt(FiguresNotRebuilt):
    """The figures of every platform but `lagging`'s (platform: reason) are rebuilt and
    published in `snapshot`; those of `lagging` are kept at their last good build."""

    def __init__(self, message: str, lagging: dict[str, str], snapshot: Path) -> None:
        super().__init__(message)
        self.lagging = lagging
        self.snapshot = snapshot


def publish(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: int,
    data_published: Callable[[Path], None] | None = None,
) -> Path:
    """Publish the run's data (then call `data_published` with the snapshot), rebuild the
    marts, publish again; return the last snapshot. Raises `FiguresPartlyRebuilt` (after
    publishing) when some platforms' figures could not be rebuilt, `FiguresNotRebuilt` when
    none could."""
    snapshot = publish_snapshot(con, settings, run_id)
    if data_published is not None:
        data_published(snapshot)
    try:
        lagging = refresh_marts(con, settings, run_id, snapshot)
    except Exception as exc:
        raise FiguresNotRebuilt(
            f"Run {run_id}'s rows are loaded and published ({snapshot.name}), but rebuilding "
            f"the dashboard's figures failed: {exc}. The dashboard shows the previous figures "
            "and says they lag. Fix the cause, then run `crowdmeter ingest` on any file (an "
            "unchanged one will do) to rebuild them."
        ) from exc
    final = publish_snapshot(con, settings, run_id)
    if lagging:
        said = "; ".join(f"{platform}: {why}" for platform, why in sorted(lagging.items()))
        raise FiguresPartlyRebuilt(
            f"Run {run_id}'s rows and figures are published ({final.name}), but the figures of "
            f"{', '.join(sorted(lagging))} could not be rebuilt from their data ({said}). They "
            "keep their last good build, and the dashboard and `crowdmeter status` say so. Fix "
            "the cause, then run `crowdmeter ingest` on any file (an unchanged one will do).",
            lagging,
            final,
        )
    return final


def refresh_marts(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_id: int, previous: Path | None = None
) -> dict[str, str]:
    """Rebuild every mart from the warehouse as it is after run `run_id`, and record it; return
    the platforms whose figures were kept as in the snapshot `previous`, with the reason."""
    started = datetime.now(UTC)
    # build_marts is looked up here, at the call, so that tests and benchmarks may wrap it
    lagging = rebuild(con, settings, build_marts, mart_tables(), previous)
    record_mart_build(con, run_id, started, datetime.now(UTC), lagging)
    return lagging


def publish_snapshot(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: int) -> Path:
    """Write the warehouse as it is to a new snapshot and make it current; return its path."""
    checkpoint(con)
    folder = settings.snapshots_dir
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = folder / f"{run_id:08d}-{stamp}.duckdb"
    part = final.with_name(final.name + ".part")
    with settings.warehouse_path.open("rb") as src, part.open("wb") as dst:
        shutil.copyfileobj(src, dst, length=16 << 20)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(part, final)
    write_current(folder, final.name)
    prune_snapshots(folder, settings.snapshots_keep)
    return final


def write_current(folder: Path, name: str) -> None:
    """Point CURRENT at `name`: write a temp file, fsync it, rename over, fsync the folder."""
    tmp = folder / f"CURRENT.{os.getpid()}.tmp"
    with tmp.open("w") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / "CURRENT")
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def prune_snapshots(folder: Path, keep: int) -> None:
    """Delete all but the newest `keep` snapshots (open readers keep their file until closed)."""
    current = (folder / "CURRENT").read_text().strip()
    snapshots = sorted(folder.glob("*.duckdb"))
    for old in snapshots[:-keep]:
        if old.name != current:
            old.unlink(missing_ok=True)


def remove_partial_files(settings: Settings) -> None:
    """Delete `.part` snapshots and CURRENT temp files a killed run left behind."""
    folder = settings.snapshots_dir
    if folder.is_dir():
        for leftover in [*folder.glob("*.part"), *folder.glob("CURRENT.*.tmp")]:
            leftover.unlink(missing_ok=True)
