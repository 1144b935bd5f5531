"""Drop-folder pulls: new exports load once (by hash), files being written wait for the next
run, files that are no exports are listed and skipped, a failing source says so every run, a
run that loads nothing publishes nothing, and a failed file is tried again by the rule
`ingest` follows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl import lineage
from etl.load import LoadOptions, ingest
from etl.pull_settings import FolderPull
from etl.pulls import run as pull_run
from etl.pulls.run import run_pull
from etl.pulls.status import recorded_states
from etl.reader import SnapshotReader
from etl.settings import Settings
from etl.warehouse import open_warehouse

FIXTURES = Path(__file__).parent / "fixtures"


def drop_pull(folder: Path, **extra) -> FolderPull:
    return FolderPull(name="drop", kind="folder", path=folder, every="15m", **extra)


def no_wait() -> None:
    """Two looks at the folder with nothing written between them."""


def state(settings: Settings) -> dict:
    """The source's state as the status command and the Pipeline page read it."""
    (found,) = [row for row in recorded_states(settings) if row["name"] == "drop"]
    return found


def assignment_count(settings: Settings) -> int:
    with SnapshotReader(settings).cursor() as cur:
        return cur.execute("SELECT count(*) FROM assignments").fetchone()[0]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    drop.mkdir()
    return drop


def test_new_exports_load_once_and_no_exports_are_skipped(settings: Settings, folder: Path):
    shutil.copy(FIXTURES / "toloka_pool.tsv", folder / "pool.tsv")
    shutil.copy(FIXTURES / "mturk_batch.csv", folder / "batch.csv")
    (folder / "README.md").write_text("# what this folder is for\n")
    pull = drop_pull(folder)

    first = run_pull(settings, pull, settle=no_wait)
    assert (first.result, first.files_loaded) == ("loaded", 2)
    assert first.rows_loaded > 0
    assert any(n.startswith("README.md skipped:") for n in first.notes)
    loaded = assignment_count(settings)
    recorded = state(settings)
    assert (recorded["last_result"], recorded["files_loaded"]) == ("loaded", 2)
    assert "README.md skipped" in recorded["notes"]

    shutil.copy(FIXTURES / "toloka_pool.tsv", folder / "pool-copied-again.tsv")
    second = run_pull(settings, pull, settle=no_wait)
    assert (second.result, second.run_id, second.files_loaded) == ("nothing new", None, 0)
    assert assignment_count(settings) == loaded
    assert state(settings)["last_result"] == "nothing new"


def test_a_file_still_being_written_waits_for_the_next_run(settings: Settings, folder: Path):
    target = folder / "pool.tsv"
    content = (FIXTURES / "toloka_pool.tsv").read_bytes()
    target.write_bytes(content[: len(content) // 2])

    def copy_goes_on() -> None:
        target.write_bytes(content)

    first = run_pull(settings, drop_pull(folder), settle=copy_goes_on)
    assert (first.result, first.files_loaded) == ("nothing new", 0)
    assert first.notes == ["pool.tsv is still being written: left for the next run"]
    assert SnapshotReader(settings).current_name() is None  # nothing loaded, nothing published

    second = run_pull(settings, drop_pull(folder), settle=no_wait)
    assert (second.result, second.files_loaded) == ("loaded", 1)
    assert state(settings)["notes"] is None


def test_a_failing_source_keeps_saying_so(settings: Settings, folder: Path, tmp_path: Path):
    shutil.copy(FIXTURES / "mturk_batch.csv", folder / "batch.csv")
    pull = drop_pull(folder)
    assert run_pull(settings, pull, settle=no_wait).result == "loaded"
    loaded_at = state(settings)["last_success_at"]
    folder.rename(tmp_path / "moved")
    for expected in (1, 2):
        outcome = run_pull(settings, pull, settle=no_wait)
        assert outcome.result == "failed"
        recorded = state(settings)
        assert recorded["failures_in_a_row"] == expected
        assert "does not exist" in recorded["error"]
        assert recorded["last_success_at"] == loaded_at
    (tmp_path / "moved").rename(folder)
    assert run_pull(settings, pull, settle=no_wait).result == "nothing new"
    assert state(settings)["failures_in_a_row"] == 0


def test_nothing_is_published_before_anything_was_loaded(settings: Settings, folder: Path):
    assert run_pull(settings, drop_pull(folder), settle=no_wait).result == "nothing new"
    assert SnapshotReader(settings).current_name() is None


def test_the_pattern_chooses_the_files(settings: Settings, folder: Path):
    shutil.copy(FIXTURES / "toloka_pool.tsv", folder / "pool.tsv")
    shutil.copy(FIXTURES / "mturk_batch.csv", folder / "batch.csv")
    outcome = run_pull(settings, drop_pull(folder, pattern="*.tsv"), settle=no_wait)
    assert (outcome.result, outcome.files_loaded, outcome.notes) == ("loaded", 1, [])


def _snapshot(settings: Settings) -> tuple[str, int]:
    """The current snapshot's name and modification time."""
    reader = SnapshotReader(settings)
    name = reader.current_name()
    return name, (settings.snapshots_dir / name).stat().st_mtime_ns


def test_only_a_run_that_loads_publishes_and_once(
    settings: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch
):
    publishes: list[int] = []
    real = pull_run.publish

    def counted(con, settings, run_id, *args):
        publishes.append(run_id)
        return real(con, settings, run_id, *args)

    monkeypatch.setattr(pull_run, "publish", counted)
    shutil.copy(FIXTURES / "mturk_batch.csv", folder / "batch.csv")
    pull = drop_pull(folder)
    first = run_pull(settings, pull, settle=no_wait)
    assert first.result == "loaded"
    assert publishes == [first.run_id]
    published = _snapshot(settings)
    files = sorted(settings.snapshots_dir.iterdir())

    idle = run_pull(settings, pull, settle=no_wait)
    assert idle.result == "nothing new"
    assert publishes == [first.run_id]
    assert _snapshot(settings) == published  # the same snapshot, untouched
    assert sorted(settings.snapshots_dir.iterdir()) == files  # and no other written
    assert state(settings)["last_result"] == "nothing new"  # the state is fresh all the same

    (folder / "other.csv").write_bytes((folder / "batch.csv").read_bytes() + b"\n\n")
    failed = run_pull(settings, drop_pull(folder, format="toloka"), settle=no_wait)
    assert (failed.result, publishes) == ("failed", [first.run_id])  # nothing loaded
    (folder / "other.csv").unlink()

    # new bytes with no new rows still load (their file is listed): one publish
    (folder / "batch-again.csv").write_bytes((folder / "batch.csv").read_bytes() + b"\n")
    again = run_pull(settings, pull, settle=no_wait)
    assert (again.result, again.rows_loaded) == ("loaded", 0)
    assert publishes == [first.run_id, again.run_id]
    assert _snapshot(settings)[0] != published[0]


def _attempts(settings: Settings, name: str) -> list[str]:
    """The statuses of every etl_files row of the file `name`, oldest first."""
    with open_warehouse(settings) as con:
        rows = con.execute(
            "SELECT status FROM etl_files WHERE path LIKE ? ORDER BY file_id", [f"%/{name}"]
        ).fetchall()
    return [row[0] for row in rows]


def test_a_failed_file_is_tried_again_by_the_rule_ingest_follows(settings: Settings, folder: Path):
    """The same bytes read as the wrong format fail; read again with the format fixed, they
    load: by `ingest` and by a folder pull alike. Bytes that loaded are not read again."""
    shutil.copy(FIXTURES / "mturk_batch.csv", folder / "batch.csv")
    wrong = drop_pull(folder, format="toloka")
    assert run_pull(settings, wrong, settle=no_wait).result == "failed"
    assert run_pull(settings, wrong, settle=no_wait).result == "failed"  # tried again
    assert _attempts(settings, "batch.csv") == ["failed", "failed"]
    fixed = run_pull(settings, drop_pull(folder), settle=no_wait)
    assert (fixed.result, fixed.files_loaded) == ("loaded", 1)
    assert run_pull(settings, drop_pull(folder), settle=no_wait).result == "nothing new"
    assert _attempts(settings, "batch.csv") == ["failed", "failed", "loaded"]

    other = folder.parent / "by-hand"
    other.mkdir()
    shutil.copy(FIXTURES / "toloka_pool.tsv", other / "pool.tsv")
    statuses = [
        ingest(settings, [other / "pool.tsv"], LoadOptions(fmt=fmt)).files[0].status
        for fmt in ("mturk", "mturk", None, None)
    ]
    assert statuses == ["failed", "failed", "loaded", "unchanged"]
    # and a pull of bytes `ingest` loaded finds nothing new
    shutil.copy(other / "pool.tsv", folder / "pool.tsv")
    assert run_pull(settings, drop_pull(folder), settle=no_wait).result == "nothing new"


def test_each_file_is_read_once_to_hash_it(
    settings: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch
):
    hashed: list[str] = []
    real = lineage.file_sha256

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(lineage, "file_sha256", counting)
    shutil.copy(FIXTURES / "toloka_pool.tsv", folder / "pool.tsv")
    shutil.copy(FIXTURES / "mturk_batch.csv", folder / "batch.csv")
    outcome = run_pull(settings, drop_pull(folder), settle=no_wait)
    assert (outcome.result, outcome.files_loaded) == ("loaded", 2)
    assert sorted(hashed) == ["batch.csv", "pool.tsv"]  # by the pull, not again by the load
    with open_warehouse(settings) as con:
        recorded = dict(
            con.execute("SELECT regexp_extract(path, '[^/]+$'), sha256 FROM etl_files").fetchall()
        )
    assert recorded == {name: real(folder / name) for name in ("batch.csv", "pool.tsv")}


def test_a_file_changed_after_it_was_hashed_waits_for_the_next_run(
    settings: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch
):
    """Overwritten while the run waited for the writer lock: its digest no longer holds."""
    target = folder / "batch.csv"
    shutil.copy(FIXTURES / "mturk_batch.csv", target)
    real = lineage.file_sha256

    def then_overwritten(path: Path) -> str:
        digest = real(path)
        shutil.copy(FIXTURES / "toloka_pool.tsv", path)
        return digest

    monkeypatch.setattr(lineage, "file_sha256", then_overwritten)
    first = run_pull(settings, drop_pull(folder), settle=no_wait)
    assert (first.result, first.notes) == (
        "nothing new",
        ["batch.csv changed during the run: left for the next run"],
    )
    monkeypatch.setattr(lineage, "file_sha256", real)
    second = run_pull(settings, drop_pull(folder, format="toloka"), settle=no_wait)
    assert (second.result, second.files_loaded) == ("loaded", 1)
    with open_warehouse(settings) as con:
        assert con.execute("SELECT sha256 FROM etl_files").fetchall() == [(real(target),)]


def test_an_idle_run_publishes_when_no_snapshot_is_left(settings: Settings, folder: Path):
    """A restore deletes the snapshots: the next run, with nothing new, publishes the data."""
    shutil.copy(FIXTURES / "mturk_batch.csv", folder / "batch.csv")
    assert run_pull(settings, drop_pull(folder), settle=no_wait).result == "loaded"
    loaded = assignment_count(settings)
    shutil.rmtree(settings.snapshots_dir)
    assert run_pull(settings, drop_pull(folder), settle=no_wait).result == "nothing new"
    assert assignment_count(settings) == loaded
