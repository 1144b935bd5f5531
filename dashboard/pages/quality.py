"""Quality: agreement by project, field and week with intervals, annotator agreement, gold
accuracy and rejection per annotator, confusion matrices and disagreement hot spots.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
import dash_mantine_components as dmc
import numpy as np
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from dashboard.components.cards import kpi_card, kpi_grid, notice, section
from dashboard.components.charts import empty_figure, graph, styled
from dashboard.components.tables import data_table
from dashboard.data import DataSource, Filters, ScopedData
from dashboard.pages.base import Page
from metrics.agreement import agreement_by, agreement_report, pairwise_agreement, unit_agreement
from metrics.quality import confusion_matrix, wilson_interval

FAMILIES = {
    "percent_agreement": "raw",
    "cohen_kappa": "chance-corrected",
    "scott_pi": "chance-corrected",
    "fleiss_kappa": "chance-corrected",
    "krippendorff_alpha": "chance-corrected",
    "gwet_ac1": "prevalence-robust",
    "brennan_prediger": "prevalence-robust",
}
WEEKLY = ("percent_agreement", "fleiss_kappa", "gwet_ac1")
MATRIX_CODERS = 25  # the busiest annotators shown in the pairwise matrix
HOT_SPOTS = 500
ROLES = frozenset({"admin", "manager", "auditor"})


def layout(data: ScopedData, filters: Filters) -> Any:
    fields = data.project_fields(filters).filter(~pl.col("has_regions"))
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
    if fields.is_empty():
        return [head, notice("No labelled answers here", "No categorical answers in this view.")]
    choices = [
        {"value": _key(r), "label": f"{r['platform']} · {r['project_id']} · {r['field']}"}
        for r in fields.iter_rows(named=True)
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
            data_table(
                "quality-projects",
                project_outcomes(data, filters),
                shares={
                    "gold_accuracy",
                    "gold_ci_low",
                    "gold_ci_high",
                    "rejection_rate",
                    "rejection_ci_low",
                    "rejection_ci_high",
                },
            ),
            help_key="quality",
            note="Wilson 95% intervals. Gold accuracy: right gold answers / gold answered; "
            "rejection rate: rejected / reviewed.",
        ),
        dmc.Paper(picker, p="sm", withBorder=True, radius="md", mt="md"),
        dmc.Box(field_detail(data, filters, focus), id="quality-detail"),
    ]


def _key(row: dict) -> str:
    # the separator cannot occur in platform names; the field takes whatever follows
    return f"{row['platform']}\x1f{row['project_id']}\x1f{row['field']}"


def _split(key: str) -> tuple[str, str, str] | None:
    parts = (key or "").split("\x1f", 2)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None


def project_outcomes(data: ScopedData, filters: Filters) -> pl.DataFrame:
    """Gold accuracy and rejection rate per project with Wilson intervals."""
    where = data.scope(filters)
    frame = data.frame(
        "SELECT platform, project_id, count(DISTINCT worker_id)::BIGINT AS workers, "
        "sum(gold_answered)::BIGINT AS gold_answered, sum(gold_correct)::BIGINT AS gold_correct, "
        "sum(reviewed)::BIGINT AS reviewed, sum(rejected)::BIGINT AS rejected "
        f"FROM mart_activity_daily {where.sql} GROUP BY ALL ORDER BY platform, project_id",
        where.params,
    )
    return data.suppress_small_groups(_with_rates(frame))


def _with_rates(frame: pl.DataFrame) -> pl.DataFrame:
    out = frame
    for name, hits, trials in [
        ("gold", "gold_correct", "gold_answered"),
        ("rejection", "rejected", "reviewed"),
    ]:
        low, high = wilson_interval(frame[hits].to_numpy(), frame[trials].to_numpy())
        rate = "gold_accuracy" if name == "gold" else "rejection_rate"
        out = out.with_columns(
            pl.when(pl.col(trials) > 0).then(pl.col(hits) / pl.col(trials)).alias(rate),
            pl.Series(f"{name}_ci_low", low).fill_nan(None),
            pl.Series(f"{name}_ci_high", high).fill_nan(None),
        )
    return out


def field_detail(data: ScopedData, filters: Filters, key: str) -> Any:
    """Everything about one project's field: coefficients, weeks, annotators, confusion."""
    picked = _split(key)
    if picked is None:
        return notice("Pick a field", "Choose a project and field above.")
    answers = data.field_answers(*picked, filters)
    if answers.is_empty():
        return notice("No answers", "This field has no answers in the chosen dates.")
    options = _agreement_options(data)
    key = {"field": picked, "filters": filters}
    report = data.memo(
        "agreement",
        key,
        lambda: agreement_report(answers.select("unit", "coder", "value"), **options),
    )
    weeks = data.memo("weekly", key, lambda: weekly_table(answers, options))
    parts = [
        kpi_grid(_coefficient_cards(report)),
        section(
            "Agreement coefficients side by side",
            data_table("quality-coefficients", coefficient_table(report), height=300),
            help_key="coefficients",
            note=f"{report.n_units:,} units, {report.n_pairable_values:,} pairable ratings "
            f"by {report.n_coders:,} annotators; {int(100 * options['confidence'])}% "
            f"bootstrap intervals over units ({options['bootstrap_samples']} resamples).",
        ),
        section(
            "Agreement by week",
            graph("quality-weekly", weekly_figure(weeks)),
            help_key="coefficients",
        ),
        section(
            "Confusion matrix",
            graph("quality-confusion", confusion_figure(answers)),
            note="Rows: the gold answer; columns: the answer given (gold units only).",
        ),
    ]
    if not data.aggregated_only:
        parts.append(
            section(
                "Pairwise annotator agreement",
                graph(
                    "quality-pairwise", data.memo("pairwise", key, lambda: pairwise_figure(answers))
                ),
                note=f"Cohen's kappa between the {MATRIX_CODERS} busiest annotators "
                "over the units both labelled.",
            )
        )
        parts.append(
            section(
                "Annotators: gold accuracy and rejection",
                data_table(
                    "quality-annotators",
                    annotator_table(data, filters, picked),
                    shares={
                        "gold_accuracy",
                        "gold_ci_low",
                        "gold_ci_high",
                        "rejection_rate",
                        "rejection_ci_low",
                        "rejection_ci_high",
                    },
                ),
            )
        )
    parts.append(
        section(
            "Disagreement hot spots",
            data_table("quality-hotspots", data.memo("hot_spots", key, lambda: hot_spots(answers))),
            note="Units with the least agreement first; download the table to "
            "send them for adjudication.",
        )
    )
    return parts


def _agreement_options(data: ScopedData) -> dict[str, Any]:
    a = data.settings.agreement
    return {"bootstrap_samples": a.bootstrap_samples, "confidence": a.confidence, "seed": a.seed}


def _coefficient_cards(report) -> list:
    def card(name: str, label: str) -> Any:
        coef = report.coefficients.get(name)
        if coef is None or coef.value is None:
            reason = coef.undefined_reason if coef else "not computed"
            return kpi_card(label, "undefined", reason or "", help_key="coefficients")
        interval = f"{coef.ci_low:.2f} to {coef.ci_high:.2f}" if coef.ci_low is not None else ""
        return kpi_card(label, f"{coef.value:.3f}", interval, help_key="coefficients")

    return [
        card("percent_agreement", "Percent agreement"),
        card("krippendorff_alpha", "Krippendorff's alpha"),
        card("fleiss_kappa", "Fleiss' kappa"),
        card("gwet_ac1", "Gwet's AC1"),
    ]


def coefficient_table(report) -> pl.DataFrame:
    rows = [
        {
            "coefficient": name,
            "family": FAMILIES.get(name, ""),
            "value": coef.value,
            "ci_low": coef.ci_low,
            "ci_high": coef.ci_high,
            "undefined_reason": coef.undefined_reason,
        }
        for name, coef in report.coefficients.items()
    ]
    return pl.DataFrame(
        rows,
        schema={
            "coefficient": pl.String,
            "family": pl.String,
            "value": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "undefined_reason": pl.String,
        },
    )


def weekly_table(answers: pl.DataFrame, options: dict[str, Any]) -> pl.DataFrame:
    return agreement_by(
        answers.select("unit", "coder", "value", "week"), ["week"], coefficients=WEEKLY, **options
    ).sort("week")


def weekly_figure(weeks: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    for name in WEEKLY:
        rows = weeks.filter(pl.col("coefficient") == name)
        value = rows["value"].to_numpy().astype(float)
        fig.add_scatter(
            x=rows["week"].to_list(),
            y=value,
            name=name.replace("_", " "),
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


def confusion_figure(answers: pl.DataFrame) -> go.Figure:
    matrix = confusion_matrix(answers.filter(pl.col("gold").is_not_null()))
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
            x=labels,
            y=labels,
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


def pairwise_figure(answers: pl.DataFrame) -> go.Figure:
    busiest = (
        answers.group_by("coder")
        .len()
        .sort(["len", "coder"], descending=[True, False])
        .head(MATRIX_CODERS)["coder"]
        .to_list()
    )
    pairs = pairwise_agreement(answers.filter(pl.col("coder").is_in(busiest)))
    names = sorted(busiest)
    index = {c: i for i, c in enumerate(names)}
    z = np.full((len(names), len(names)), np.nan)
    for row in pairs.iter_rows(named=True):
        i, j = index[row["coder_a"]], index[row["coder_b"]]
        z[i, j] = z[j, i] = row["cohen_kappa"] if row["cohen_kappa"] is not None else np.nan
    short = [c[:10] for c in names]
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


def annotator_table(
    data: ScopedData, filters: Filters, picked: tuple[str, str, str]
) -> pl.DataFrame:
    outcomes = data.annotator_outcomes(filters).filter(
        (pl.col("platform") == picked[0]) & (pl.col("project_id") == picked[1])
    )
    return _with_rates(outcomes)


def hot_spots(answers: pl.DataFrame) -> pl.DataFrame:
    """Units with the least agreement, with each answer's count and the majority answer."""
    per_unit = unit_agreement(answers.select("unit", "coder", "value"))
    counts = (
        answers.group_by("unit", "value")
        .len()
        .sort(["unit", "len", "value"], descending=[False, True, False])
        .group_by("unit", maintain_order=True)
        .agg(
            majority=pl.col("value").first(),
            answers=pl.format("{}×{}", pl.col("value"), pl.col("len")).str.join(", "),
        )
    )
    return (
        per_unit.join(counts, on="unit", how="left")
        .sort(["agreement", "n_ratings", "unit"], descending=[False, True, False])
        .head(HOT_SPOTS)
    )


def _detail_table(builder):
    """A download builder for the field in focus (the URL's, else the most answered one)."""

    def build(data: ScopedData, filters: Filters) -> pl.DataFrame:
        picked = _split(filters.focus)
        if picked is None:
            fields = data.project_fields(filters).filter(~pl.col("has_regions"))
            picked = _split(_key(fields.row(0, named=True))) if fields.height else None
        return builder(data, filters, picked) if picked else pl.DataFrame()

    return build


def register(app: dash.Dash, source: DataSource) -> None:
    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input("quality-field", "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def focus_field(key: str, search: str) -> str:
        PAGE.data(source)  # only viewers who may open the page
        current = Filters.from_query(search)
        if not isinstance(key, str) or key == current.focus:
            raise PreventUpdate
        return replace(current, focus=key).to_query()


PAGE = Page(
    path="/quality",
    title="Quality",
    icon="✓",
    roles=ROLES,
    layout=layout,
    tables={
        "quality-projects": project_outcomes,
        "quality-coefficients": _detail_table(
            lambda d, f, p: coefficient_table(
                agreement_report(
                    d.field_answers(*p, f).select("unit", "coder", "value"), **_agreement_options(d)
                )
            )
        ),
        "quality-annotators": _detail_table(annotator_table),
        "quality-hotspots": _detail_table(lambda d, f, p: hot_spots(d.field_answers(*p, f))),
    },
    register=register,
    description="agreement, gold, confusion",
)
