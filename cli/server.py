"""The dashboard under gunicorn: `crowdmeter serve` runs it, the dashboard benchmark too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication

if TYPE_CHECKING:
    from etl.settings import Settings


def serve_dashboard(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve the dashboard under gunicorn until interrupted (`serve` and `demo`)."""
    from dashboard.auth import session_secret

    # Created once here, before the workers fork, so every worker signs with the same secret.
    session_secret(settings)
    DashboardServer(settings, {"bind": f"{host}:{port}", "workers": workers}).run()


class DashboardServer(BaseApplication):
    """Gunicorn running `create_app(settings).server` in each worker (no preloading: DuckDB
    connections must be opened after the fork)."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = {
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 60,
            "accesslog": None,
            "errorlog": "-",
            "preload_app": False,
            # gunicorn 27 opens a control socket in ~/.gunicorn; two servers would share it
            "control_socket_disable": True,
            **options,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from dashboard.app import create_app

        return create_app(self.settings).server
