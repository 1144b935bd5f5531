"""Quality: agreement by project, field and week with intervals, annotator agreement, gold
accuracy and rejection per annotator, confusion matrices and disagreement hot spots.

Every figure is read from the quality marts published with the snapshot (etl/marts/quality.py);
the page only sums and formats them, so it answers in the same time at any warehouse size.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_mantine_components as dmc
import numpy as np
import plotly.graph_objects as go
import polars as pl

from dashboard.components.cards import kpi_card, kpi_grid, notice, section
from dashboard.components.charts import chart_texts, empty_figure, figure_heading, graph, styled
from dashboard.components.consensus import CONSENSUS_TABLE, consensus_download
from dashboard.components.tables import data_table
from dashboard.data import DataSource, ScopedData
from dashboard.pages.base import Page, keep_focus_in_url
from dashboard.queries import quality as q
from dashboard.queries.consensus import consensus_table
from dashboard.url_state import FieldKey, Filters
from metrics.catalog import CATALOG

RATE_COLUMNS = {
    "gold_accuracy",
    "gold_ci_low",
    "gold_ci_high",
    "rejection_rate",
    "rejection_ci_low",
    "rejection_ci_high",
}


def layout(data: ScopedData, filters: Filters) -> Any:
    fields = q.quality_fields(data, filters)
    head = dmc.Stack(
        [
            dmc.Title("Quality", order=2),
            dmc.Text(
                "Agreement between annotators, accuracy on gold, review outcomes.", c="dimmed"
            ),
        ],
        gap=0,
        mb="md",
    )
    regions = _region_sections(data, filters)
    if fields.is_empty():
        empty = notice("No labelled answers here", "No categorical answers in this view.")
        return [head, empty, *regions]
    choices = [
        {
            "value": q.field_key(row).to_focus(),
            "label": f"{row['platform']} · {row['project_id']} · {row['field']}",
        }
        for row in fields.iter_rows(named=True)
    ]
    keys = [c["value"] for c in choices]
    focus = filters.focus if filters.focus in keys else keys[0]
    picker = dmc.Select(
        id="quality-field",
        label="Project and field",
        data=choices,
        value=focus,
        searchable=True,
        allowDeselect=False,
        w=480,
    )
    return [
        head,
        section(
            "Gold accuracy and review rejection by project",
            data_table("quality-projects", q.project_outcomes(data, filters), shares=RATE_COLUMNS),
            help_key="quality",
            note="Wilson 95% intervals. Gold accuracy: right gold answers / gold answered; "
            "rejection rate: rejected / reviewed.",
        ),
        dmc.Paper(picker, p="sm", withBorder=True, radius="md", mt="md"),
        dmc.Box(field_detail(data, filters, FieldKey.from_focus(focus)), id="quality-detail"),
        *regions,
    ]


def _region_sections(data: ScopedData, filters: Filters) -> list:
    """Span and box agreement of the fields with regions, when the view has any."""
    table = q.region_fields(data, filters)
    if table.is_empty():
        return []
    return [
        section(
            "Span and box agreement",
            data_table("quality-regions", table, height=260),
            help_key=CATALOG["region_agreement"].help_id,
            note="Pairwise F1 between annotators over the units two or more of them worked on "
            "(regions matched one-to-one at the overlap thresholds), whole period, with "
            "bootstrap intervals over units; a warning marks fields too small to read alone.",
        )
    ]


def field_detail(data: ScopedData, filters: Filters, field: FieldKey | None) -> Any:
    """Everything about one project's field: coefficients, weeks, annotators, confusion."""
    info = q.field_info(data, field) if field else None
    if field is None or info is None:
        return notice("Pick a field", "Choose a project and field above.")
    coefficients = q.coefficient_table(data, filters, field)
    warning = coefficients["warning"].drop_nulls().first() if coefficients.height else None
    caution = [notice("Small sample", _small_sample_text(warning), "yellow")] if warning else []
    parts = [
        *caution,
        kpi_grid(_coefficient_cards(coefficients, info)),
        section(
            "Agreement coefficients side by side",
            data_table("quality-coefficients", coefficients, height=300),
            help_key="coefficients",
            note=_coefficients_note(info, coefficients, filters),
        ),
        section(
            "Agreement by week",
            graph("quality-weekly", weekly_figure(q.field_weekly_agreement(data, field, filters))),
            help_key="coefficients",
            note="Units by the week of their first rating; bars: bootstrap intervals.",
        ),
    ]
    if q.field_suppressed(data, field, filters):
        parts.append(notice("Too few annotators", _suppressed_text(data), color="gray"))
        return parts
    parts.append(
        section(
            "Confusion matrix",
            graph("quality-confusion", confusion_figure(q.field_confusion(data, field, filters))),
            note="Rows: the gold answer; columns: the answer given (gold units only).",
        )
    )
    if data.allowed("per-worker-rows"):
        parts += _per_annotator_sections(data, filters, field)
    parts.append(
        section(
            "Disagreement hot spots",
            data_table("quality-hotspots", q.field_hot_spots(data, field, filters)),
            note="Units with the least agreement first (share of agreeing rating pairs); "
            "majority empty on a tie. Download the table to send them for adjudication.",
        )
    )
    return parts + consensus_download(data, field)


def _per_annotator_sections(data: ScopedData, filters: Filters, field: FieldKey) -> list:
    pairs = q.field_pairs(data, field)
    shown = len(set(pairs["coder_a"].to_list()) | set(pairs["coder_b"].to_list()))
    return [
        section(
            "Pairwise annotator agreement",
            graph("quality-pairwise", pairwise_figure(pairs)),
            note=f"Cohen's kappa between the {shown} busiest annotators of the whole period, "
            "over the units both labelled.",
        ),
        section(
            "Annotators: gold accuracy, rejection and agreement with the others",
            data_table(
                "quality-annotators",
                q.annotator_table(data, filters, field),
                shares=RATE_COLUMNS | {"consensus_agreement"},
            ),
            note="Wilson 95% intervals. Consensus agreement: share of a worker's answers equal "
            "to the majority of the other answers on the unit (units where the others tie "
            "are left out).",
        ),
    ]


def _coefficients_note(info: dict, coefficients: pl.DataFrame, filters: Filters) -> str:
    pairable = coefficients["n_pairable_values"].max() if coefficients.height else 0
    note = (
        f"Whole period ({info['first_week']} to the week of {info['last_week']}): "
        f"{info['units']:,} units, {pairable or 0:,} pairable ratings by {info['coders']:,} "
        f"annotators; {int(100 * info['confidence'])}% bootstrap intervals over units "
        f"({info['bootstrap_samples']:,} resamples)."
    )
    note += f" {_level_text(info)}"
    if filters.start or filters.end:
        note += " The date range applies to the weekly chart and the tables below, in whole weeks."
    return note


def _level_text(info: dict) -> str:
    """The field's level of measurement and where it comes from."""
    level = info.get("level") or "nominal"
    if info.get("level_note"):
        source = info["level_note"]
    elif info.get("level_source") == "configured":
        source = "as [agreement] levels sets it"
    else:
        source = "inferred from the answers (set [agreement] levels to change it)"
    return f"Level of measurement: {level}, {source}."


def _small_sample_text(warning: str) -> str:
    return (
        f"{warning[:1].upper()}{warning[1:]}. Coefficients this small swing widely (a kappa "
        "can fall below -1 when chance agreement is high); read them with their intervals."
    )


def _suppressed_text(data: ScopedData) -> str:
    return (
        f"Fewer than {data.min_group_size} annotators are behind these figures in the chosen "
        "weeks, so they are not shown. Widen the date range."
    )


def _coefficient_cards(table: pl.DataFrame, info: dict) -> list:
    rows = {row["coefficient"]: row for row in table.iter_rows(named=True)}

    def card(name: str, label: str) -> Any:
        row = rows.get(name)
        if row is None or row["value"] is None:
            reason = row["undefined_reason"] if row else "not computed"
            return kpi_card(label, "undefined", reason or "", help_key="coefficients")
        low, high = row["ci_low"], row["ci_high"]
        interval = f"{low:.2f} to {high:.2f}" if low is not None else ""
        if row["warning"]:  # never a bare number: the value says it is on a small sample
            interval = f"⚠ {row['warning']}" + (f"; {interval}" if interval else "")
            return kpi_card(label, f"{row['value']:.3f} ⚠", interval, help_key="coefficients")
        return kpi_card(label, f"{row['value']:.3f}", interval, help_key="coefficients")

    shown = ("percent_agreement", "krippendorff_alpha", "fleiss_kappa", "gwet_ac1")
    level = info.get("level") or "nominal"
    labels = {"krippendorff_alpha": f"{CATALOG['krippendorff_alpha'].heading} ({level})"}
    return [card(name, labels.get(name, CATALOG[name].heading)) for name in shown]


def weekly_figure(weeks: pl.DataFrame) -> go.Figure:
    if weeks.is_empty():
        return empty_figure("No weeks with agreement figures in this range")
    fig = go.Figure()
    for name in sorted(set(weeks["coefficient"].to_list()), key=lambda c: q.ORDER.get(c, 99)):
        rows = weeks.filter(pl.col("coefficient") == name).sort("week")
        value = rows["value"].to_numpy().astype(float)
        fig.add_scatter(
            x=rows["week"].to_list(),
            y=value,
            name=figure_heading(name),
            mode="lines+markers",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": rows["ci_high"].to_numpy().astype(float) - value,
                "arrayminus": value - rows["ci_low"].to_numpy().astype(float),
                "thickness": 1,
            },
        )
    fig = styled(fig, "week starting (UTC)", "coefficient (1 = perfect agreement)")
    fig.update_yaxes(rangemode="normal")
    return fig


def confusion_figure(matrix: pl.DataFrame) -> go.Figure:
    if matrix.is_empty():
        return empty_figure("No gold answers for this field")
    labels = sorted(set(matrix["true"].to_list()) | set(matrix["observed"].to_list()))
    index = {label: i for i, label in enumerate(labels)}
    z = np.zeros((len(labels), len(labels)))
    for row in matrix.iter_rows(named=True):
        z[index[row["true"]], index[row["observed"]]] = row["count"]
    share = z / np.maximum(z.sum(axis=1, keepdims=True), 1)
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=chart_texts(labels),
            y=chart_texts(labels),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            customdata=z,
            colorbar={"title": "share of row"},
            hovertemplate="gold %{y}, answered %{x}: %{customdata:,.0f} (%{z:.1%})<extra></extra>",
        )
    )
    fig = styled(fig, "answer given", "gold answer", height=360)
    fig.update_yaxes(autorange="reversed", rangemode="normal")
    return fig


def pairwise_figure(pairs: pl.DataFrame) -> go.Figure:
    if pairs.is_empty():
        return empty_figure("No two annotators labelled the same units")
    names = sorted(set(pairs["coder_a"].to_list()) | set(pairs["coder_b"].to_list()))
    index = {c: i for i, c in enumerate(names)}
    z = np.full((len(names), len(names)), np.nan)
    for row in pairs.iter_rows(named=True):
        i, j = index[row["coder_a"]], index[row["coder_b"]]
        z[i, j] = z[j, i] = row["cohen_kappa"] if row["cohen_kappa"] is not None else np.nan
    short = chart_texts(c[:10] for c in names)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=short,
            y=short,
            colorscale="RdBu",
            zmin=-1,
            zmax=1,
            colorbar={"title": "Cohen's κ"},
            hovertemplate="%{y} × %{x}: κ = %{z:.2f}<extra></extra>",
        )
    )
    fig = styled(fig, "annotator (pseudonym)", "annotator (pseudonym)", height=460)
    fig.update_yaxes(autorange="reversed", rangemode="normal")
    return fig


def register(app: dash.Dash, source: DataSource) -> None:
    def to_focus(key: Any) -> str | None:
        return key if isinstance(key, str) else None

    keep_focus_in_url(app, source, PAGE, "quality-field", to_focus)


PAGE = Page(
    path="/quality",
    title="Quality",
    icon="✓",
    action="quality",
    layout=layout,
    tables={
        "quality-projects": q.project_outcomes,
        "quality-coefficients": q.detail_table(q.coefficient_table),
        "quality-annotators": q.detail_table(q.annotator_table),
        "quality-hotspots": q.detail_table(lambda d, f, field: q.field_hot_spots(d, field, f)),
        "quality-regions": q.region_fields,
        CONSENSUS_TABLE: q.detail_table(consensus_table),
    },
    register=register,
    description="agreement, gold, confusion",
)
