"""The shell's callbacks: page routing by access action, filters in the URL, CSV downloads.

Every callback here starts from the viewer in the signed session; the browser only says which
page, which filters and which table, never who is asking.

Routing is this module's rather than Dash Pages' (`register_page`): Dash keeps its page registry
in one module-level dict shared by every app of the process (the tests and `crowdmeter serve`
build one app per data directory), finds pages by importing every module of a folder, and hands
a layout the query string parsed into keyword arguments (a hostile key becomes an argument
name). Here one list of pages, one access check (`access.allowed(viewer, page.action)`) for the
navigation, the page area and the downloads, and filters parsed by `url_state` with its limits.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import dash
import duckdb
from dash import ALL, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate
from werkzeug.exceptions import Forbidden, NotFound

from dashboard import access
from dashboard.access import NotAllowed
from dashboard.auth import csrf_token, current_viewer
from dashboard.components.cards import notice
from dashboard.components.filters import (
    DATES,
    PLATFORMS,
    PROJECTS,
    controls_from_filters,
    date_bounds,
    filter_choices,
    with_control,
)
from dashboard.components.shell import nav_links
from dashboard.components.tables import csv_text
from dashboard.data import DataSource, ScopedData
from dashboard.pages.base import Page
from dashboard.queries.shell import ensure_no_small_complement, figures_behind, filter_options
from dashboard.url_state import Filters
from dashboard.users import User
from etl.reader import NoSnapshot, figures_lag

log = logging.getLogger(__name__)


def pages_for(pages: Sequence[Page], viewer: User) -> list[Page]:
    return [page for page in pages if access.allowed(viewer, page.action)]


def page_at(pages: Sequence[Page], pathname: str | None) -> Page | None:
    path = (pathname or "/").rstrip("/") or "/"
    return next((page for page in pages if page.path == path), None)


def render_page(page: Page, data: ScopedData, filters: Filters) -> Any:
    """The page's layout, or a plain notice when there is no data or the snapshot is too old."""
    if not data.has_snapshot:
        return no_data_notice()
    behind = None
    try:
        behind = figures_behind(data)
        ensure_no_small_complement(data, filters)
        # a page is the same for every viewer of one scope until the next snapshot
        layout = data.memo(
            f"page {page.path}", {"filters": filters}, lambda: page.layout(data, filters)
        )
    except NoSnapshot:
        return no_data_notice()
    except NotAllowed as exc:
        return notice("Not available for your role", str(exc), color="gray")
    except duckdb.CatalogException as exc:
        if behind is not None and figures_lag(behind):
            return figures_behind_notice(behind, first=True)
        log.warning("page %s needs a table the snapshot lacks: %s", page.path, exc)
        return notice(
            "This snapshot predates this page",
            "The published snapshot lacks a table this page reads. Publish a fresh snapshot "
            "with `crowdmeter ingest PATH...` (any new file) and reload.",
            color="orange",
        )
    if behind is None:
        return layout
    notices = [figures_behind_notice(behind)] if figures_lag(behind) else []
    if behind["lagging"]:
        notices.append(platforms_lag_notice(behind["lagging"], data))
    # Dash renders a flat list of components only: a nested list reaches React as raw objects
    return [*notices, *(layout if isinstance(layout, list) else [layout])]


def figures_behind_notice(behind: dict[str, Any], first: bool = False) -> Any:
    """Say that the newest run's rows are loaded and its figures are still being rebuilt."""
    if first or behind["figures_run"] is None:
        return notice(
            "Figures are being computed",
            f"Run {behind['data_run']} is loaded (the Pipeline page lists its files); the "
            "figures of this page are being computed from it. Reload in a minute or two.",
        )
    built = behind["figures_built_at"]
    return notice(
        "Figures are being updated",
        f"Run {behind['data_run']} is loaded; the figures below are still those built after "
        f"run {behind['figures_run']} ({built:%Y-%m-%d %H:%M} UTC). Reload in a minute or two "
        "for figures that include it; if this notice stays, the rebuild failed and the "
        "ingest's output says why.",
        color="yellow",
    )


def platforms_lag_notice(lagging: list[dict[str, Any]], data: ScopedData) -> Any:
    """Say which platforms' figures the last rebuild kept at an older build, and (to viewers
    of the pipeline) why: as plain text, never markup (the reason may quote the data)."""
    why = access.allowed(data.viewer, "pipeline")

    def line(row: dict[str, Any]) -> str:
        since = row["since_run"]
        kept = f"built after run {since}" if since is not None else "not built yet"
        return f"{row['platform']}: {kept}" + (
            f"; rebuilding them failed: {row['reason']}" if why else ""
        )

    return notice(
        "Some platforms' figures lag",
        [
            "Rebuilding the figures failed on these platforms' data, so theirs (and the "
            "figures across platforms) are still those of an earlier build; the other "
            "platforms' figures are current. `crowdmeter status` says why.",
            html.Ul([html.Li(line(row)) for row in lagging]),
        ],
        color="yellow",
    )


def no_data_notice() -> Any:
    return notice(
        "No data yet",
        dcc.Markdown(
            "Nothing has been published yet. Load some exports, then reload this page:\n\n"
            "```\ncrowdmeter ingest path/to/exports/\n```\n\n"
            "or try Crowdmeter on a simulated workforce with `crowdmeter demo`."
        ),
    )


def register_shell_callbacks(app: dash.Dash, source: DataSource, pages: Sequence[Page]) -> None:
    """Wire navigation, page rendering, URL filters and downloads."""

    @app.callback(
        Output("nav", "children"),
        Output("viewer-name", "children"),
        Output("viewer-role", "children"),
        Output(PLATFORMS, "data"),
        Output(PROJECTS, "data"),
        Output(DATES, "value"),
        Output(PLATFORMS, "value"),
        Output(PROJECTS, "value"),
        Output(DATES, "minDate"),
        Output(DATES, "maxDate"),
        Output(DATES, "defaultDate"),
        Output("logout-csrf", "value"),
        Input("url", "pathname"),
        Input("url", "search"),
    )
    def render_shell(pathname: str, search: str) -> tuple:
        # choices and values go out together: a select given a value missing from its
        # choices drops it, and would clear that filter from the URL
        viewer = current_viewer()
        data = source.for_viewer(viewer)
        platforms, projects, (first, last) = [], [], (None, None)
        filters = Filters.from_query(search)
        if data.has_snapshot:
            # the page area explains a missing table; the filters just stay empty
            with contextlib.suppress(duckdb.CatalogException, NoSnapshot):
                options = filter_options(data)
                platforms, projects = filter_choices(options, filters)
                first, last = date_bounds(options)
        links = nav_links(pages_for(pages, viewer), _path(pathname), search)
        values = controls_from_filters(filters)
        # the picker opens on the month of the newest work, never on an empty "today"
        picker = (first, last, last)
        return (
            links, viewer.name, viewer.role, platforms, projects, *values, *picker, csrf_token()
        )  # fmt: skip

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"))
    def route(pathname: str, search: str) -> Any:
        viewer = current_viewer()
        page = page_at(pages, pathname)
        if page is None:
            return notice("Page not found", f"There is no page at {pathname}.", color="gray")
        if not access.allowed(viewer, page.action):
            return notice(
                "Not available for your role",
                f"The {page.title} page is not open to the {viewer.role} role.",
                color="gray",
            )
        return render_page(page, source.for_viewer(viewer), Filters.from_query(search))

    @app.callback(
        Output("url", "search"),
        Input(DATES, "value"),
        Input(PLATFORMS, "value"),
        Input(PROJECTS, "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def filters_to_url(dates: Any, platforms: Any, projects: Any, search: str) -> str:
        current_viewer()
        if ctx.triggered_id is None or (dates and not all(dates)):
            raise PreventUpdate  # nothing chosen yet, or half a date range
        value = {DATES: dates, PLATFORMS: platforms, PROJECTS: projects}.get(ctx.triggered_id)
        query = with_control(Filters.from_query(search), ctx.triggered_id, value).to_query()
        if query == (search or ""):
            raise PreventUpdate
        return query

    @app.callback(
        Output("csv-download", "data"),
        Output("download-notice", "children"),
        Input({"type": "csv-button", "table": ALL}, "n_clicks"),
        State("url", "pathname"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def download_csv(clicks: list, pathname: str, search: str) -> tuple:
        if not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
            raise PreventUpdate
        page = page_at(pages, pathname)
        table = ctx.triggered_id.get("table")
        if page is None or table not in page.tables:
            raise NotFound("No such table on this page.")
        data = page.data(source)
        filters = Filters.from_query(search)
        try:
            ensure_no_small_complement(data, filters)
            frame = page.tables[table](data, filters)
        except NotAllowed as exc:
            raise Forbidden(str(exc)) from None
        except NoSnapshot:
            return dash.no_update, no_data_notice()
        except duckdb.CatalogException as exc:
            log.warning("download %s needs a table the snapshot lacks: %s", table, exc)
            return dash.no_update, notice(
                "This table cannot be downloaded yet",
                "The newest snapshot holds the loaded rows but not yet the figures this table "
                "is built from. Try again in a minute or two; if this stays, publish a fresh "
                "snapshot with `crowdmeter ingest PATH...`.",
                color="orange",
            )
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        return dcc.send_string(csv_text(frame), f"crowdmeter-{table}-{stamp}.csv"), None

    for page in pages:
        if page.register is not None:
            page.register(app, source)


def _path(pathname: str | None) -> str:
    return (pathname or "/").rstrip("/") or "/"
