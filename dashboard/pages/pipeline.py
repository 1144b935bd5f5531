"""Pipeline: ETL runs, files with their counts, rejected records with reasons, source freshness."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
import plotly.graph_objects as go
import polars as pl

from dashboard.components.cards import fmt_count, kpi_card, kpi_grid, section
from dashboard.components.charts import chart_texts, empty_figure, graph, styled
from dashboard.components.tables import data_table
from dashboard.data import ScopedData
from dashboard.pages.base import Page
from dashboard.queries import pipeline as q
from dashboard.url_state import Filters


def layout(data: ScopedData, filters: Filters) -> Any:
    runs = q.pipeline_runs(data, filters)
    reasons = q.reject_reasons(data, filters)
    freshness = q.source_freshness(data, filters)
    return [
        dmc.Stack(
            [
                dmc.Title("Pipeline", order=2),
                dmc.Text("Every load, file and rejected record behind the numbers.", c="dimmed"),
            ],
            gap=0,
            mb="md",
        ),
        kpi_grid(_cards(runs)),
        section(
            "Freshness by source",
            data_table("pipeline-freshness", freshness, shares={"reject_rate"}, height=220),
        ),
        section("Runs", data_table("pipeline-runs", runs, height=260)),
        section("Files", data_table("pipeline-files", q.pipeline_files(data, filters))),
        section(
            "Rejected records by reason",
            graph("pipeline-reasons", reasons_figure(reasons)),
            note="Records quarantined at import; the rest of each file still loaded.",
        ),
        section(
            "Rejected records",
            data_table("pipeline-rejects", q.pipeline_rejects(data, filters)),
            note=_rejects_note(data),
        ),
    ]


def _rejects_note(data: ScopedData) -> str:
    note = "Ids in the raw records are pseudonymised and e-mails and IPs masked."
    if data.scope_kind == "projects":
        note += " Only files that brought rows for your projects alone are listed here."
    return note


def _cards(runs: pl.DataFrame) -> list:
    if runs.is_empty():
        return [kpi_card("Runs", "0", "no loads match these filters")]
    last = runs.row(0, named=True)
    return [
        kpi_card("Runs", fmt_count(runs.height), f"last: #{last['run_id']} {last['status']}"),
        kpi_card("Files", fmt_count(runs["files"].sum()), f"{runs['failed_files'].sum()} failed"),
        kpi_card(
            "Rows read",
            fmt_count(runs["rows_read"].sum()),
            f"{fmt_count(runs['rows_inserted'].sum())} inserted",
        ),
        kpi_card("Rows rejected", fmt_count(runs["rows_rejected"].sum()), "quarantined"),
    ]


def reasons_figure(reasons: pl.DataFrame, top: int = 15) -> go.Figure:
    if reasons.is_empty():
        return empty_figure("No record was rejected")
    shown = reasons.head(top).reverse()
    fig = go.Figure(
        go.Bar(
            x=shown["records"].to_list(),
            y=chart_texts(_short(r) for r in shown["reason"].to_list()),
            orientation="h",
            hovertext=chart_texts(shown["reason"].to_list()),
            hovertemplate="%{hovertext}: %{x:,} records",
            name="",
        )
    )
    fig = styled(fig, "rejected records", "", height=max(200, 40 + 28 * shown.height))
    fig.update_layout(margin={"l": 320})
    return fig


def _short(reason: str, width: int = 48) -> str:
    return reason if len(reason) <= width else reason[: width - 1] + "…"


PAGE = Page(
    path="/pipeline",
    title="Pipeline",
    icon="⇄",
    action="pipeline",
    layout=layout,
    tables={
        "pipeline-freshness": q.source_freshness,
        "pipeline-runs": q.pipeline_runs,
        "pipeline-files": q.pipeline_files,
        "pipeline-rejects": q.all_rejects,
    },
    description="runs, files, rejects",
)
