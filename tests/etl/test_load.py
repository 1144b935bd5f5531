"""The loader: idempotent merges, updates in place, whole-file failures, scrubbed rejects."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from etl import sources
from etl.load import LoadOptions, ingest
from etl.pseudonym import pseudonym_key, pseudonymise
from etl.reader import SnapshotReader
from etl.sources.base import ParseResult, SourceOptions, UnreadableFile, rejects_frame

FIXTURES = Path(__file__).parent / "fixtures"

RAW_WORKERS = ("A3SHI3LY2Q16OR", "AME98XVLFFLCH")


def fake_parse(path: Path, fmt: str | None = None, options: SourceOptions = SourceOptions()):
    """A tiny JSON 'format': {"rows": [[assignment, worker, status], ...], "bad": [...]}."""
    try:
        doc = json.loads(path.read_text())
    except ValueError:
        raise UnreadableFile("not a JSON document; export the batch again") from None
    rows = doc["rows"]
    ts = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assignments = pl.DataFrame(
        {
            "record_no": list(range(1, len(rows) + 1)),
            "assignment_uid": [f"fake:{a}" for a, _, _ in rows],
            "platform": "fake",
            "project_id": "p1",
            "item_id": [f"item{a}" for a, _, _ in rows],
            "worker_id": [w for _, w, _ in rows],
            "status": [s for _, _, s in rows],
            "started_at": ts,
            "submitted_at": ts,
            "reward": ["0.50"] * len(rows),
            "currency": "USD",
            "is_gold": False,
        }
    ).with_columns(pl.col("reward").cast(pl.Decimal(18, 6)))
    annotations = pl.DataFrame(
        {
            "assignment_uid": [f"fake:{a}" for a, _, _ in rows],
            "field": "label",
            "value": [s[:3] for _, _, s in rows],
            "ordinal": 0,
        }
    )
    bad = [
        {"record_no": 100 + i, "reason": "unknown status 'maybe'", "raw": raw}
        for i, raw in enumerate(doc.get("bad", []))
    ]
    return ParseResult(
        format="fake",
        platform="fake",
        rows_read=len(rows) + len(bad),
        frames={"assignments": assignments, "annotations": annotations},
        rejects=rejects_frame(bad),
    )


@pytest.fixture
def fake_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "detect_format", lambda path: "fake", raising=False)
    monkeypatch.setattr(sources, "parse_file", fake_parse, raising=False)


def write(path: Path, rows: list, bad: list | None = None) -> Path:
    path.write_text(json.dumps({"rows": rows, "bad": bad or []}))
    return path


def counts(settings) -> dict[str, int]:
    reader = SnapshotReader(settings)
    return {
        t: reader.frame(f"SELECT count(*)::BIGINT AS n FROM {t}").item()
        for t in ("assignments", "annotations", "workers", "items", "projects", "etl_rejects")
    }


def test_same_bytes_twice_change_no_row(settings, tmp_path, fake_source):
    batch = write(
        tmp_path / "b.json", [[1, RAW_WORKERS[0], "submitted"], [2, RAW_WORKERS[1], "submitted"]]
    )
    first = ingest(settings, [batch])
    assert (first.files[0].rows_inserted, first.files[0].status) == (2, "loaded")
    before = counts(settings)
    second = ingest(settings, [batch])
    f = second.files[0]
    assert (f.rows_inserted, f.rows_updated, f.status) == (0, 0, "unchanged")
    assert (
        counts(settings)
        == before
        == {
            "assignments": 2,
            "annotations": 2,
            "workers": 2,
            "items": 2,
            "projects": 1,
            "etl_rejects": 0,
        }
    )


def test_reexport_with_new_statuses_updates_in_place(settings, tmp_path, fake_source):
    ingest(settings, [write(tmp_path / "a.json", [[1, "W1", "submitted"], [2, "W2", "submitted"]])])
    again = ingest(
        settings, [write(tmp_path / "b.json", [[1, "W1", "approved"], [2, "W2", "rejected"]])]
    )
    f = again.files[0]
    assert (f.rows_inserted, f.rows_updated) == (0, 2)
    reader = SnapshotReader(settings)
    statuses = reader.frame(
        "SELECT a.status, n.value FROM assignments a JOIN annotations n USING (assignment_uid)"
        " ORDER BY assignment_uid"
    ).rows()
    assert statuses == [("approved", "app"), ("rejected", "rej")]
    assert counts(settings)["annotations"] == 2
    file_ids = reader.frame("SELECT DISTINCT file_id FROM assignments").to_series().to_list()
    assert file_ids == [f.file_id]  # changed rows point at the file that changed them


def test_unreadable_file_loads_nothing_and_the_run_goes_on(settings, tmp_path, fake_source):
    broken = tmp_path / "broken.json"
    broken.write_text('{"rows": [[1, "W1", "subm')
    good = write(tmp_path / "good.json", [[1, "W1", "submitted"]])
    report = ingest(settings, [broken, good])
    assert [f.status for f in report.files] == ["failed", "loaded"]
    assert "export the batch again" in report.files[0].error
    assert report.status == "partial"
    reader = SnapshotReader(settings)
    failed = reader.frame("SELECT path, status, error FROM etl_files WHERE status = 'failed'")
    assert failed.height == 1 and failed["path"][0].endswith("broken.json")
    assert counts(settings)["assignments"] == 1


def test_an_importer_crash_fails_its_file_alone_and_the_run_publishes(
    settings, tmp_path, monkeypatch, fake_source
):
    def crash_on_bad(path, *args, **kwargs):
        if Path(path).name == "bad.json":
            raise RecursionError("maximum recursion depth exceeded")
        return fake_parse(path, *args, **kwargs)

    monkeypatch.setattr(sources, "parse_file", crash_on_bad)
    good = write(tmp_path / "good.json", [[1, "W1", "submitted"]])
    bad = write(tmp_path / "bad.json", [[2, "W2", "submitted"]])
    good2 = write(tmp_path / "good2.json", [[3, "W3", "submitted"]])
    report = ingest(settings, [good, bad, good2])
    assert [f.status for f in report.files] == ["loaded", "failed", "loaded"]
    assert "RecursionError" in report.files[1].error and "report it" in report.files[1].error
    assert report.status == "partial" and report.snapshot is not None
    reader = SnapshotReader(settings)  # the published snapshot holds both good files
    assert counts(settings)["assignments"] == 2
    runs = reader.frame("SELECT status FROM etl_runs").to_series().to_list()
    assert runs == ["partial"]
    files = reader.frame("SELECT path, status FROM etl_files ORDER BY file_id").rows()
    assert [Path(p).name for p, _ in files] == ["good.json", "bad.json", "good2.json"]


def test_rejects_are_kept_without_personal_data(settings, tmp_path, fake_source):
    raw = json.dumps(
        {
            "worker_id": RAW_WORKERS[0],
            "email": "annotator07@example.org",
            "ip": "192.0.2.7",
            "status": "maybe",
        }
    )
    report = ingest(settings, [write(tmp_path / "r.json", [[1, "W1", "submitted"]], bad=[raw])])
    assert report.files[0].rows_rejected == 1
    stored = SnapshotReader(settings).frame("SELECT reason, raw FROM etl_rejects").row(0)
    assert stored[0] == "unknown status 'maybe'"
    assert RAW_WORKERS[0] not in stored[1] and "example.org" not in stored[1]
    assert "192.0.2.7" not in stored[1] and '"status": "maybe"' in stored[1]


def test_no_raw_id_reaches_any_text_column(settings, tmp_path, fake_source):
    ingest(
        settings,
        [
            write(
                tmp_path / "x.json",
                [[1, RAW_WORKERS[0], "submitted"], [2, RAW_WORKERS[1], "approved"]],
            )
        ],
    )
    snapshot = SnapshotReader(settings).snapshot_path()
    assert_absent_everywhere(snapshot, RAW_WORKERS)
    assert_absent_everywhere(settings.warehouse_path, RAW_WORKERS)


def assert_absent_everywhere(db: Path, needles: tuple[str, ...]) -> None:
    """Scan every text and JSON column of every table for any of `needles`."""
    pattern = "|".join(re.escape(n) for n in needles)
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = con.sql(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE data_type IN ('VARCHAR', 'JSON')"
        ).fetchall()
        for table, column in columns:
            hits = con.execute(
                f'SELECT DISTINCT "{column}"::VARCHAR FROM "{table}"'
                f' WHERE regexp_matches("{column}"::VARCHAR, ?) LIMIT 3',
                [pattern],
            ).fetchall()
            assert not hits, f"raw identifier found in {table}.{column}: {hits}"
    finally:
        con.close()


def test_snapshots_are_pruned_and_current_names_the_newest(settings, tmp_path, fake_source):
    batch = write(tmp_path / "b.json", [[1, "W1", "submitted"]])
    names = [ingest(settings, [batch]).snapshot for _ in range(settings.snapshots_keep + 2)]
    on_disk = sorted(p.name for p in settings.snapshots_dir.glob("*.duckdb"))
    # a run publishes its data, then its figures: the newest `keep` of those stay
    assert len(on_disk) == settings.snapshots_keep == 3
    assert on_disk[0] == names[-2] and on_disk[2] == names[-1]
    assert on_disk[1].startswith(on_disk[2][:9])  # the last run's data snapshot
    assert SnapshotReader(settings).current_name() == names[-1]
    assert len(set(names)) == len(names)  # never reused: DuckDB caches instances by path


def test_reexported_mturk_batch_updates_statuses_and_inserts_none(settings, tmp_path):
    """The real MTurk importer end to end: Submitted rows come back Approved or Rejected."""
    from tests.etl.test_crash import HEADER

    def batch(name: str, statuses: list[str]) -> Path:
        path = tmp_path / name
        lines = [",".join(HEADER)]
        for i, status in enumerate(statuses):
            done = "Tue Apr 02 11:00:00 PDT 2024"
            lines.append(",".join([
                f"H{i}", "TYPE1", "Label a tweet", "$0.05", f"ASSIGN{i:04d}", f"WORKER{i % 3}",
                status, "Mon Apr 01 10:00:00 PDT 2024", "Mon Apr 01 10:01:00 PDT 2024",
                done if status == "Approved" else "", done if status == "Rejected" else "",
                "60", "a tweet", "joy",
            ]))  # fmt: skip
        path.write_text("\n".join(lines) + "\n")
        return path

    first = ingest(settings, [batch("Batch_1_batch_results.csv", ["Submitted"] * 4)]).files[0]
    assert (first.rows_inserted, first.rows_updated) == (4, 0)
    moved = ["Approved", "Rejected", "Approved", "Submitted"]
    second = ingest(settings, [batch("Batch_1_batch_results(1).csv", moved)]).files[0]
    assert (second.rows_inserted, second.rows_updated) == (0, 3)
    rows = (
        SnapshotReader(settings)
        .frame("SELECT status, reviewed_at, paid_at FROM assignments ORDER BY assignment_uid")
        .rows()
    )
    assert [r[0] for r in rows] == ["approved", "rejected", "approved", "submitted"]
    assert rows[0][1] == datetime(2024, 4, 2, 18, tzinfo=UTC)  # 11:00 PDT is 18:00 UTC
    assert rows[0][2] is not None and rows[1][2] is None  # approved work is paid, rejected not


def mturk_rows(statuses: list[str], assignment_ids: list[str] | None = None) -> str:
    from tests.etl.test_crash import HEADER

    ids = assignment_ids or [f"ASSIGN{i:04d}" for i in range(len(statuses))]
    lines = [",".join(HEADER)]
    for i, (status, assignment) in enumerate(zip(statuses, ids, strict=True)):
        done = "Tue Apr 02 11:00:00 PDT 2024"
        lines.append(",".join([
            f"H{i}", "TYPE1", "Label a tweet", "$0.05", assignment, f"WORKER{i % 3}",
            status, "Mon Apr 01 10:00:00 PDT 2024", "Mon Apr 01 10:01:00 PDT 2024",
            done if status == "Approved" else "", done if status == "Rejected" else "",
            "60", "a tweet", "joy",
        ]))  # fmt: skip
    return "\n".join(lines) + "\n"


def test_a_file_merged_in_parts_equals_one_merged_whole(settings, tmp_path):
    """Big files merge a part at a time in one transaction; a record repeated in a later
    part is rejected like a repeat inside one part, and the tables match a whole-file load."""
    from etl.settings import Settings

    ids = [f"ASSIGN{i:04d}" for i in range(10)]
    ids[8] = ids[2]  # record 9 repeats record 3, three parts later
    batch = tmp_path / "Batch_7_batch_results.csv"
    batch.write_text(mturk_rows(["Approved"] * 10, ids))

    whole = ingest(settings, [batch]).files[0]
    parted_settings = Settings(
        data_dir=tmp_path / "parted", lock_timeout_seconds=2, etl_part_bytes=300
    )  # two or three records a part
    parted = ingest(parted_settings, [batch]).files[0]

    assert (whole.rows_read, whole.rows_inserted, whole.rows_rejected) == (10, 9, 1)
    assert (parted.rows_read, parted.rows_inserted, parted.rows_rejected) == (10, 9, 1)
    query = "SELECT * EXCLUDE (file_id) FROM {} ORDER BY ALL"
    for table in ("assignments", "annotations", "workers", "items"):
        a = SnapshotReader(settings).frame(query.format(table))
        b = SnapshotReader(parted_settings).frame(query.format(table))
        assert a.equals(b), table
    reasons = SnapshotReader(parted_settings).frame("SELECT record_no, reason FROM etl_rejects")
    assert reasons.rows() == [
        (9, "assignment mturk:ASSIGN0002 appears again; its first record was kept")
    ]


def test_prefetched_parts_keep_their_order_errors_and_stops():
    from etl.staging import prefetched

    assert list(prefetched(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        yield 2
        raise UnreadableFile("part 3 is broken")

    got = []
    with pytest.raises(UnreadableFile, match="part 3 is broken"):
        for item in prefetched(failing()):
            got.append(item)
    assert got == [1, 2]  # the items before the error arrive first
    produced = []

    def endless():
        for i in range(10**9):
            produced.append(i)
            yield i

    for item in prefetched(endless()):
        if item == 3:
            break  # the producer stops too, a part or two ahead at most
    assert len(produced) <= 6


def test_a_rejected_csv_line_is_scrubbed_by_its_files_header(settings, tmp_path):
    """The header the parser read names the id columns of a rejected line: its raw worker id is
    replaced by the worker's pseudonym, not only masked."""
    lines = (FIXTURES / "mturk_batch.csv").read_text().splitlines()
    bad = lines[1].replace("$0.50", "abc").replace(",W1,", ",RAWWORKER77,")
    batch = tmp_path / "batch.csv"
    batch.write_text("\n".join([*lines, bad]) + "\n")
    report = ingest(settings, [batch])
    assert report.files[0].rows_rejected == 1
    raw = SnapshotReader(settings).frame("SELECT raw FROM etl_rejects")["raw"][0]
    assert "RAWWORKER77" not in raw
    assert pseudonymise("mturk", "RAWWORKER77", pseudonym_key(settings)) in raw


def test_the_warehouse_and_snapshots_are_readable_by_their_owner_only(
    settings, tmp_path, fake_source
):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.data_dir.chmod(0o755)  # as an earlier version left it
    ingest(settings, [write(tmp_path / "b.json", [[1, "W1", "submitted"]])])
    snapshots = settings.data_dir / "snapshots"
    for folder in (settings.data_dir, snapshots):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    files = [settings.warehouse_path, *snapshots.glob("*.duckdb"), snapshots / "CURRENT"]
    assert len(files) >= 3
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_reingesting_an_older_export_does_not_revert_a_newer_one(settings, tmp_path, fake_source):
    older = write(tmp_path / "older.json", [[1, "W1", "submitted"], [2, "W2", "submitted"]])
    newer = write(tmp_path / "newer.json", [[1, "W1", "approved"], [2, "W2", "rejected"]])
    ingest(settings, [older])
    ingest(settings, [newer])
    again = ingest(settings, [older])
    f = again.files[0]
    assert (f.status, f.rows_inserted, f.rows_updated) == ("unchanged", 0, 0)
    assert "the same bytes as file 1" in f.notes[0]
    statuses = (
        SnapshotReader(settings)
        .frame("SELECT status FROM assignments ORDER BY assignment_uid")["status"]
        .to_list()
    )
    assert statuses == ["approved", "rejected"]  # the newer export's, as before
    # --again reads it anew, but its records are no newer (equal times, loaded first): kept
    forced = ingest(settings, [older], LoadOptions(again=True)).files[0]
    assert (forced.rows_inserted, forced.rows_updated) == (0, 0)
    assert SnapshotReader(settings).frame("SELECT status FROM assignments ORDER BY assignment_uid")[
        "status"
    ].to_list() == ["approved", "rejected"]
