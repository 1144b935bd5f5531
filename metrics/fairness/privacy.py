"""Small groups suppressed: shown as such, never dropped, and never recoverable by subtraction.

A group with fewer than `min_group_size` units behind it keeps its rows with the figures blanked
(`estimate`, interval, p-values and `n` null, flag "suppressed"). Suppressing one group alone would
not hide it: its count and sum are the total minus the other groups'. So, within one attribute of
one audit (and one scope of a measure, such as one reviewer), while fewer than two groups are
suppressed, or the suppressed ones together have fewer than `min_group_size` units, one more
group is suppressed too (complementary suppression, as statistical offices do for tables with
margins): "not stated" first, else the smallest, the reference group last. When the reference
group is suppressed, every comparison with it is too (a ratio times the group's level would
give the reference's level back).

>>> rows = [Finding("workload", "age", g, None, "night_share", 0.2, 0.1, 0.3, None, None, n,
...                 None, "") for g, n in [("a", 3), ("b", 6), ("c", 9)]]
>>> [(f.group, f.flag) for f in suppress_small_groups(rows, min_group_size=5)]
[('a', 'suppressed'), ('b', 'suppressed'), ('c', None)]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace

from metrics.fairness.findings import (
    ALL_GROUPS,
    NOT_STATED,
    AuditSettings,
    Finding,
    holm_within,
    measure_scope,
)

SUPPRESSED = "suppressed"


def suppressed_groups(
    sizes: dict[str, int], min_group_size: int, reference: str | None = None
) -> set[str]:
    """The groups to suppress among `sizes` (units per group): the small ones, and then, until
    at least two are suppressed with `min_group_size` units between them, a complement: first
    "not stated" (it holds no stated answer, so hiding it costs the audit least), then the
    smallest other group; the `reference` only when no other group is left (every comparison
    is with it, so hiding it hides them all).

    >>> sorted(suppressed_groups({"a": 2, "b": 2, "c": 40, "d": 9}, 5))
    ['a', 'b', 'd']
    >>> sorted(suppressed_groups({"a": 2, "b": 2, "c": 40, "d": 9, NOT_STATED: 12}, 5))
    ['a', 'b', 'not stated']
    >>> sorted(suppressed_groups({"a": 2, "c": 40, "d": 50}, 5, reference="c"))
    ['a', 'd']
    >>> suppressed_groups({"a": 7, "b": 9}, 5)
    set()
    """
    chosen = {g for g, n in sizes.items() if n < min_group_size}
    rest = sorted(
        ((g == reference, g != NOT_STATED, n, g) for g, n in sizes.items() if g not in chosen),
        reverse=True,
    )
    while chosen and rest and (len(chosen) < 2 or sum(sizes[g] for g in chosen) < min_group_size):
        chosen.add(rest.pop()[3])
    return chosen


def suppress_small_groups(findings: Sequence[Finding], min_group_size: int) -> list[Finding]:
    """`findings` with small groups suppressed (see the module docstring), within each audit,
    attribute and measure scope; a group's size is the largest `n` of its rows there. Rows
    describing everyone (group `ALL_GROUPS`) are totals, never suppressed: that is why the
    complement is."""
    sizes: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    references: dict[tuple[str, str, str], str] = {}
    for f in findings:
        if f.group != ALL_GROUPS:
            key = (f.audit, f.attribute, measure_scope(f.measure))
            sizes[key][f.group] = max(sizes[key].get(f.group, 0), f.n or 0)
            if f.reference is not None:
                references[key] = f.reference
    hidden = {
        key: suppressed_groups(s, min_group_size, references.get(key)) for key, s in sizes.items()
    }
    out = []
    for f in findings:
        key = (f.audit, f.attribute, measure_scope(f.measure))
        gone = hidden.get(key, set())
        if f.group in gone:
            small = sizes[key][f.group] < min_group_size
            why = f"fewer than {min_group_size} in this group" if small else (
                "hidden with a smaller group, so that neither can be found by subtraction"
            )  # fmt: skip
            f = suppressed(f, why)
        elif f.reference in gone:
            f = suppressed(f, f"its reference group '{f.reference}' is suppressed")
        out.append(f)
    return out


def published(
    findings: Sequence[Finding],
    settings: AuditSettings,
    explain: Callable[[Finding, float], Finding],
    adjusted: Sequence[Finding] = (),
) -> list[Finding]:
    """Findings as an audit publishes them: p-values Holm-adjusted within their families (but
    those of `adjusted`, whose family is not their groups and which the audit adjusted
    itself), each flagged and explained by `explain(finding, alpha)`, small groups suppressed."""
    explained = [explain(f, settings.alpha) for f in [*holm_within(findings), *adjusted]]
    return suppress_small_groups(explained, settings.min_group_size)


def suppressed(f: Finding, why: str) -> Finding:
    """`f` with its figures blanked and `why` said."""
    return replace(
        f,
        estimate=None,
        ci_low=None,
        ci_high=None,
        p_value=None,
        p_adjusted=None,
        n=None,
        flag=SUPPRESSED,
        reason=f"suppressed: {why}",
    )
