"""One ETL run: parse, pseudonymise, merge into the warehouse one file per transaction, publish.

A file either loads whole (its good rows merged, its bad records quarantined in `etl_rejects`)
or not at all (`etl_files.status = 'failed'` with the reason). Merges are keyed on stable ids,
so re-ingesting the same bytes changes no row and a re-exported batch updates rows in place.
This module orchestrates; lineage (`etl.lineage`), the staging of big files' parts
(`etl.staging`), pseudonyms and scrubbing, the merge and the publish are each their own.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import polars as pl
from tqdm import tqdm

from etl import lineage, sources
from etl.lineage import FileResult
from etl.merge import fill_in_worker_countries, merge_file, merge_relations, merge_rows
from etl.platforms import register_platforms
from etl.pseudonym import pseudonym_key, pseudonymise, pseudonymise_frames
from etl.publish import FiguresNotRebuilt, FiguresPartlyRebuilt, publish, remove_partial_files
from etl.reference import load_reference_tables
from etl.scrub import scrubbed_rejects
from etl.settings import Settings
from etl.sources.base import ParseResult, SourceOptions, UnreadableFile
from etl.staging import (
    StagedParts,
    prefetched,
    reject_repeats_of_earlier_parts,
    remove_leftover_parts,
    staging_folder,
)
from etl.warehouse import open_warehouse, transaction

log = logging.getLogger(__name__)


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


def expand_paths(paths: Iterable[Path], fmt: str | None = None) -> list[tuple[Path, str | None]]:
    """Files named, and the files below folders named (hidden ones skipped), in a stable order,
    each with None or the reason it is skipped. A file found in a folder that is no export
    (the simulator's config.toml and truth.json, a README) is skipped with the reason its format
    could not be recognised; a file named explicitly, or any file when `fmt` is given, is always
    tried, so it fails loudly."""
    found: list[tuple[Path, str | None]] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(
                (p, None if fmt else not_an_export(p))
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            found.append((path, None))
        else:
            raise FileNotFoundError(f"{path} does not exist. Check the path and try again.")
    return found


def not_an_export(path: Path) -> str | None:
    """Why `path` is no export Crowdmeter reads (its format is not recognised), or None."""
    try:
        sources.detect_format(path)
    except UnreadableFile as exc:
        return str(exc)
    except Exception as exc:  # a sniffer's bug: try the file, where the failure is recorded
        log.warning("detecting the format of %s failed: %r", path, exc)
    return None


@dataclass(frozen=True)
class LoadOptions:
    """How a run reads its files, the same for each of them."""

    fmt: str | None = None  # every file's format (default: detected per file)
    platform: str | None = None  # the platform name to record (default: the format's)
    project: str | None = None  # the project id to record (default: from the file)
    trigger: str = "cli"  # what started the run: cli, demo, pull:<name>
    progress: bool = False  # progress bars on stderr
    again: bool = False  # read files whose bytes were loaded before
    mapping: dict[str, str] | None = None  # the long-format importer's column mapping


def ingest(
    settings: Settings, paths: Iterable[Path], options: LoadOptions = LoadOptions()
) -> RunReport:
    """Load `paths` (files or folders) in one run and publish a snapshot after the last file."""
    files = expand_paths(paths, options.fmt)
    with open_warehouse(settings) as con:
        run_id, status, results = load_files(con, settings, files, options)
        try:
            snapshot = publish(con, settings, run_id, _announce if options.progress else None)
        except FiguresNotRebuilt as exc:  # the rows are published: say what each file did
            published = exc.snapshot.name if isinstance(exc, FiguresPartlyRebuilt) else None
            exc.report = RunReport(run_id, status, results, published)
            raise
    return RunReport(run_id=run_id, status=status, files=results, snapshot=snapshot.name)


def load_files(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    files: list[tuple[Path, str | None]],
    options: LoadOptions = LoadOptions(),
    digests: Mapping[Path, str] | None = None,
) -> tuple[int, str, list[FileResult]]:
    """One run over `files` (each with None or the reason it is skipped), unpublished: its id,
    its status and each file's result. The caller publishes. `digests`: the sha256 of files
    the caller has hashed already (a pull, to choose what is new), so none is read twice."""
    key = pseudonym_key(settings)
    remove_partial_files(settings)
    remove_leftover_parts(settings)
    load_reference_tables(con, settings)
    run_id = lineage.start_run(con, options.trigger)
    results = [
        load_file(con, settings, run_id, path, key, options, sha=(digests or {}).get(path))
        if skip is None
        else FileResult(path=str(path), format=None, status="skipped", error=skip)
        for path, skip in _progress(files, options.progress)
    ]
    configured_countries(con, settings, key)
    status = lineage.run_status(results)
    lineage.finish_run(con, run_id, status)
    return run_id, status, results


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
    key: bytes,
    options: LoadOptions = LoadOptions(),
    sha: str | None = None,
) -> FileResult:
    """Parse and merge one file in one transaction; a failure loads nothing from it. A file
    whose bytes were loaded before is recorded unchanged and not read, unless `options.again`.
    `sha`: the file's sha256 if the caller has it (else it is hashed here).

    A big file arrives in parts (`sources.parse_batches`): the parts are staged as Parquet
    files first (`etl.staging`), so memory stays bounded, and the warehouse takes them all in
    one final transaction, so the file still loads whole or not at all.
    """
    fmt, platform, progress = options.fmt, options.platform, options.progress
    result = FileResult(path=str(path), format=fmt)
    sha = sha or lineage.file_sha256(path)
    known = None if options.again else lineage.loaded_before(con, sha)
    if known is not None:
        # The same bytes change nothing: re-reading an older export must not revert rows a
        # newer file changed since (two exports of one job share records).
        result.notes = [f"the same bytes as file {known[0]} ({known[1]}): nothing to change"]
        lineage.record_known_file(con, run_id, path, sha, result)
        return result
    try:
        fmt = fmt or sources.detect_format(path)
        result.format = fmt
        reading = SourceOptions(
            platform=platform,
            project=options.project,
            source=settings.source(platform or fmt),
            toggl=settings.toggl,
            show_progress=progress,
            part_bytes=settings.etl_part_bytes,
            limits=settings.limits,
            mapping=options.mapping,
        )
        parts = sources.parse_batches(path, fmt, reading)
        first = next(parts)
        second = next(parts, None)
    except UnreadableFile as exc:
        result.error = str(exc)
        lineage.record_failed_file(con, run_id, path, sha, result)
        return result
    except Exception as exc:  # an importer's bug must not stop the run: the file fails alone
        log.exception("reading %s failed", path)
        result.error = (
            f"{path.name}: Crowdmeter could not read it ({type(exc).__name__}: {exc}). This is "
            "a bug in its importer: please report it with the file; the other files loaded"
        )
        lineage.record_failed_file(con, run_id, path, sha, result)
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
        lineage.record_failed_file(con, run_id, path, sha, failed)
        return failed
    return result


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
    rejects = scrubbed_rejects(parsed, key)
    with transaction(con):
        result.file_id = lineage.insert_file_row(con, run_id, path, sha, parsed)
        register_platforms(con, settings, _platforms_in(parsed, frames))
        result.rows_inserted, result.rows_updated = merge_file(con, frames, result.file_id)
        lineage.insert_rejects(con, result.file_id, rejects)
        lineage.finish_file(con, result, parsed.rows_read, rejects.height, parsed.notes)


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
    stage = StagedParts(staging_folder(settings, os.getpid()))
    try:
        rows_read, platforms, notes, first = 0, set(), [], None
        prepared = (
            (parsed, pseudonymise_frames(parsed, key), scrubbed_rejects(parsed, key))
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
        with stage.views(con, "_staged_") as staged, transaction(con):
            result.file_id = lineage.insert_file_row(con, run_id, path, sha, first)
            register_platforms(con, settings, platforms)
            counts = merge_relations(con, "_staged_", staged, result.file_id)
            result.rows_inserted, result.rows_updated = counts
            rejected = 0
            if "rejects" in staged:
                rejected = lineage.insert_staged_rejects(con, result.file_id, "_staged_rejects")
            lineage.finish_file(con, result, rows_read, rejected, notes)
    finally:
        stage.remove()


def _platforms_in(parsed: ParseResult, frames: dict[str, pl.DataFrame]) -> set[str]:
    found = {parsed.platform}
    for frame in frames.values():
        if "platform" in frame.columns:
            found.update(p for p in frame["platform"].unique().to_list() if p)
    return found


def configured_countries(con: duckdb.DuckDBPyConnection, settings: Settings, key: bytes) -> None:
    """Give the workers config.toml names (`[workers] country`) their country where their
    exports gave none. Applied at every run, since a re-imported export rewrites the row."""
    rows = []
    for worker, country in settings.workers.country.items():
        platform, _, raw_id = worker.partition(":")
        rows.append((country, platform, pseudonymise(platform, raw_id, key)))
    if rows:
        with transaction(con):
            fill_in_worker_countries(con, rows)


def _records_bar(path: Path, enabled: bool) -> tqdm:
    """A records-merged counter for one file: big files arrive in parts, so it moves."""
    return tqdm(desc=f"  {path.name[-40:]}", unit=" records", disable=not enabled, leave=False)


def _progress(
    files: list[tuple[Path, str | None]], enabled: bool
) -> Iterator[tuple[Path, str | None]]:
    """Files in order, with a bar sized by bytes on stderr when asked for."""
    if not enabled:
        yield from files
        return
    sizes = [p.stat().st_size for p, _ in files]
    with tqdm(total=sum(sizes), unit="B", unit_scale=True, desc="ingest") as bar:
        for (path, skip), size in zip(files, sizes, strict=True):
            bar.set_postfix_str(path.name[-40:])
            yield path, skip
            bar.update(size)
