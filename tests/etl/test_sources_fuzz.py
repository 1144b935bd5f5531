"""Property tests: hostile input never crashes an importer, and valid rows round-trip."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.sources import FORMATS, parse_file
from etl.sources.base import SCHEMAS, ParseResult, UnreadableFile

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
FUZZ = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def parse_or_refuse(data: bytes, fmt: str | None, suffix: str = ".txt") -> ParseResult | None:
    """Parse bytes as a file; UnreadableFile is the only acceptable failure."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            result = parse_file(path, fmt)
        except UnreadableFile:
            return None
    for table, frame in result.frames.items():
        assert list(frame.schema) == list(SCHEMAS[table])
    assert set(result.rejects.columns) == {"record_no", "reason", "raw"}
    assert result.rejects["record_no"].is_unique().all()
    return result


@FUZZ
@given(data=st.binary(max_size=400), fmt=st.sampled_from([None, *FORMATS]))
def test_random_bytes_never_crash(data: bytes, fmt: str | None) -> None:
    parse_or_refuse(data, fmt)


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    junk=st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=60),
                  max_size=4),
    cut=st.floats(min_value=0.3, max_value=1.0),
)  # fmt: skip
def test_damaged_exports_never_crash(seed: Path, junk: list[str], cut: float) -> None:
    text = seed.read_text(encoding="utf-8")
    damaged = text[: int(len(text) * cut)] + "\n" + "\n".join(junk) + "\n"
    parse_or_refuse(damaged.encode(), None, seed.suffix)


@FUZZ
@given(seed=st.sampled_from(SEEDS), junk=st.text(min_size=1, max_size=80))
def test_a_junk_line_leaves_the_good_records(seed: Path, junk: str) -> None:
    """A line appended to a valid line-based export never costs the records before it."""
    if seed.suffix not in (".csv", ".tsv", ".jsonl", ".ndjson"):
        return
    clean = parse_or_refuse(seed.read_bytes(), None, seed.suffix)
    assert clean is not None
    junk = junk.replace("\r", " ").replace("\x00", " ").replace('"', "'")
    dirty = parse_or_refuse(seed.read_bytes() + junk.encode() + b"\n", clean.format, seed.suffix)
    assert dirty is not None
    for table, frame in clean.frames.items():
        assert dirty.frames[table].height >= frame.height - 1  # the last record may absorb it


STATUS_TEXT = {"submitted": "Submitted", "approved": "Approved", "rejected": "Rejected"}
ids = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=14)
moments = st.datetimes(
    min_value=datetime(2010, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
assignment_rows = st.lists(
    st.tuples(ids, ids, st.sampled_from(list(STATUS_TEXT)), moments,
              st.integers(min_value=0, max_value=10_000_00),
              st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30)),
    min_size=1, max_size=20, unique_by=lambda r: r[0],
)  # fmt: skip


def mturk_time(moment: datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S UTC %Y")


@FUZZ
@given(rows=assignment_rows)
def test_valid_mturk_rows_round_trip(rows: list[tuple]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["HITId", "HITTypeId", "Reward", "AssignmentId", "WorkerId",
                     "AssignmentStatus", "AcceptTime", "SubmitTime", "Answer.comment"])  # fmt: skip
    for assignment, worker, status, accepted, cents, comment in rows:
        submitted = accepted + timedelta(seconds=42)
        writer.writerow(["H1", "T1", f"${cents / 100:.2f}", assignment, worker,
                         STATUS_TEXT[status], mturk_time(accepted), mturk_time(submitted),
                         comment])  # fmt: skip
    result = parse_or_refuse(out.getvalue().encode(), "mturk", ".csv")
    assert result is not None and result.rejects.height == 0
    parsed = {r["assignment_uid"]: r for r in result.frames["assignments"].iter_rows(named=True)}
    assert len(parsed) == len(rows)
    for assignment, worker, status, accepted, cents, _comment in rows:
        row = parsed[f"mturk:{assignment}"]
        assert (row["worker_id"], row["status"]) == (worker, status)
        assert row["started_at"] == accepted
        assert row["submitted_at"] - row["started_at"] == timedelta(seconds=42)
        assert row["reward"] == Decimal(cents) / 100
    comments = [c for *_, c in rows if c != ""]
    assert result.frames["annotations"].height == len(comments)


earning_rows = st.lists(
    st.tuples(st.dates(min_value=date(2015, 1, 1), max_value=date(2025, 12, 31)),
              st.sampled_from(["outlier", "dataannotation", "prolific"]), ids,
              st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False),
              st.sampled_from(["pending", "paid", "rejected"])),
    min_size=1, max_size=15,
)  # fmt: skip


@FUZZ
@given(rows=earning_rows)
def test_valid_earnings_rows_round_trip(rows: list[tuple]) -> None:
    lines = ["date,platform,worker,amount,status"]
    lines += [f"{d.isoformat()},{p},{w},{a},{s}" for d, p, w, a, s in rows]
    result = parse_or_refuse(("\n".join(lines) + "\n").encode(), "earnings", ".csv")
    assert result is not None and result.rejects.height == 0
    frame = result.frames["earnings"].sort("record_no")
    assert frame["earning_uid"].is_unique().all()
    for parsed, (day, platform, worker, amount, status) in zip(frame.iter_rows(named=True), rows,
                                                               strict=True):  # fmt: skip
        assert (parsed["day"], parsed["platform"], parsed["worker_id"]) == (day, platform, worker)
        assert (parsed["amount"], parsed["status"]) == (amount, status)
