"""The Fairness charts, from a frame of findings (`mart_fairness_findings`): each group's
estimate with its interval, suppressed groups named on the chart; shared by the Fairness page
and the fairness report. Each chart function returns the figure and the note that explains it.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl

from dashboard.components.charts import chart_texts, empty_figure, styled
from metrics.catalog import CATALOG
from metrics.fairness.pay_equity import GAP_THRESHOLD
from metrics.fairness.workload import WEEKLY_LIMIT_HOURS

# the label chart's disparities: data-subject groups against gold (tables have every measure)
RATIOS = ("selection_rate_ratio", "false_positive_rate_ratio", "false_negative_rate_ratio")
FAIR_BAND = (0.8, 1.25)


def levels(findings: pl.DataFrame, audit: str, measures: tuple[str, ...]) -> pl.DataFrame:
    """Findings of `audit` on `measures` (whatever their scope), suppressed ones included."""
    name = pl.col("measure").str.split("@").list.first()
    return findings.filter((pl.col("audit") == audit) & name.is_in(list(measures)))


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


def pay_chart(findings: pl.DataFrame) -> tuple[go.Figure, str]:
    rows = levels(findings, "pay_equity", ("median_gap", "mean_gap", "adjusted_gap"))
    titles = {m: CATALOG[m].title for m in ("median_gap", "mean_gap", "adjusted_gap")}
    rows = _labelled(rows, pl.col("measure").replace_strict(titles, default=pl.col("measure")))
    gap = GAP_THRESHOLD
    note = (
        "Pay gap of each group to its attribute's reference group: 1 - ratio of median and "
        f"mean effective wages, and the gap left after controls. Dotted: +/-{gap:.0%}, the EU "
        "pay transparency threshold. Bars: 95% worker-level bootstrap intervals."
    )
    return interval_figure(rows, "gap (share of the reference's wage)", (gap, -gap)), note


def review_chart(findings: pl.DataFrame) -> tuple[go.Figure, str]:
    rows = levels(findings, "review_fairness", ("rejection_rate_gold_correct",))
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


def label_chart(findings: pl.DataFrame) -> tuple[go.Figure, str]:
    rows = findings.filter(pl.col("audit") == "label_bias")
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


def workload_chart(findings: pl.DataFrame) -> tuple[go.Figure, str]:
    rows = levels(findings, "workload", ("average_weekly_hours",))
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
