"""One run of a pull source: fetch what is new, load it through the one writer, record the
outcome in `pull_state`, publish when something loaded.

Fetching (listing a folder, downloading from an API) happens before the writer lock is taken,
so a slow API never holds up other writers. Under the lock, files whose bytes loaded before
are dropped by lineage's rule (`etl.lineage.loaded_before_many`, the one `ingest` follows:
bytes that failed are tried again), the rest load in one ETL run, the outcome is recorded and
written out for readers (`etl.pulls.state.write_status_file`), and a run that took new bytes
(a file whose rows merged, or whose rows were all there already) publishes, once. A run that
took nothing (nothing new, only failed files, a failed fetch) publishes nothing: the snapshot
stays as it was, unless there is none while the warehouse holds data (snapshots deleted on a
restore), when the warehouse is published as it is.

Each file is hashed once, before the lock, and its digest handed to the load; a file whose
size or modification time moved while the run waited for the lock is left for the next run.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl import lineage
from etl.lineage import FileResult, loaded_before_many
from etl.load import LoadOptions, load_files, not_an_export
from etl.publish import publish, publish_snapshot
from etl.pull_settings import FolderPull, LabelStudioPull, Pull, TolokaPull
from etl.pulls import folder
from etl.pulls.state import PullOutcome, last_cursor, record_outcome, write_status_file
from etl.reader import SnapshotReader
from etl.settings import Settings
from etl.warehouse import open_warehouse

log = logging.getLogger(__name__)


@dataclass
class Fetched:
    """Files a source offers this run, and how to read them."""

    paths: list[Path]
    fmt: str | None = None
    platform: str | None = None
    project: str | None = None
    notes: list[str] = field(default_factory=list)
    staging: Path | None = None  # a folder of downloads, removed after the run
    cursor: str | None = None  # where the next run starts once these files are in


def fetch(
    settings: Settings,
    pull: Pull,
    settle: Callable[[], None] | None = None,
    cursor: str | None = None,
) -> Fetched:
    """What `pull` offers now: a drop folder's settled files, or an API's complete downloads
    (from `cursor`, where the last successful run left off, for the kinds that keep one)."""
    if isinstance(pull, FolderPull):
        found = folder.look(pull, settle)
        notes = [f"{p.name} is still being written: left for the next run" for p in found.busy]
        return Fetched(found.ready, pull.format, pull.platform, pull.project, notes)
    staging = settings.pulls_dir / pull.name
    shutil.rmtree(staging, ignore_errors=True)  # a killed run's leftovers
    staging.mkdir(parents=True)
    try:
        if isinstance(pull, TolokaPull):
            from etl.pulls.toloka import fetch_pool  # httpx: only API sources need it

            return Fetched([fetch_pool(pull, staging)], "toloka", staging=staging)
        from etl.pulls.labelstudio import fetch_project

        exports, new_cursor = fetch_project(pull, staging, cursor)
        return Fetched(exports, "labelstudio", staging=staging, cursor=new_cursor)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def run_pull(
    settings: Settings,
    pull: Pull,
    next_run_at: datetime | None = None,
    settle: Callable[[], None] | None = None,
) -> PullOutcome:
    """Run `pull` once; `next_run_at` is recorded as its next run (None keeps the recorded one)."""
    started = datetime.now(UTC)
    try:
        fetched = fetch(settings, pull, settle, _cursor(settings, pull))
        hashed = {path: _hash(path) for path in fetched.paths}
    except Exception as exc:  # a source's failure is recorded and reported, never raised on
        log.warning("pull %s failed: %s", pull.name, exc, extra={"pull": pull.name})
        outcome = PullOutcome(started, datetime.now(UTC), "failed", error=_reason(exc))
        with open_warehouse(settings) as con:
            record_outcome(con, pull, outcome, next_run_at)
            write_status_file(con, settings)
            _publish_if_missing(con, settings)
        return outcome
    try:
        with open_warehouse(settings) as con:
            digests, moved = _unmoved(hashed)
            known = loaded_before_many(con, list(digests.values()))
            new = [p for p, sha in digests.items() if sha not in known]
            loadable, notes = _exports(new, fetched)
            outcome = PullOutcome(
                started,
                started,
                "nothing new",
                notes=fetched.notes + moved + notes,
                cursor=None if moved else fetched.cursor,  # kept: nothing is skipped
            )
            merged = False
            if loadable:
                options = LoadOptions(
                    fmt=fetched.fmt,
                    platform=fetched.platform,
                    project=fetched.project,
                    trigger=f"pull:{pull.name}",
                )
                run_id, status, results = load_files(con, settings, loadable, options, digests)
                _count(outcome, run_id, status, results)
                # new bytes taken (rows merged, or none to change): its file, rows, rejects
                merged = any(r.status in ("loaded", "unchanged") for r in results)
            outcome.finished_at = datetime.now(UTC)
            record_outcome(con, pull, outcome, next_run_at)
            write_status_file(con, settings)
            if merged:
                publish(con, settings, outcome.run_id)
            else:
                _publish_if_missing(con, settings)
    finally:
        if fetched.staging is not None:
            shutil.rmtree(fetched.staging, ignore_errors=True)
    return outcome


def _publish_if_missing(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """With no snapshot (deleted on a restore, say) but data in the warehouse, publish the
    warehouse as it is (no mart rebuild): readers need not wait for new bytes to see it."""
    if SnapshotReader(settings).current_name() is not None:
        return
    run_id = lineage.last_taking_run(con)
    if run_id is not None:
        publish_snapshot(con, settings, run_id)


def _signature(path: Path) -> tuple[int, int] | None:
    """The file's size and modification time (None once it is gone)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _hash(path: Path) -> tuple[str, tuple[int, int] | None]:
    """The file's sha256, and its size and time as they were when it was read."""
    signature = _signature(path)
    return lineage.file_sha256(path), signature


def _unmoved(
    hashed: dict[Path, tuple[str, tuple[int, int] | None]],
) -> tuple[dict[Path, str], list[str]]:
    """The digests of the files still as they were hashed, and a note for each of the others
    (changed or removed while the run waited for the writer lock: left for the next run)."""
    digests, notes = {}, []
    for path, (sha, signature) in hashed.items():
        if signature is not None and _signature(path) == signature:
            digests[path] = sha
        else:
            notes.append(f"{path.name} changed during the run: left for the next run")
    return digests, notes


def _cursor(settings: Settings, pull: Pull) -> str | None:
    """Where the source's last successful run left off, for the kinds that keep one."""
    if not isinstance(pull, LabelStudioPull):
        return None
    with open_warehouse(settings) as con:
        return last_cursor(con, pull.name)


def _exports(
    paths: list[Path], fetched: Fetched
) -> tuple[list[tuple[Path, str | None]], list[str]]:
    """The files to load, and a note for each one that is no export (skipped, with why)."""
    loadable, notes = [], []
    for path in paths:
        reason = None if fetched.fmt else not_an_export(path)
        if reason is None:
            loadable.append((path, None))
        else:
            notes.append(f"{path.name} skipped: {reason}")
    return loadable, notes


def _count(outcome: PullOutcome, run_id: int, status: str, results: list[FileResult]) -> None:
    failed = [r for r in results if r.status == "failed"]
    outcome.run_id = run_id
    outcome.result = "failed" if status == "failed" else "loaded"
    outcome.files_loaded = len(results) - len(failed)
    outcome.rows_loaded = sum(r.rows_inserted + r.rows_updated for r in results)
    outcome.error = "; ".join(r.error or r.path for r in failed) or None


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
