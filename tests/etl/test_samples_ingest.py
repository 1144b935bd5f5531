"""Every real sample in ../shared/samples goes through the whole loader; no raw id survives it."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from etl.load import ingest
from etl.reader import SnapshotReader
from tests.etl.test_load import assert_absent_everywhere

# Files with no per-worker records (consolidated labels, or labels without their labeller) are
# refused whole, with a reason; everything else loads.
NO_WORKER_DATA = ("sagemaker_ground_truth", "cvat", "Okavango-Image-Classification")
ID_COLUMNS = re.compile(r"^(WorkerId|ASSIGNMENT:worker_id|_worker_id|_ip|User|Email)$")
ID_KEYS = ("_annotator_id", "_session_id", "Created By", "created_by", "email", "annotator")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
IPV4 = re.compile(r"\b192\.0\.2\.\d{1,3}\b")


def raw_identifiers(samples: Path) -> set[str]:
    """Worker ids, e-mails and IPs as they appear in the sample files."""
    found: set[str] = set()
    for path in samples.rglob("*"):
        if not path.is_file() or path.name == "README.md":
            continue
        text = path.read_text(errors="replace")
        found |= set(EMAIL.findall(text)) | set(IPV4.findall(text))
        if path.suffix in (".csv", ".tsv"):
            delimiter = "\t" if path.suffix == ".tsv" else ","
            rows = list(csv.DictReader(text.splitlines(), delimiter=delimiter))
            for column in rows[0] if rows else ():
                if ID_COLUMNS.match(column or ""):
                    found |= {r[column] for r in rows if r.get(column)}
        elif path.suffix in (".json", ".jsonl", ".ndjson"):
            found |= _json_ids(text)
    return {needle for needle in found if len(needle) >= 6}


def _json_ids(text: str) -> set[str]:
    docs = []
    try:
        docs = [json.loads(text)]
    except ValueError:
        for line in text.splitlines():
            try:
                docs.append(json.loads(line))
            except ValueError:
                continue
    found: set[str] = set()

    def walk(value, personal=False):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, personal or k in ID_KEYS)
        elif isinstance(value, list):
            for v in value:
                walk(v, personal)
        elif personal and isinstance(value, str | int) and not isinstance(value, bool):
            found.add(str(value))

    for doc in docs:
        walk(doc)
    return found


@pytest.fixture(scope="module")
def loaded(shared_dir_module, tmp_path_factory):
    from etl.settings import Settings

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("samples") / "data", pseudonym_key="sample-test-key"
    )
    report = ingest(settings, [shared_dir_module / "samples"])
    return settings, report


@pytest.fixture(scope="module")
def shared_dir_module():
    from tests.conftest import SHARED

    if not SHARED.is_dir():
        pytest.skip("../shared is absent (real samples are not part of the repository)")
    return SHARED


def test_every_sample_file_ingests_or_is_refused_with_a_reason(loaded):
    _, report = loaded
    for f in report.files:
        if f.path.endswith("README.md"):
            # found in a folder and no export: listed as skipped, with the reason
            assert f.status == "skipped" and "matches none of the formats" in f.error
        elif any(folder in f.path for folder in NO_WORKER_DATA):
            assert f.status == "failed" and re.search(r"per-worker|no labeller", f.error), f
        else:
            assert f.status in ("loaded", "unchanged"), f"{f.path}: {f.error}"
            assert f.rows_read > 0


def test_no_raw_identifier_of_any_sample_reaches_the_warehouse(loaded, shared_dir_module):
    settings, _ = loaded
    needles = tuple(sorted(raw_identifiers(shared_dir_module / "samples")))
    assert len(needles) > 50  # the scan found the ids it is meant to look for
    assert_absent_everywhere(settings.warehouse_path, needles)
    assert_absent_everywhere(SnapshotReader(settings).snapshot_path(), needles)


def test_assignment_keys_stay_unique_and_times_are_utc(loaded):
    settings, _ = loaded
    reader = SnapshotReader(settings)
    dupes = reader.frame(
        "SELECT count(*) - count(DISTINCT assignment_uid) AS d FROM assignments"
    ).item()
    assert dupes == 0
    types = reader.frame(
        "SELECT DISTINCT data_type FROM information_schema.columns"
        " WHERE table_name = 'assignments' AND column_name LIKE '%_at'"
    )["data_type"].to_list()
    assert types == ["TIMESTAMP WITH TIME ZONE"]
