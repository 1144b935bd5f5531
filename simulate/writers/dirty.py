"""A deliberately dirty MTurk batch: real rows with a few broken records whose rejects are known.

It goes to `dirty/`, which the demo leaves out; a test ingests it and compares the rejects with
the list in truth.json.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

ROWS = 40
# record number (1-based data row) -> (column, bad value, column the reject reason names)
DAMAGE = {
    3: ("SubmitTime", "sometime on Tuesday", "SubmitTime"),
    7: ("WorkerId", "", "WorkerId"),
    12: ("AssignmentStatus", "Paid", "AssignmentStatus"),
    18: ("Reward", "fifty cents", "Reward"),
    25: ("AcceptTime", "2025-13-45 99:00:00", "AcceptTime"),
}


def write_dirty(out: Path, clean_batch: Path) -> dict[str, Any]:
    """Copy the first rows of `clean_batch` with DAMAGE applied; return the expected rejects."""
    with clean_batch.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [row for _, row in zip(range(ROWS), reader, strict=False)]
    for record_no, (column, value, _) in DAMAGE.items():
        rows[record_no - 1][header.index(column)] = value
    path = out / "dirty" / "mturk" / "tweet-emotion_dirty_Batch_4930099_results.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return {
        "path": str(path.relative_to(out)),
        "format": "mturk",
        "rows": len(rows),
        "expected_rejects": [
            {"record_no": n, "column": names, "bad_value": value}
            for n, (_, value, names) in sorted(DAMAGE.items())
        ],
    }
