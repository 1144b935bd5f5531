"""Small groups are suppressed, kept as rows, and cannot be recovered by subtraction from the
totals shown beside them."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from metrics.fairness.findings import ALL_GROUPS, AuditSettings, Finding
from metrics.fairness.pay_equity import pay_equity
from metrics.fairness.privacy import suppress_small_groups, suppressed_groups

MIN = 5


def level(group: str, n: int, estimate: float = 10.0, measure="mean_wage") -> Finding:
    return Finding("pay_equity", "age", group, None, measure, estimate, 9.0, 11.0, None, None, n,
                   None, "")  # fmt: skip


@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=2), st.integers(1, 30),
                       min_size=1, max_size=8))  # fmt: skip
def test_suppression_leaves_no_single_small_group_to_subtract(sizes: dict[str, int]) -> None:
    hidden = suppressed_groups(sizes, MIN)
    assert {g for g, n in sizes.items() if n < MIN} <= hidden
    if hidden and hidden != set(sizes):
        # what subtraction from the total recovers is the suppressed groups together: at least
        # two groups, with enough members between them to be published themselves
        assert len(hidden) >= 2 and sum(sizes[g] for g in hidden) >= MIN


def test_one_small_group_takes_the_next_smallest_with_it():
    rows = [level("a", 3), level("b", 40), level("c", 7), level("d", 12)]
    out = suppress_small_groups(rows, MIN)
    assert [f.flag for f in out] == ["suppressed", None, "suppressed", None]
    assert [f.group for f in out] == ["a", "b", "c", "d"]  # kept, never dropped
    assert all(f.estimate is None and f.n is None and f.ci_low is None
               for f in out if f.flag)  # fmt: skip


def test_comparisons_with_a_suppressed_reference_are_suppressed():
    ratio = Finding("pay_equity", "age", "b", "a", "mean_ratio", 0.9, 0.8, 1.0, 0.1, 0.1, 40,
                    None, "")  # fmt: skip
    out = suppress_small_groups([level("a", 2), level("b", 40), level("c", 3), ratio], MIN)
    assert out[3].flag == "suppressed" and out[3].estimate is None


def test_totals_are_never_suppressed_so_the_complement_is():
    out = suppress_small_groups([level(ALL_GROUPS, 60), level("a", 4), level("b", 56)], MIN)
    assert [f.flag for f in out] == [None, "suppressed", "suppressed"]


def test_a_small_group_of_workers_cannot_be_recovered_from_pay_findings():
    rng = np.random.default_rng(0)
    sizes = {"a": 3, "b": 30, "c": 8, "d": 20}
    group = [g for g, n in sizes.items() for _ in range(n)]
    ids = [f"w{i}" for i in range(len(group))]
    cells = pl.DataFrame({"worker_id": ids, "earnings": rng.uniform(5, 20, len(ids)),
                          "hours": [1.0] * len(ids)})  # fmt: skip
    people = pl.DataFrame({"worker_id": ids, "age": group})
    found = pay_equity(cells, people, "age", settings=AuditSettings(50, 50))
    shown = {f.group: f.n for f in found if f.measure == "mean_wage"}
    assert shown == {"a": None, "b": 30, "c": None, "d": 20}
    # total workers minus the visible groups gives a and c together, never a alone
    assert len(ids) - sum(n for n in shown.values() if n) == sizes["a"] + sizes["c"] >= MIN
    assert {f.flag for f in found if f.group in "ac"} == {"suppressed"}


def test_the_reason_says_why_a_group_is_suppressed():
    ratio = Finding("pay_equity", "age", "c", "a", "mean_ratio", 0.9, 0.8, 1.0, 0.1, 0.1, 40,
                    None, "")  # fmt: skip
    out = suppress_small_groups([level("a", 3), level("b", 7), level("c", 40), ratio], MIN)
    assert out[0].reason == "suppressed: fewer than 5 in this group"
    assert "neither can be found by subtraction" in out[1].reason
    assert out[3].reason == "suppressed: its reference group 'a' is suppressed"
