"""Two files holding the same record: the newer record wins (by its own times, then by the
files' load order), whatever order they are loaded in, and re-reading the older file with
`ingest --again` does not revert it."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.load import LoadOptions, ingest
from etl.reader import SnapshotReader

HEADER_A = "_unit_id,_created_at,_id,_started_at,_tainted,_worker_id,label"
HEADER_B = "_unit_id,_created_at,_id,_started_at,_tainted,_worker_id,label,_trust"
# Two Figure Eight reports of job 1234567 sharing judgment ids, with different columns:
# judgment 101 is newer in B (submitted later, then tainted); 102 has the same times in both.
OLDER = [
    "u1,3/24/2016 17:57:02,101,3/24/2016 17:56:00,false,w1,yes",
    "u1,3/24/2016 17:58:00,102,3/24/2016 17:57:00,false,w2,no",
]
NEWER = [
    "u1,3/24/2016 18:30:00,101,3/24/2016 18:29:00,true,w1,no,0.5",
    "u1,3/24/2016 17:58:00,102,3/24/2016 17:57:00,false,w2,yes,0.9",
]
SQL = """
SELECT a.assignment_uid, a.status, n.value
FROM assignments a JOIN annotations n USING (assignment_uid)
WHERE n.field = 'label' ORDER BY 1
"""


def write(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def stored(settings) -> list[tuple[str, str, str]]:
    with SnapshotReader(settings).cursor() as cur:
        return [(uid.rpartition(":")[2], s, v) for uid, s, v in cur.execute(SQL).fetchall()]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "a": write(tmp_path / "report_a_f1234567.csv", HEADER_A, OLDER),
        "b": write(tmp_path / "report_b_f1234567.csv", HEADER_B, NEWER),
    }


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        # 101: B's, the later times; 102: equal times, B loaded later
        ("a", "b", [("101", "rejected", "no"), ("102", "approved", "yes")]),
        # 101: still B's, whose times are later; 102: equal times, A loaded later
        ("b", "a", [("101", "rejected", "no"), ("102", "approved", "no")]),
    ],
    ids=["older-first", "newer-first"],
)
def test_the_newer_record_wins_in_either_order_and_stays(settings, files, first, last, expected):
    ingest(settings, [files[first]])
    ingest(settings, [files[last]])
    assert stored(settings) == expected
    # read the first one anew
    again = ingest(settings, [files[first]], LoadOptions(again=True)).files[0]
    assert (again.rows_inserted, again.rows_updated) == (0, 0)
    assert stored(settings) == expected


def test_within_one_run_the_newer_record_wins_too(settings, files):
    ingest(settings, [files["b"], files["a"]])
    assert stored(settings)[0] == ("101", "rejected", "no")


def test_every_fact_table_says_which_of_its_times_make_a_record_newer():
    from etl.merge import FACT_KEYS, RECORD_TIMES

    assert RECORD_TIMES.keys() == FACT_KEYS.keys()
