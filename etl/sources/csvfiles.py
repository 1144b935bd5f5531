"""Reading delimited exports into all-string Polars frames, with ragged rows made visible.

Every column is read as text (ids stay ids: a 19-digit CrowdFlower id is not a number). One
column beyond the header, `__extra__`, catches rows longer than the header, which are rejected;
rows shorter than the header read as nulls in their missing trailing columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.settings import IngestLimits
from etl.sources.base import UnreadableFile
from etl.sources.common import Problem

EXTRA = "__extra__"
RECORD_NO = "record_no"
LIMITS = IngestLimits()
# The csv module refuses fields over 131,072 characters by default, mid-file; the bound that
# matters is the settings' max_field_chars, which rejects such a record with its reason.
csv.field_size_limit(1 << 30)


@dataclass(frozen=True)
class CsvTable:
    """A delimited file's header and a lazy frame of the wanted columns plus `record_no`."""

    path: Path
    separator: str
    header: list[str]
    frame: pl.LazyFrame
    keep: list[str] | None = None  # the columns `frame` reads, to read byte ranges alike


def csv_header(path: Path, separator: str, max_columns: int = LIMITS.max_columns) -> list[str]:
    """The first record of a delimited file (BOM removed, names stripped); UnreadableFile when
    it has more than `max_columns` names (the work per column would hold the ingest)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            first = next(csv.reader(fh, delimiter=separator), [])
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{path.name} is not UTF-8 text; re-export it or save it as UTF-8 CSV"
        ) from exc
    except csv.Error as exc:
        raise UnreadableFile(_line_break_reason(path, exc)) from exc
    if _carriage_returns_alone(path):
        raise UnreadableFile(_line_break_reason(path, None))
    if len(first) > max_columns:
        raise UnreadableFile(
            f"{path.name} has {len(first):,} columns; Crowdmeter reads files of at most "
            f"{max_columns:,} (setting limits.max_columns). Export only the columns you need, "
            "or raise the limit if the file is genuine"
        )
    return [name.strip() for name in first]


def _carriage_returns_alone(path: Path) -> bool:
    """Lines ended by CR only (classic Mac): the columnar reader would see one long line."""
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    return b"\r" in head.rstrip(b"\r") and b"\n" not in head


def _line_break_reason(path: Path, exc: csv.Error | None) -> str:
    if _carriage_returns_alone(path):
        return (
            f"{path.name} ends its lines with a carriage return alone (old Mac software writes "
            "that); save it again as CSV UTF-8 and re-run ingest"
        )
    return (
        f"{path.name} cannot be read as a delimited file ({exc}): its header holds a line "
        "break outside quotes; check the first line of the file"
    )


def template_header(header: list[str], aliases: dict[str, str]) -> list[str]:
    """Header names lower-cased, with accepted other names replaced by the template's own."""
    lowered = [name.strip().lower() for name in header]
    return [aliases.get(name, name) for name in lowered]


def header_from_head(head: bytes, separator: str) -> list[str]:
    """The header names from a file's first bytes (for format sniffing)."""
    text = head.decode("utf-8-sig", errors="replace")
    try:
        first = next(csv.reader(io.StringIO(text, newline=""), delimiter=separator), [])
    except csv.Error:
        return []  # not a header a format could be recognised by; csv_header says why
    return [name.strip() for name in first]


def read_csv_table(
    path: Path,
    fmt: str,
    separator: str,
    required: Iterable[str],
    wanted: Callable[[str], bool],
    limits: IngestLimits = LIMITS,
) -> CsvTable:
    """A lazy all-string frame of the wanted columns; UnreadableFile when required ones lack."""
    header = csv_header(path, separator, limits.max_columns)
    if not header or header == [""]:
        raise UnreadableFile(f"{path.name} is empty: there is no header row to read")
    missing = [name for name in required if name not in header]
    if missing:
        raise UnreadableFile(
            f"{path.name} does not look like a {fmt} export: it lacks the column(s) "
            f"{', '.join(missing)}. Check the file, or pass the right --format."
        )
    names = _unique(header)
    keep = [name for name in names if wanted(name)]
    frame = _kept_rows(_scan(path, separator, names, first_record=1), keep)
    return CsvTable(path=path, separator=separator, header=names, frame=frame, keep=keep)


def _scan(
    source: Path | io.BytesIO, separator: str, names: list[str], first_record: int
) -> pl.LazyFrame:
    """Every record after the header as text, numbered from `first_record`."""
    return pl.scan_csv(
        source,
        has_header=False,
        skip_rows=1,
        separator=separator,
        schema={name: pl.String for name in [*names, EXTRA]},
        missing_columns="insert",
        truncate_ragged_lines=True,
        infer_schema=False,
        row_index_name=RECORD_NO,
        row_index_offset=first_record,
    )


def _kept_rows(frame: pl.LazyFrame, keep: list[str]) -> pl.LazyFrame:
    """The wanted columns, record numbers and the overflow column, blank lines left out."""
    # Only the kept columns are tested, so the reader can skip the others entirely.
    every = [pl.col(name).is_null() for name in keep]
    blank_line = pl.all_horizontal(every) & pl.col(EXTRA).is_null()
    return frame.filter(~blank_line).select(
        pl.col(RECORD_NO).cast(pl.Int64), *[pl.col(name) for name in keep], pl.col(EXTRA)
    )


def unreadable(table: CsvTable, fmt: str, exc: Exception) -> UnreadableFile:
    """The error for a file the CSV reader gave up on."""
    return UnreadableFile(
        f"{table.path.name} cannot be read as a {fmt} file ({_first_line(exc)}); check "
        "that it is a complete UTF-8 export and not cut short"
    )


def collect(table: CsvTable, frame: pl.LazyFrame, fmt: str) -> pl.DataFrame:
    """Run a lazy query over a CSV table, turning reader failures into UnreadableFile."""
    try:
        return frame.collect(engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise unreadable(table, fmt, exc) from exc


BATCH_ROWS = 100_000  # rows read and transformed at a time: bounds memory on big exports


def iter_batches(
    table: CsvTable,
    build: Callable[[pl.LazyFrame], pl.LazyFrame],
    fmt: str,
    rows: int = BATCH_ROWS,
) -> Iterator[pl.DataFrame]:
    """Read the table `rows` records at a time and yield `build`'s query on each, so only one
    batch of raw text is in memory at a time. An empty table yields one empty result.

    Slices, not `collect_batches`: the streaming engine reads ahead without bound while a
    slow consumer (the loader merging a part) works, so a big file ended up in memory whole.
    Finding a slice's start costs a fast newline scan."""
    offset = 0
    try:
        while True:
            batch = table.frame.slice(offset, rows).collect(engine="streaming")
            if batch.height or offset == 0:
                yield build(batch.lazy()).collect()
            if batch.height < rows:
                return
            offset += rows
    except pl.exceptions.PolarsError as exc:
        raise unreadable(table, fmt, exc) from exc


CHUNK_BYTES = 96 << 20  # a part of a big file read at once by `iter_byte_ranges`
_BLOCK = 16 << 20


def iter_byte_ranges(
    table: CsvTable,
    build: Callable[[pl.LazyFrame], pl.LazyFrame],
    fmt: str,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[pl.DataFrame]:
    """`build`'s query on consecutive byte ranges of the file that end on record boundaries,
    each read on its own: memory stays bounded and every byte is read once (slices of one
    scan re-read the file up to their start, which grows with the square of its size)."""
    first_record = 1
    with table.path.open("rb") as fh:
        header = fh.readline()
        for start, end in record_ranges(table.path, len(header), chunk_bytes):
            fh.seek(start)
            source = io.BytesIO(header + fh.read(end - start))
            try:
                records = _scan(source, table.separator, table.header, first_record).collect()
                rows = _kept_rows(records.lazy(), table.keep or []).collect()
                yield build(rows.lazy()).collect()
            except pl.exceptions.PolarsError as exc:
                raise unreadable(table, fmt, exc) from exc
            first_record += records.height
            del records, rows


def record_ranges(path: Path, data_start: int, chunk_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges of roughly `chunk_bytes` after the header that end on a record boundary: a
    newline outside quotes, where the count of quote characters so far is even (an escaped
    quote inside a field is doubled, so it keeps the count's parity)."""
    size = path.stat().st_size
    ranges, start, target, odd = [], data_start, data_start + chunk_bytes, False
    with path.open("rb") as fh:
        fh.seek(data_start)
        position = data_start
        while target < size and (block := fh.read(_BLOCK)):
            end_of_block = position + len(block)
            at = 0
            while target < end_of_block:
                scan_from = max(at, target - position)
                odd ^= block.count(b'"', at, scan_from) % 2 == 1
                newline = block.find(b"\n", scan_from)
                if newline < 0:
                    odd ^= block.count(b'"', scan_from) % 2 == 1
                    at = len(block)
                    break
                odd ^= block.count(b'"', scan_from, newline) % 2 == 1
                at = newline + 1
                if not odd:
                    ranges.append((start, position + at))
                    start, target = position + at, position + at + chunk_bytes
            else:
                odd ^= block.count(b'"', at) % 2 == 1
            position = end_of_block
    if start < size or not ranges:
        ranges.append((start, size))
    return ranges


def collect_in_batches(
    table: CsvTable, build: Callable[[pl.LazyFrame], pl.LazyFrame], fmt: str
) -> pl.DataFrame:
    """`iter_batches`' (compact) results concatenated."""
    return pl.concat(list(iter_batches(table, build, fmt)), rechunk=False)


def sample_values(table: CsvTable, columns: list[str], rows: int = 200) -> dict[str, list[str]]:
    """The first non-empty values of some columns (to choose a parsing layout)."""
    present = [c for c in columns if c in table.header]
    if not present:
        return {}
    head = collect(table, table.frame.select(present).head(rows), "sample")
    return {c: head[c].drop_nulls().to_list() for c in present}


def too_long_problem(header: list[str]) -> Problem:
    """Rows holding values past the last header column."""
    return Problem(
        pl.col(EXTRA).is_not_null(),
        pl.lit(
            f"the row has more fields than the header's {len(header)} columns; "
            "an unquoted separator inside a value usually causes this"
        ),
        (EXTRA,),
    )


def raw_records(path: Path, separator: str, record_nos: Iterable[int]) -> dict[int, str]:
    """The text of the given data records (1-based, header excluded), re-read from the file."""
    wanted = set(record_nos)
    found: dict[int, str] = {}
    if not wanted:
        return found
    last = max(wanted)
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=separator)
        next(reader, None)
        for number, fields in enumerate(reader, start=1):
            if number in wanted:
                out = io.StringIO()
                csv.writer(out, delimiter=separator, lineterminator="").writerow(fields)
                found[number] = out.getvalue()
            if number >= last:
                break
    return found


def rejects_with_raw(table: CsvTable, rejected: pl.DataFrame) -> pl.DataFrame:
    """Rejects (record_no, reason) completed with the raw text of each record."""
    raw = raw_records(table.path, table.separator, rejected[RECORD_NO].to_list())
    return rejected.select(
        pl.col(RECORD_NO),
        pl.col("reason"),
        pl.col(RECORD_NO).replace_strict(raw, default=None, return_dtype=pl.String).alias("raw"),
    )


def _unique(header: list[str]) -> list[str]:
    """Header names made unique (a repeated name gets '#2', '#3'...), blanks named by position."""
    seen: dict[str, int] = {}
    names = []
    for position, name in enumerate(header, start=1):
        name = name or f"column_{position}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return names


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def csv_rows(
    path: Path,
    fmt: str,
    separator: str,
    required: Iterable[str],
    aliases: dict[str, str] | None = None,
    limits: IngestLimits = LIMITS,
) -> tuple[list[str], Iterator[tuple[int, dict[str, str | None], str, str | None]]]:
    """Header and (record_no, row by column, raw text, length problem) of each data record.

    For small files read record by record (templates, time trackers). Values are stripped;
    empty ones and those missing from short rows are None. With `aliases` (other name ->
    column name) the header is read case-insensitively and other names are renamed.
    """
    header = csv_header(path, separator, limits.max_columns)
    if aliases is not None:
        header = template_header(header, aliases)
    header = _unique(header)
    if not header or header == ["column_1"]:
        raise UnreadableFile(f"{path.name} is empty: there is no header row to read")
    missing = [name for name in required if name not in header]
    if missing:
        raise UnreadableFile(
            f"{path.name} does not look like a {fmt} file: it lacks the column(s) "
            f"{', '.join(missing)}. See docs/IMPORTING.md for the columns, or pass the right "
            "--format."
        )
    return header, _rows(path, separator, header)


def _rows(
    path: Path, separator: str, header: list[str]
) -> Iterator[tuple[int, dict[str, str | None], str, str | None]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=separator)
        next(reader, None)
        try:
            for number, fields in enumerate(reader, start=1):
                if not any(f.strip() for f in fields):
                    continue
                out = io.StringIO()
                csv.writer(out, delimiter=separator, lineterminator="").writerow(fields)
                problem = None
                if len(fields) > len(header) and any(f.strip() for f in fields[len(header) :]):
                    problem = (
                        f"the row has {len(fields)} fields but the header has {len(header)} "
                        "columns; an unquoted separator inside a value usually causes this"
                    )
                values = [f.strip() or None for f in fields]
                row = dict(zip(header, values + [None] * (len(header) - len(values)), strict=False))
                yield number, row, out.getvalue(), problem
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"{path.name} is not UTF-8 text; save it as UTF-8 CSV") from exc
        except csv.Error as exc:
            raise UnreadableFile(
                f"{path.name} cannot be read as CSV ({exc}); check quotes and save it again"
            ) from exc
