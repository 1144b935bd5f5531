"""One ETL run: parse, pseudonymise, merge into the warehouse one file per transaction, publish.

A file either loads whole (its good rows merged, its bad records quarantined in `etl_rejects`)
or not at all (`etl_files.status = 'failed'` with the reason). Merges are keyed on stable ids,
so re-ingesting the same bytes changes no row and a re-exported batch updates rows in place.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import queue
import shutil
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl
from tqdm import tqdm

from etl import sources
from etl.merge import merge_file, merge_relations, merge_rows
from etl.merge import staged as staged_frame
from etl.platforms import register_platforms
from etl.pseudonym import pseudonym_key, pseudonymise
from etl.publish import publish, remove_partial_files
from etl.scrub import scrub_record
from etl.settings import Settings
from etl.sources.base import REJECTS_SCHEMA, ParseResult, SourceOptions, UnreadableFile
from etl.warehouse import open_warehouse

T = TypeVar("T")

DELIMITERS = {"toloka": "\t"}  # every other delimited format uses commas
DELIMITED = {"mturk", "toloka", "appen", "toggl", "earnings", "projects", "milestones"}
ID_COLUMNS = {
    "assignments": ("worker_id", "reviewer_id"),
    "workers": ("worker_id",),
    "time_entries": ("worker_id",),
    "earnings": ("worker_id",),
}


@dataclass
class FileResult:
    """What happened to one input file; the stable `ingest --json` fields come first."""

    path: str
    format: str | None
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    status: str = "failed"
    error: str | None = None
    platform: str | None = None
    file_id: int | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class RunReport:
    run_id: int
    status: str
    files: list[FileResult]
    snapshot: str | None

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "snapshot": self.snapshot,
            "files": [asdict(f) for f in self.files],
        }


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the files below folders named (hidden ones skipped), in a stable order."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist. Check the path and try again.")
    return files


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest(
    settings: Settings,
    paths: Iterable[Path],
    fmt: str | None = None,
    platform: str | None = None,
    project: str | None = None,
    trigger: str = "cli",
    progress: bool = False,
) -> RunReport:
    """Load `paths` (files or folders) in one run and publish a snapshot after the last file."""
    files = expand_paths(paths)
    key = pseudonym_key(settings)
    with open_warehouse(settings) as con:
        remove_partial_files(settings)
        for leftover in (settings.data_dir / "tmp").glob("staging-*"):
            # a killed run's staged parts: the warehouse never took them
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        _load_reference_tables(con, settings)
        run_id = _start_run(con, trigger)
        results = [
            load_file(con, settings, run_id, path, fmt, platform, project, key, progress)
            for path in _progress(files, progress)
        ]
        fill_in_worker_countries(con, settings, key)
        status = _run_status(results)
        _finish_run(con, run_id, status)
        snapshot = publish(con, settings, run_id, _announce if progress else None)
    return RunReport(run_id=run_id, status=status, files=results, snapshot=snapshot.name)


def _announce(snapshot: Path) -> None:
    print(
        f"published the run's data ({snapshot.name}); rebuilding the dashboard's figures",
        file=sys.stderr,
    )


def load_file(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: int,
    path: Path,
    fmt: str | None,
    platform: str | None,
    project: str | None,
    key: bytes,
    progress: bool = False,
) -> FileResult:
    """Parse and merge one file in one transaction; a failure loads nothing from it.

    A big file arrives in parts (`sources.parse_batches`): the parts are staged as Parquet
    files first, so memory stays bounded, and the warehouse takes them all in
    one final transaction, so the file still loads whole or not at all.
    """
    result = FileResult(path=str(path), format=fmt)
    sha = file_sha256(path)
    try:
        fmt = fmt or sources.detect_format(path)
        result.format = fmt
        options = SourceOptions(
            platform=platform,
            project=project,
            source=settings.source(platform or fmt),
            toggl=settings.toggl,
            show_progress=progress,
            part_bytes=settings.etl_part_bytes,
            limits=settings.limits,
        )
        parts = sources.parse_batches(path, fmt, options)
        first = next(parts)
        second = next(parts, None)
    except UnreadableFile as exc:
        result.error = str(exc)
        _record_failed_file(con, run_id, path, sha, result)
        return result
    result.platform = first.platform
    try:
        if second is None:
            _load_whole(con, settings, run_id, path, sha, first, key, result)
        else:
            parts = itertools.chain([first, second], parts)
            _load_in_parts(con, settings, run_id, path, sha, parts, key, result, progress)
    except Exception as exc:
        reason = (
            str(exc)
            if isinstance(exc, UnreadableFile)
            else (f"{path}: could not be merged ({type(exc).__name__}: {exc})")
        )
        failed = FileResult(path=str(path), format=fmt, platform=result.platform, error=reason)
        _record_failed_file(con, run_id, path, sha, failed)
        return failed
    return result


_END = object()


def prefetched(items: Iterator[T], ahead: int = 1) -> Iterator[T]:
    """`items`, produced by a background thread up to `ahead` in advance: the next part is
    parsed (Polars releases the GIL) while this one is staged (so does DuckDB), which keeps both
    cores busy. An error of the producer is raised here, in order."""
    handoff: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            put((None, exc))

    worker = threading.Thread(target=produce, name="crowdmeter-parse", daemon=True)
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _load_whole(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: int,
    path: Path,
    sha: str,
    parsed: ParseResult,
    key: bytes,
    result: FileResult,
) -> None:
    frames = pseudonymise_frames(parsed, key)
    rejects = scrubbed_rejects(parsed, path, key)
    with transaction(con):
        result.file_id = _insert_file_row(con, run_id, path, sha, parsed)
        register_platforms(con, settings, _platforms_in(parsed, frames))
        result.rows_inserted, result.rows_updated = merge_file(con, frames, result.file_id)
        _insert_rejects(con, result.file_id, rejects)
        _finish_file(con, result, parsed.rows_read, rejects.height, parsed.notes)


def _load_in_parts(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: int,
    path: Path,
    sha: str,
    parts: Iterator[ParseResult],
    key: bytes,
    result: FileResult,
    progress: bool,
) -> None:
    stage = StagedParts(settings.data_dir / "tmp" / f"staging-{os.getpid()}")
    try:
        rows_read, platforms, notes, first = 0, set(), [], None
        prepared = (
            (parsed, pseudonymise_frames(parsed, key), scrubbed_rejects(parsed, path, key))
            for parsed in parts
        )
        with _records_bar(path, progress) as bar:
            for parsed, frames, rejects in prefetched(prepared):
                first = first or parsed
                frames, repeats = reject_repeats_of_earlier_parts(con, stage, frames)
                for name, rows in merge_rows(frames).items():
                    stage.add(name, rows)
                stage.add("rejects", pl.concat([rejects, repeats]))
                stage.next_part()
                rows_read += parsed.rows_read
                platforms |= _platforms_in(parsed, frames)
                notes.extend(parsed.notes)
                bar.update(parsed.rows_read)
        staged = stage.tables()
        with transaction(con):
            for name in staged:
                con.execute(f"CREATE OR REPLACE TEMP VIEW _staged_{name} AS {stage.rows(name)}")
            result.file_id = _insert_file_row(con, run_id, path, sha, first)
            register_platforms(con, settings, platforms)
            counts = merge_relations(con, "_staged_", staged, result.file_id)
            result.rows_inserted, result.rows_updated = counts
            rejected = 0
            if "rejects" in staged:
                rejected = con.execute(
                    "INSERT INTO etl_rejects (file_id, record_no, reason, raw)"
                    " SELECT ?, record_no, reason, raw FROM _staged_rejects",
                    [result.file_id],
                ).fetchall()[0][0]
            _finish_file(con, result, rows_read, rejected, notes)
    finally:
        for name in stage.tables():
            con.execute(f"DROP VIEW IF EXISTS _staged_{name}")
        stage.remove()


class StagedParts:
    """The parts of one big file, staged as Parquet files (a folder per table) until the final
    merge takes them all in one transaction. Writing Parquet costs a fraction of appending to a
    database, and memory holds one part at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.part = 0
        self.remove()
        folder.mkdir(parents=True)

    def add(self, name: str, frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        table = self.folder / name
        table.mkdir(exist_ok=True)
        frame.write_parquet(table / f"{self.part:06d}.parquet", compression="lz4")

    def next_part(self) -> None:
        self.part += 1

    def tables(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if p.is_dir())

    def rows(self, name: str, columns: str = "*") -> str:
        """A SELECT of the staged rows of table `name` (columns missing in a part are null)."""
        pattern = str(self.folder / name / "*.parquet").replace("'", "''")
        return f"SELECT {columns} FROM read_parquet('{pattern}', union_by_name = true)"

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _finish_file(
    con: duckdb.DuckDBPyConnection,
    result: FileResult,
    rows_read: int,
    rejected: int,
    notes: list[str],
) -> None:
    """Record the file's counts in its etl_files row."""
    result.rows_read, result.rows_rejected, result.notes = rows_read, rejected, list(notes)
    result.status = "loaded" if result.rows_inserted or result.rows_updated else "unchanged"
    _update_file_row(con, result.file_id, result)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction for the block: committed when it ends, rolled back when it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def reject_repeats_of_earlier_parts(
    con: duckdb.DuckDBPyConnection, stage: StagedParts, frames: dict[str, pl.DataFrame]
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """An assignment an earlier part of the same file already staged is a repeated record:
    the first one is kept (as the importers do within a part) and this one rejected."""
    assignments = frames.get("assignments")
    earlier = "assignments" in stage.tables()
    if assignments is None or assignments.is_empty() or not earlier:
        return frames, pl.DataFrame(schema=REJECTS_SCHEMA)
    with staged_frame(con, "_part_uids", assignments.select("assignment_uid", "record_no")):
        repeated = con.sql(
            "SELECT p.assignment_uid, p.record_no FROM _part_uids p"
            f" SEMI JOIN ({stage.rows('assignments', 'assignment_uid')}) a"
            " USING (assignment_uid)"
        ).pl()
    if repeated.is_empty():
        return frames, pl.DataFrame(schema=REJECTS_SCHEMA)
    uids = repeated["assignment_uid"].implode()
    kept = {name: frame for name, frame in frames.items() if name not in ("workers", "items")}
    kept["assignments"] = assignments = assignments.filter(~pl.col("assignment_uid").is_in(uids))
    if "annotations" in frames:
        kept["annotations"] = frames["annotations"].filter(~pl.col("assignment_uid").is_in(uids))
    # Workers and items a part names come from its records: keep those the kept ones name.
    for name, key in (("workers", ["worker_id", "platform"]), ("items", ["project_id", "item_id"])):
        if name in frames:
            kept[name] = frames[name].join(assignments.select(key).unique(), on=key, how="semi")
    rejects = repeated.select(
        pl.col("record_no"),
        pl.format("assignment {} appears again; its first record was kept", "assignment_uid").alias(
            "reason"
        ),
        pl.lit(None, dtype=pl.String).alias("raw"),
    )
    return kept, rejects


def pseudonymise_frames(parsed: ParseResult, key: bytes) -> dict[str, pl.DataFrame]:
    """Frames with raw worker and reviewer ids replaced by keyed hashes, each distinct id once."""
    out = {}
    for name, frame in parsed.frames.items():
        for column in ID_COLUMNS.get(name, ()):
            frame = _hash_column(frame, column, parsed.platform, key)
        out[name] = frame
    return out


def _hash_column(frame: pl.DataFrame, column: str, file_platform: str, key: bytes) -> pl.DataFrame:
    """Replace `column` by the hash of `platform:raw_id`, using each row's platform."""
    if frame.is_empty() or frame[column].null_count() == frame.height:
        return frame
    platform = (
        pl.col("platform").fill_null(file_platform)
        if "platform" in frame.columns
        else (pl.lit(file_platform))
    )
    pairs = (
        frame.select(platform.alias("_p"), pl.col(column).alias("_raw")).drop_nulls("_raw").unique()
    )
    lookup = pairs.with_columns(
        pl.Series(
            "_hash",
            [pseudonymise(p, raw, key) for p, raw in pairs.iter_rows()],
            dtype=pl.String,
        )
    )
    return (
        frame.with_columns(platform.alias("_p"))
        .join(
            lookup,
            left_on=["_p", column],
            right_on=["_p", "_raw"],
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("_hash").alias(column))
        .drop("_p", "_hash")
    )


def scrubbed_rejects(parsed: ParseResult, path: Path, key: bytes) -> pl.DataFrame:
    """Rejects with personal values in their raw text replaced."""
    if parsed.rejects.is_empty():
        return parsed.rejects
    header, delimiter = _header(path, parsed.format)

    def pseudonym(raw_id: str) -> str:
        return pseudonymise(parsed.platform, raw_id, key)

    return parsed.rejects.with_columns(
        pl.col("raw").map_elements(
            lambda raw: scrub_record(raw, header, delimiter, pseudonym), return_dtype=pl.String
        )
    )


def _header(path: Path, fmt: str) -> tuple[list[str] | None, str | None]:
    if fmt not in DELIMITED:
        return None, None
    delimiter = DELIMITERS.get(fmt, ",")
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = fh.readline()
    try:
        return next(csv.reader(io.StringIO(first), delimiter=delimiter)), delimiter
    except (csv.Error, StopIteration):
        return None, delimiter


def _platforms_in(parsed: ParseResult, frames: dict[str, pl.DataFrame]) -> set[str]:
    found = {parsed.platform}
    for frame in frames.values():
        if "platform" in frame.columns:
            found.update(p for p in frame["platform"].unique().to_list() if p)
    return found


def fill_in_worker_countries(
    con: duckdb.DuckDBPyConnection, settings: Settings, key: bytes
) -> None:
    """Give the workers config.toml names (`[workers] country`) their country where their
    exports gave none. Applied at every run, since a re-imported export rewrites the row."""
    rows = []
    for worker, country in settings.workers.country.items():
        platform, _, raw_id = worker.partition(":")
        rows.append((country, platform, pseudonymise(platform, raw_id, key)))
    if rows:
        with transaction(con):
            con.executemany(
                "UPDATE workers SET country = ? "
                "WHERE platform = ? AND worker_id = ? AND country IS NULL",
                rows,
            )


def _load_reference_tables(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    try:
        from etl.reference import load_reference_tables
    except ImportError:  # the reference tables module is optional until earnings land
        return
    load_reference_tables(con, settings)


def _start_run(con: duckdb.DuckDBPyConnection, trigger: str) -> int:
    # A run still 'running' was killed: nothing of its unfinished file was committed.
    con.execute(
        "UPDATE etl_runs SET status = 'failed', finished_at = ? WHERE status = 'running'",
        [datetime.now(UTC)],
    )
    run_id = con.execute("SELECT nextval('etl_run_ids')").fetchall()[0][0]
    con.execute(
        "INSERT INTO etl_runs (run_id, trigger, started_at, status) VALUES (?, ?, ?, 'running')",
        [run_id, trigger, datetime.now(UTC)],
    )
    return int(run_id)


def _finish_run(con: duckdb.DuckDBPyConnection, run_id: int, status: str) -> None:
    con.execute(
        "UPDATE etl_runs SET finished_at = ?, status = ? WHERE run_id = ?",
        [datetime.now(UTC), status, run_id],
    )


def _run_status(results: list[FileResult]) -> str:
    failed = sum(r.status == "failed" for r in results)
    if failed == 0:
        return "succeeded"
    return "failed" if failed == len(results) else "partial"


def _insert_file_row(
    con: duckdb.DuckDBPyConnection, run_id: int, path: Path, sha: str, parsed: ParseResult
) -> int:
    file_id = con.execute("SELECT nextval('etl_file_ids')").fetchall()[0][0]
    con.execute(
        "INSERT INTO etl_files (file_id, run_id, source, path, sha256, format, status, loaded_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'loaded', ?)",
        [file_id, run_id, parsed.platform, str(path), sha, parsed.format, datetime.now(UTC)],
    )
    return int(file_id)


def _update_file_row(con: duckdb.DuckDBPyConnection, file_id: int, r: FileResult) -> None:
    con.execute(
        "UPDATE etl_files SET rows_read = ?, rows_inserted = ?, rows_updated = ?,"
        " rows_rejected = ?, status = ? WHERE file_id = ?",
        [r.rows_read, r.rows_inserted, r.rows_updated, r.rows_rejected, r.status, file_id],
    )


def _record_failed_file(
    con: duckdb.DuckDBPyConnection, run_id: int, path: Path, sha: str, r: FileResult
) -> None:
    file_id = con.execute("SELECT nextval('etl_file_ids')").fetchall()[0][0]
    r.file_id = int(file_id)
    con.execute(
        "INSERT INTO etl_files (file_id, run_id, source, path, sha256, format, status, error,"
        " loaded_at) VALUES (?, ?, ?, ?, ?, ?, 'failed', ?, ?)",
        [file_id, run_id, r.platform, str(path), sha, r.format, r.error, datetime.now(UTC)],
    )


def _insert_rejects(con: duckdb.DuckDBPyConnection, file_id: int, rejects: pl.DataFrame) -> None:
    if rejects.is_empty():
        return
    rows = rejects.with_columns(pl.lit(file_id, dtype=pl.Int64).alias("file_id"))
    with staged_frame(con, "_stage_rejects", rows):
        con.execute(
            "INSERT INTO etl_rejects (file_id, record_no, reason, raw)"
            " SELECT file_id, record_no, reason, raw FROM _stage_rejects"
        )


def _records_bar(path: Path, enabled: bool) -> tqdm:
    """A records-merged counter for one file: big files arrive in parts, so it moves."""
    return tqdm(desc=f"  {path.name[-40:]}", unit=" records", disable=not enabled, leave=False)


def _progress(files: list[Path], enabled: bool) -> Iterator[Path]:
    """Files in order, with a bar sized by bytes on stderr when asked for."""
    if not enabled:
        yield from files
        return
    sizes = [p.stat().st_size for p in files]
    with tqdm(total=sum(sizes), unit="B", unit_scale=True, desc="ingest") as bar:
        for path, size in zip(files, sizes, strict=True):
            bar.set_postfix_str(path.name[-40:])
            yield path
            bar.update(size)
