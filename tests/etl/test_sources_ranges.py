"""Big CSV files are read in byte ranges that always end on a record boundary."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from etl.sources import csvfiles

FIELD = st.text(alphabet='ab,"\n x', max_size=12)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(FIELD, min_size=3, max_size=3), min_size=1, max_size=40),
       chunk=st.integers(min_value=1, max_value=400))  # fmt: skip
def test_ranges_split_only_between_records(tmp_path_factory, rows, chunk):
    """Quoted newlines and doubled quotes never fool the boundary search."""
    path = tmp_path_factory.mktemp("ranges") / "f.csv"
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([["a", "b", "c"], *rows])
    path.write_text(text.getvalue())
    data = path.read_bytes()
    header = len(data.split(b"\n", 1)[0]) + 1
    ranges = csvfiles.record_ranges(path, header, chunk)
    assert ranges[0][0] == header and ranges[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    records = []
    for start, end in ranges:
        records += list(csv.reader(io.StringIO(data[start:end].decode())))
    expected = list(csv.reader(io.StringIO(data[header:].decode())))
    assert records == expected
