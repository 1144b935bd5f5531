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
import numpy as np
import plotly.graph_objects as go
import polars as pl

from dashboard.components.cards import fmt_count, kpi_card, kpi_grid, section
from dashboard.components.charts import chart_texts, empty_figure, graph, styled
from dashboard.components.tables import data_table
from dashboard.data import ScopedData
from dashboard.pages.base import Page
from dashboard.queries import fairness as q
from dashboard.url_state import Filters
from metrics.catalog import (
    CATALOG,
    LABEL_BIAS_HELP,
    PAY_EQUITY_HELP,
    REVIEW_HELP,
    SMALL_GROUPS_HELP,
    WORKLOAD_HELP,
)
from metrics.fairness.pay_equity import GAP_THRESHOLD
from metrics.fairness.workload import WEEKLY_LIMIT_HOURS

TITLES = {
    "pay_equity": ("Pay equity", PAY_EQUITY_HELP),
    "review_fairness": ("Review fairness", REVIEW_HELP),
    "label_bias": ("Label bias", LABEL_BIAS_HELP),
    "workload": ("Workload and well-being", WORKLOAD_HELP),
}
SHARES = {"estimate", "ci_low", "ci_high"}
# the chart's disparities: data-subject groups against gold (the table has every measure)
RATIOS = ("selection_rate_ratio", "false_positive_rate_ratio", "false_negative_rate_ratio")
FAIR_BAND = (0.8, 1.25)


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
    chart, note = CHARTS[audit](data)
    return section(
        title,
        dmc.Stack(
            [graph(f"fairness-{audit}-chart", chart), data_table(f"fairness-{audit}", table)],
            gap="sm",
        ),  # fmt: skip
        help_key=help_id,
        note=note,
    )


def interval_figure(
    rows: pl.DataFrame, y_title: str, lines: tuple[float, ...] = (), height: int = 340
) -> go.Figure:
    """Bars of `estimate` per `label` (x) and `series` (colour) with their intervals; a
    suppressed category is named on the chart, never left out; dotted lines at `lines`."""
    if rows.is_empty():
        return empty_figure("No findings of this kind")
    labels = list(dict.fromkeys(rows["label"].to_list()))
    fig = go.Figure()
    for (series,), part in rows.partition_by("series", as_dict=True, maintain_order=True).items():
        value = part["estimate"].cast(pl.Float64).to_numpy()
        fig.add_bar(
            x=chart_texts(part["label"]),
            y=value,
            name=chart_texts([series])[0],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": np.nan_to_num(part["ci_high"].cast(pl.Float64).to_numpy() - value),
                "arrayminus": np.nan_to_num(value - part["ci_low"].cast(pl.Float64).to_numpy()),
                "thickness": 1,
            },
        )
    hidden = rows.group_by("label").agg((pl.col("flag") == "suppressed").all())
    for label in hidden.filter(pl.col("flag"))["label"].to_list():
        fig.add_annotation(x=chart_texts([label])[0], y=0, text="suppressed", showarrow=False,
                           yshift=12, font={"color": "#868e96"})  # fmt: skip
    for y in lines:
        fig.add_hline(y=y, line_dash="dot", line_color="#fa5252")
    fig = styled(fig, "", y_title, height=height)
    fig.update_xaxes(categoryorder="array", categoryarray=chart_texts(labels))
    fig.update_layout(barmode="group")
    return fig


def _labelled(rows: pl.DataFrame, series: pl.Expr, label: pl.Expr | None = None) -> pl.DataFrame:
    label = label if label is not None else pl.col("attribute") + ": " + pl.col("group")
    return rows.with_columns(label=label, series=series)


def pay_chart(data: ScopedData) -> tuple[go.Figure, str]:
    rows = q.levels(data, "pay_equity", ("median_gap", "mean_gap", "adjusted_gap"))
    titles = {m: CATALOG[m].title for m in ("median_gap", "mean_gap", "adjusted_gap")}
    rows = _labelled(rows, pl.col("measure").replace_strict(titles, default=pl.col("measure")))
    gap = GAP_THRESHOLD
    note = (
        "Pay gap of each group to its attribute's reference group: 1 - ratio of median and "
        f"mean effective wages, and the gap left after controls. Dotted: +/-{gap:.0%}, the EU "
        "pay transparency threshold. Bars: 95% worker-level bootstrap intervals."
    )
    return interval_figure(rows, "gap (share of the reference's wage)", (gap, -gap)), note


def review_chart(data: ScopedData) -> tuple[go.Figure, str]:
    rows = q.levels(data, "review_fairness", ("rejection_rate_gold_correct",))
    scope = pl.col("measure").str.split("@").list.get(1, null_on_oob=True)
    who = (
        pl.when(scope.is_null())
        .then(pl.lit("all reviewers"))
        .otherwise(scope.str.replace("reviewer=", ""))
    )
    note = (
        "Rejection rate of work whose gold answer was correct, by annotator group, over all "
        "reviewers and within each reviewer's reviews (at least 20 gold-correct reviews): "
        "a group rejected more for correct work is what reviewer bias looks like."
    )
    return interval_figure(_labelled(rows, who), "rejected share of gold-correct work"), note


def label_chart(data: ScopedData) -> tuple[go.Figure, str]:
    rows = q.findings(data).filter(pl.col("audit") == "label_bias")
    name = pl.col("measure").str.split("@").list.first()
    field = pl.col("measure").str.extract(r"field=([^,]+)")
    rows = rows.filter(name.is_in(list(RATIOS)))
    label = pl.col("attribute") + ": " + pl.col("group") + " / " + pl.col("reference")
    rows = _labelled(rows, name.str.replace("_ratio", "").str.replace_all("_", " "),
                     field + " · " + label)  # fmt: skip
    low, high = FAIR_BAND
    note = (
        "Disparities (Aequitas): each data-subject group's rate against gold over its "
        f"reference's. Dotted: the fair band {low} to {high}. The table adds label rates, "
        "and label distribution and agreement with the majority by annotator group."
    )
    return interval_figure(rows, "ratio to the reference group", FAIR_BAND, height=380), note


def workload_chart(data: ScopedData) -> tuple[go.Figure, str]:
    rows = q.levels(data, "workload", ("average_weekly_hours",))
    rows = _labelled(rows, pl.lit(CATALOG["average_weekly_hours"].title))
    note = (
        "Average hours a week per group (breaks of 15 minutes or more end a stretch), with "
        f"everyone's level. Dotted: {WEEKLY_LIMIT_HOURS:g} hours, the EU Working Time "
        "Directive's average week. The table adds weeks over 48 h, long stretches, night work "
        "and hours on sensitive task types."
    )
    return interval_figure(rows, "hours a week", (WEEKLY_LIMIT_HOURS,)), note


CHARTS = {
    "pay_equity": pay_chart,
    "review_fairness": review_chart,
    "label_bias": label_chart,
    "workload": workload_chart,
}

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
