"""Hostile and broken files: every importer ends each file loaded, with rejects that say why,
or refused with a reason; never a traceback. Mutants of the real samples in ../shared/samples
(and of the repo's own fixtures) come from `tests.etl.mutants`; `FUZZ_MUTANTS` raises how many
each format gets (`make fuzz` runs thousands)."""

from __future__ import annotations

import json
import math
import os
import random
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from etl.pseudonym import pseudonymise
from etl.scrub import MAX_RAW_CHARS, scrub_record, scrubbed_rejects
from etl.settings import IngestLimits
from etl.sources import detect_format, parse_file
from etl.sources.base import SCHEMAS, SourceOptions, UnreadableFile
from etl.sources.plausible import reject_implausible_times
from etl.sources.records import RowCollector
from tests.etl.mutants import mutants

SHARED = Path(__file__).resolve().parents[3] / "shared" / "samples"
FIXTURES = Path(__file__).parent / "fixtures"
PER_FORMAT = int(os.environ.get("FUZZ_MUTANTS", "224"))  # at least this many mutants a format


def _seeds() -> dict[str, list[Path]]:
    files = [p for p in FIXTURES.rglob("*") if p.is_file()]
    if SHARED.is_dir():
        files += [p for p in SHARED.rglob("*") if p.is_file() and p.suffix != ".md"]
    by_format: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(files):
        try:
            by_format[detect_format(path)].append(path)
        except UnreadableFile:
            continue
    return dict(by_format)


SEEDS = _seeds()


def outcome(path: Path, options: SourceOptions = SourceOptions()) -> str:
    """'loaded', 'rejects' or 'refused: reason'; anything else is raised (the test fails)."""
    try:
        result = parse_file(path, None, options)
    except UnreadableFile as exc:
        assert str(exc).strip(), "a refusal must say why"
        return f"refused: {exc}"
    for table, frame in result.frames.items():
        assert list(frame.schema) == list(SCHEMAS[table])
    assert result.rejects["record_no"].is_unique().all()
    assert result.rejects["reason"].str.len_chars().min() or result.rejects.is_empty()
    return "rejects" if result.rejects.height else "loaded"


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_mutants_of_real_exports_never_crash_an_importer(fmt: str, tmp_path: Path) -> None:
    seeds = SEEDS[fmt]
    each = math.ceil(PER_FORMAT / len(seeds))
    seen: dict[str, int] = defaultdict(int)
    for number, seed in enumerate(seeds):
        for kind, data in mutants(seed.read_bytes(), seed=number, n=each):
            path = tmp_path / f"mutant{seed.suffix}"
            path.write_bytes(data)
            try:
                seen[outcome(path).split(":")[0]] += 1
            except Exception as exc:  # report which mutant, then fail
                keep = tmp_path / f"crash-{kind}{seed.suffix}"
                keep.write_bytes(data)
                raise AssertionError(f"{kind} of {seed.name} crashed: {exc!r} ({keep})") from exc
    assert sum(seen.values()) == each * len(seeds) >= PER_FORMAT


def _csv(tmp_path: Path, text: str | bytes, name: str = "batch.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


MTURK_HEADER = "HITId,HITTypeId,Reward,AssignmentId,WorkerId,AssignmentStatus,AcceptTime,SubmitTime"


def _mturk_row(assignment: str, accepted: str, submitted: str) -> str:
    return f"H1,T1,$0.10,{assignment},W1,Approved,{accepted},{submitted}"


def test_a_csv_with_carriage_returns_alone_is_refused_with_the_reason(tmp_path: Path) -> None:
    rows = [MTURK_HEADER, _mturk_row("A1", "2024-01-01T10:00:00Z", "2024-01-01T10:01:00Z")]
    path = _csv(tmp_path, "\r".join(rows) + "\r")
    result = outcome(path)
    assert result.startswith("refused") and "carriage return" in result


def test_a_carriage_return_in_the_header_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = _csv(tmp_path, "HITId,Hit\rTypeId,Reward\nH1,T1,$1\n")
    assert outcome(path).startswith("refused")


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_json_nested_beyond_reason_is_refused(tmp_path: Path, depth: int) -> None:
    path = _csv(tmp_path, '{"a":' * depth + "1" + "}" * depth, "deep.json")
    result = outcome(path)
    assert result.startswith("refused")


def test_a_deeply_nested_line_of_jsonl_is_one_reject(tmp_path: Path) -> None:
    good = {"id": 1, "text": "a b", "label": [[0, 1, "X"]], "annotator": "w1"}
    lines = [json.dumps(good), '{"id": 2, "text": ' + "[" * 50_000 + "]" * 50_000 + "}"]
    path = _csv(tmp_path, "\n".join(lines) + "\n", "spans.jsonl")
    result = parse_file(path, "doccano")
    assert result.rejects.height == 1
    assert "nested too deeply" in result.rejects["reason"][0]


def test_an_integer_over_4300_digits_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    document = '[{"id": ' + "9" * 5_000 + ', "annotations": []}]'
    path = _csv(tmp_path, document, "tasks.json")
    assert "number too long" in outcome(path, SourceOptions())


def test_a_lone_surrogate_reads_as_a_replacement_character(tmp_path: Path) -> None:
    line = {"id": 1, "text": "x", "label": [[0, 1, "\\ud800"]], "annotator": "w1"}
    path = _csv(tmp_path, json.dumps(line).replace("\\\\ud800", "\\ud800") + "\n", "s.jsonl")
    result = parse_file(path, "doccano")
    assert result.rejects.is_empty()
    assert "\ufffd" in result.frames["annotations"]["value"].to_list()[0]


def test_a_field_over_the_csv_modules_limit_is_read(tmp_path: Path) -> None:
    big = "x" * 200_000
    rows = [MTURK_HEADER + ",Answer.text", _mturk_row("A1", "bad time", "bad") + f",{big}"]
    path = _csv(tmp_path, "\n".join(rows) + "\n")
    result = parse_file(path)
    assert result.rejects.height == 1  # the record is rejected for its times, not a crash


def test_a_file_with_100000_columns_is_refused_before_any_work(tmp_path: Path) -> None:
    header = MTURK_HEADER + "," + ",".join(f"c{i}" for i in range(100_000))
    path = _csv(tmp_path, header + "\n" + _mturk_row("A1", "x", "y") + "\n")
    assert path.stat().st_size > 500_000
    result = outcome(path)
    assert "100,008 columns" in result and "limits.max_columns" in result


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"])
def test_a_record_timed_outside_the_plausible_range_is_rejected(tmp_path: Path, moment: str):
    rows = [
        MTURK_HEADER,
        _mturk_row("A1", "2024-01-01T10:00:00Z", "2024-01-01T10:01:00Z"),
        _mturk_row("A2", moment, "2024-01-01T10:01:00Z"),
    ]
    result = parse_file(_csv(tmp_path, "\n".join(rows) + "\n"))
    assert result.frames["assignments"]["assignment_uid"].to_list() == ["mturk:A1"]
    assert result.rejects["record_no"].to_list() == [2]
    assert "outside the plausible range 2000-01-01" in result.rejects["reason"][0]


def test_the_plausible_window_follows_its_settings(tmp_path: Path) -> None:
    rows = [MTURK_HEADER, _mturk_row("A1", "2024-01-01T10:00:00Z", "2024-01-01T10:01:00Z")]
    parsed = parse_file(_csv(tmp_path, "\n".join(rows) + "\n"))
    late = IngestLimits(earliest_time=date(2024, 6, 1))
    assert reject_implausible_times(parsed, late).frames["assignments"].is_empty()
    early = IngestLimits(future_days=0)
    kept = reject_implausible_times(parse_file(tmp_path / "batch.csv"), early, date(2024, 1, 1))
    assert kept.frames["assignments"].height == 1  # the last day is today itself


def test_a_rejected_record_takes_its_answers_with_it(tmp_path: Path) -> None:
    rng = random.Random(3)
    header = MTURK_HEADER + ",Answer.label"
    rows = [header]
    for i in range(20):
        moment = "0001-01-01T00:00:00Z" if i % 5 == 0 else "2024-01-01T10:00:00Z"
        rows.append(_mturk_row(f"A{i}", moment, "2024-01-01T10:01:00Z") + f",{rng.choice('xy')}")
    result = parse_file(_csv(tmp_path, "\n".join(rows) + "\n"))
    kept = set(result.frames["assignments"]["assignment_uid"])
    assert len(kept) == 16 and result.rejects.height == 4
    assert set(result.frames["annotations"]["assignment_uid"]) <= kept


def test_a_shifted_worker_id_in_a_rejected_row_is_replaced(tmp_path: Path) -> None:
    rows = [
        MTURK_HEADER,
        _mturk_row("A1", "2024-01-01T10:00:00Z", "2024-01-01T10:01:00Z").replace("W1", "WKR7"),
        "H2,$0.10,A2,WKR7,Approved,2024-01-01T10:00:00Z,2024-01-01T10:01:00Z",  # one field short
    ]
    parsed = parse_file(_csv(tmp_path, "\n".join(rows) + "\n"))
    assert parsed.rejects.height == 1
    kept = scrubbed_rejects(parsed, b"k")["raw"][0]
    assert "WKR7" not in kept and pseudonymise("mturk", "WKR7", b"k") in kept


def test_scrubbing_a_huge_rejected_value_is_bounded_and_still_masks() -> None:
    value = "reach me at someone@example.org " + "a" * 120_000 + "@"
    raw = json.dumps({"text": value, "worker": "W9"})
    kept = scrub_record(raw, None, None, lambda v: "<id>", frozenset())
    assert len(kept) <= MAX_RAW_CHARS
    assert "someone@example.org" not in kept and "<email>" in kept and "W9" not in kept


def test_a_list_where_an_id_belongs_rejects_the_record() -> None:
    # found by make fuzz: a Labelbox review whose reviewer became [] failed the whole file
    collector = RowCollector("labelbox", "labelbox")
    for record_no, reviewer in enumerate(["r1", []], start=1):
        with collector.record(record_no, {"reviewer": reviewer}):
            collector.assignment(
                {"assignment_uid": f"labelbox:{record_no}", "project_id": "p",
                 "item_id": str(record_no), "worker_id": "w", "reviewer_id": reviewer}
            )  # fmt: skip
    result = collector.result(rows_read=2)
    assert result.frames["assignments"]["reviewer_id"].to_list() == ["r1"]
    assert "reviewer_id is list" in result.rejects["reason"][0]


def test_a_duration_beyond_any_real_one_rejects_its_record(tmp_path: Path) -> None:
    tasks = json.loads((FIXTURES / "labelstudio_min.json").read_text())
    tasks[0]["lead_time"] = 1e20
    path = _csv(tmp_path, json.dumps(tasks), "min.json")
    result = parse_file(path, "labelstudio")
    assert result.frames["assignments"].height == 1
    assert "out of range" in result.rejects["reason"][0]


def test_nan_in_an_mturk_answer_blob_rejects_that_record_only(tmp_path: Path) -> None:
    text = (FIXTURES / "mturk_task_answers.csv").read_text()
    lines = text.splitlines()
    lines[2] = lines[2].replace('""note"":""3""', '""note"":NaN')
    assert "NaN" in lines[2]
    result = parse_file(_csv(tmp_path, "\n".join(lines) + "\n"))
    assert result.rejects.height == 1 and "NaN is not JSON" in result.rejects["reason"][0]
    assert result.frames["assignments"].height == len(lines) - 2
