"""Pipeline: ETL runs, files with their counts, rejected records with reasons, source freshness."""

from __future__ import annotations

from typing import Any

import dash
import dash_mantine_components as dmc
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from dashboard.components.cards import fmt_count, kpi_card, kpi_grid, notice, section
from dashboard.components.charts import chart_texts, empty_figure, graph, styled
from dashboard.components.tables import data_table
from dashboard.data import DataSource, ScopedData
from dashboard.pages.base import Page
from dashboard.queries import pipeline as q
from dashboard.url_state import Filters
from etl.pulls.requests import request_run
from etl.pulls.status import failing


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
        *_pull_sources(data, filters),
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


def _pull_sources(data: ScopedData, filters: Filters) -> list:
    """For admins: a red notice per failing source, then every source with its schedule, last
    result and next run, and "Run now"."""
    if not data.allowed("pull-sources") or not data.settings.pulls:
        return []
    sources = q.pull_sources(data, filters)
    alarms = [failing(row) for row in sources.to_dicts()]
    run_now = dmc.Group(
        [
            dmc.Select(
                id="pipeline-run-source",
                data=sources["name"].to_list(),
                value=sources["name"][0],
                w=220,
                allowDeselect=False,
            ),
            dmc.Button("Run now", id="pipeline-run-now", variant="light"),
            dmc.Text(id="pipeline-run-said", c="dimmed", size="sm"),
        ],
        mt="sm",
    )
    table = dmc.Stack([data_table("pipeline-pull-sources", sources, height=220), run_now])
    return [
        *(notice("A pull source is failing", alarm, color="red") for alarm in alarms if alarm),
        section(
            "Pull sources",
            table,
            note="Run by `crowdmeter scheduler` (or `crowdmeter up`) on their schedules; "
            "Run now asks it for a run at once.",
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


def register(app: dash.Dash, source: DataSource) -> None:
    @app.callback(
        Output("pipeline-run-said", "children"),
        Input("pipeline-run-now", "n_clicks"),
        State("pipeline-run-source", "value"),
        prevent_initial_call=True,
    )
    def run_now(clicks: int | None, name: str | None) -> str:
        data = PAGE.data(source)
        data.ensure("pull-sources")
        if not clicks or not name:
            raise PreventUpdate
        try:
            request_run(data.settings, name)
        except KeyError as exc:
            return exc.args[0]
        return (
            f"Asked the scheduler to run {name}; this page shows the run once it has ended "
            "(reload). Nothing happens unless `crowdmeter scheduler` or `crowdmeter up` runs."
        )


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
        "pipeline-pull-sources": q.pull_sources,
    },
    register=register,
    description="runs, files, rejects, pull sources",
)
