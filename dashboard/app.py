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
    install_security_headers(app, settings)
    return app
