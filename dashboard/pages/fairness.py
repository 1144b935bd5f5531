"""Fairness: the fairness audits for auditors and admins. The flagged findings first, then per
audit (pay equity, review fairness, label bias, workload) a chart with intervals and the table
of its findings, suppressed groups shown as suppressed; each with its definition behind '?'.

Every figure is read from `mart_fairness_findings` (etl/marts/fairness.py), computed at
publish over the whole warehouse; the page only lays it out.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import dash_mantine_components as dmc
import polars as pl

from dashboard.components.cards import fmt_count, kpi_card, kpi_grid, section
from dashboard.components.charts import graph
from dashboard.components.fairness_charts import CHARTS
from dashboard.components.tables import data_table
from dashboard.data import ScopedData
from dashboard.pages.base import Page
from dashboard.queries import fairness as q
from dashboard.url_state import Filters
from metrics.catalog import (
    LABEL_BIAS_HELP,
    PAY_EQUITY_HELP,
    REVIEW_HELP,
    SMALL_GROUPS_HELP,
    WORKLOAD_HELP,
)

TITLES = {
    "pay_equity": ("Pay equity", PAY_EQUITY_HELP),
    "review_fairness": ("Review fairness", REVIEW_HELP),
    "label_bias": ("Label bias", LABEL_BIAS_HELP),
    "workload": ("Workload and well-being", WORKLOAD_HELP),
}


def layout(data: ScopedData, filters: Filters) -> Any:
    everything = q.findings(data, filters)
    head = dmc.Stack(
        [
            dmc.Title("Fairness", order=2),
            dmc.Text(
                "Pay equity, review fairness, label bias and workload by group, with intervals, "
                "Holm-adjusted tests and flags. Computed at publish over the whole warehouse: "
                "the filters above do not apply.",
                c="dimmed",
            ),
        ],
        gap=0,
        mb="md",
    )
    if everything.is_empty():
        why = (
            "No worker or item in the warehouse has attributes to audit by: map export columns "
            "with worker_attributes and item_attributes, or ingest the workers template "
            "(docs/IMPORTING.md)."
        )
        return [head, section("No audit yet", dmc.Text(why), help_key=SMALL_GROUPS_HELP)]
    flagged = q.flagged(data, filters)
    return [
        head,
        kpi_grid(_cards(everything)),
        section(
            "Flagged findings",
            data_table("fairness-flagged", flagged, height=260)
            if flagged.height
            else dmc.Text("No finding trips a rule.", c="dimmed"),
            note="A flag needs its threshold crossed and a Holm-adjusted p-value under alpha. "
            "Each row's reason says what it is in one line.",
        ),
        *[_audit_section(data, filters, audit) for audit in q.AUDITS],
    ]


def _cards(rows: pl.DataFrame) -> list:
    flag = pl.col("flag")
    flagged = rows.filter(flag.is_not_null() & (flag != "suppressed")).height
    suppressed = rows.filter(flag == "suppressed").height
    return [
        kpi_card("Findings", fmt_count(rows.height), "one per group and measure"),
        kpi_card("Flagged", fmt_count(flagged), "a rule tripped, p_adj < alpha"),
        kpi_card(
            "Suppressed",
            fmt_count(suppressed),
            "small groups and their complement",
            help_key=SMALL_GROUPS_HELP,
        ),  # fmt: skip
        kpi_card("Attributes", fmt_count(rows["attribute"].n_unique()), "audited"),
    ]


def _audit_section(data: ScopedData, filters: Filters, audit: str) -> Any:
    title, help_id = TITLES[audit]
    table = q.audit_findings(data, filters, audit)
    chart, note = CHARTS[audit](q.findings(data, filters))
    return section(
        title,
        dmc.Stack(
            [graph(f"fairness-{audit}-chart", chart), data_table(f"fairness-{audit}", table)],
            gap="sm",
        ),  # fmt: skip
        help_key=help_id,
        note=note,
    )


PAGE = Page(
    path="/fairness",
    title="Fairness",
    icon="⚖",
    action="fairness-groups",
    layout=layout,
    tables={
        "fairness-flagged": q.flagged,
        **{f"fairness-{a}": partial(q.audit_findings, audit=a) for a in q.AUDITS},
    },
    description="pay equity, reviews, labels, workload",
)
