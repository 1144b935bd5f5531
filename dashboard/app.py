"""The app factory: a Flask server with login and guard, the Dash shell, and the pages."""

from __future__ import annotations

import dash
import flask

from dashboard.auth import install_auth
from dashboard.components.shell import app_shell
from dashboard.data import DataSource
from dashboard.pages import PAGES
from dashboard.routing import register_shell_callbacks
from dashboard.security import install_security_headers
from dashboard.users import UserStore
from etl.settings import Settings


def create_app(settings: Settings) -> dash.Dash:
    """A Dash app reading `settings.data_dir`'s published snapshots, behind a login."""
    server = flask.Flask(__name__)
    install_auth(server, settings, UserStore(settings))
    app = dash.Dash(
        __name__,
        server=server,
        title="Crowdmeter",
        update_title=None,
        suppress_callback_exceptions=True,  # pages add their components after the first render
        serve_locally=True,
    )
    app.layout = app_shell()
    register_shell_callbacks(app, DataSource(settings), PAGES)
    _set_up_before_serving(app)
    install_security_headers(app, settings)
    return app


def _set_up_before_serving(app: dash.Dash) -> None:
    """Run Dash's one-time set-up (which registers the script bundles it may serve) now, not on
    the first request. Dash runs it lazily and marks it done before doing it, so under gunicorn's
    threaded workers a bundle request beside the first page load found no library registered
    and answered 500: the page stayed at "Loading..." (plotly/dash#3971)."""
    with app.server.test_request_context("/"):
        app._setup_server()
