"""The Fairness page's tables: the findings of the fairness audits (`mart_fairness_findings`,
computed at publish over the whole warehouse), for viewers of the action `fairness-groups`.

A finding is a group's figure, never a worker's; the one name of a person it may carry is a
reviewer's (`...@reviewer=<pseudonym>`), which viewers without `per-worker-rows` see as
"reviewer 1", "reviewer 2"... (numbered in the pseudonyms' order, the same on every page view
of one snapshot).
"""

from __future__ import annotations

import polars as pl

from dashboard.data import ScopedData
from dashboard.url_state import Filters
from metrics.fairness.findings import SCHEMA

AUDITS = ("pay_equity", "review_fairness", "label_bias", "workload")
SHOWN = ["flag", "attribute", "group", "reference", "measure", "estimate", "ci_low", "ci_high",
         "p_adjusted", "n", "reason"]  # fmt: skip
REVIEWER = r"@reviewer=(w_[0-9a-f]+)"


def findings(data: ScopedData, filters: Filters | None = None) -> pl.DataFrame:
    """Every finding, flagged first and suppressed last, reviewers named as the viewer may see
    them. The audits cover the whole warehouse: the page's filters do not apply."""
    data.ensure("fairness-groups")
    if not data.has_table("mart_fairness_findings"):
        return pl.DataFrame(schema=SCHEMA)
    frame = data.frame(
        "SELECT * FROM mart_fairness_findings ORDER BY flag IS NULL, flag = 'suppressed', "
        'audit, attribute, measure, "group"'
    )
    return frame if data.allowed("per-worker-rows") else _numbered_reviewers(frame)


def audit_findings(data: ScopedData, filters: Filters | None, audit: str) -> pl.DataFrame:
    """The findings of one audit, in the columns the page shows."""
    return findings(data, filters).filter(pl.col("audit") == audit).select(SHOWN)


def flagged(data: ScopedData, filters: Filters | None = None) -> pl.DataFrame:
    """The findings that trip a rule (suppressed ones are not flags)."""
    rows = findings(data, filters)
    return rows.filter(pl.col("flag").is_not_null() & (pl.col("flag") != "suppressed")).select(
        "audit", *SHOWN
    )


def _numbered_reviewers(frame: pl.DataFrame) -> pl.DataFrame:
    pseudonyms = sorted(set(frame["measure"].str.extract(REVIEWER).drop_nulls().to_list()))
    if not pseudonyms:
        return frame
    names = {p: f"reviewer {i}" for i, p in enumerate(pseudonyms, start=1)}
    texts = ("measure", "reason")
    for pseudonym, name in names.items():
        frame = frame.with_columns(pl.col(c).str.replace_all(pseudonym, name, literal=True)
                                   for c in texts)  # fmt: skip
    return frame
