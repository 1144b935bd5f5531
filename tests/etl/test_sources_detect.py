"""Format detection by content, and files that cannot be read at all."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from etl.settings import SourceSettings
from etl.sources import FORMATS, IMPORTABLE, detect_format, parse_file
from etl.sources.base import SourceOptions, UnreadableFile

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("mturk_batch.csv", "mturk"),
        ("mturk_task_answers.csv", "mturk"),
        ("toloka_pool.tsv", "toloka"),
        ("f1234567_full.csv", "appen"),
        ("labelstudio_export.json", "labelstudio"),
        ("labelstudio_min.json", "labelstudio"),
        ("prodigy_dataset.jsonl", "prodigy"),
        ("labelbox_v1.json", "labelbox"),
        ("labelbox_v2.ndjson", "labelbox"),
        ("doccano_ner/alice.jsonl", "doccano"),
        ("toggl_detailed.csv", "toggl"),
    ],
)
def test_fixtures_are_detected_whatever_their_name(tmp_path: Path, name: str, fmt: str) -> None:
    renamed = tmp_path / "export.dat"
    renamed.write_bytes((FIXTURES / name).read_bytes())
    assert detect_format(renamed) == fmt


def test_every_format_module_keeps_the_contract() -> None:
    for name, module in FORMATS.items():
        assert name == module.FORMAT
        assert callable(module.sniff) and callable(module.parse)
        assert module.sniff(b"") is False


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"name,score\nann,3\n", "matches none of the formats"),
        (b'[{"annotations": [{"id": 1, "completed_by": 2, "result": [', "not complete JSON"),
        (b'{"foo": 1}\n', "matches none"),
    ],
)
def test_unreadable_files_say_what_to_do(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=says):
        parse_file(path)


def test_unknown_format_lists_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_text("name,score\nann,3\n")
    with pytest.raises(UnreadableFile) as caught:
        detect_format(path)
    assert all(name in str(caught.value) for name in IMPORTABLE)
    assert "cvat" not in str(caught.value)


def test_compressed_and_latin1_files(tmp_path: Path) -> None:
    packed = tmp_path / "batch.csv.gz"
    packed.write_bytes(gzip.compress((FIXTURES / "mturk_batch.csv").read_bytes()))
    with pytest.raises(UnreadableFile, match="gzip-compressed: unpack it"):
        parse_file(packed)
    latin = tmp_path / "latin.csv"
    text = "HITId,AssignmentId,WorkerId,AssignmentStatus\nH,A,Jos\xe9,Approved\n"
    latin.write_bytes(text.encode("latin-1"))
    with pytest.raises(UnreadableFile, match="not UTF-8"):
        parse_file(latin, "mturk")


def test_unknown_format_name_lists_valid_names(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes((FIXTURES / "mturk_batch.csv").read_bytes())
    with pytest.raises(UnreadableFile, match="'turk' is not a format.*mturk, toloka"):
        parse_file(path, "turk")


def test_missing_file_and_bad_zone(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="is not a file"):
        parse_file(tmp_path / "nope.csv")
    options = SourceOptions(source=SourceSettings(timezone="Mars/Olympus"))
    with pytest.raises(UnreadableFile, match="not an IANA zone"):
        parse_file(FIXTURES / "mturk_batch.csv", options=options)


def test_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    text = (FIXTURES / "mturk_batch.csv").read_text().replace("\n", "\r\n")
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = parse_file(path)
    assert result.frames["assignments"].height == 3 and result.rejects.height == 0
