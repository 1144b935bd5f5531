"""`crowdmeter serve`: the dashboard under gunicorn, several workers reading published snapshots."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from etl.errors import UserError

if TYPE_CHECKING:
    from etl.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve",
        help="serve the dashboard",
        description="Serve the dashboard with gunicorn; each worker reads the newest snapshot.",
    )
    add_address_options(parser)
    parser.add_argument("--workers", type=int, help="worker processes (default: settings, 3)")
    parser.set_defaults(func=run)


def add_address_options(parser: argparse.ArgumentParser) -> None:
    """--host and --port of the dashboard, shared with `demo`."""
    parser.add_argument("--host", help="address to listen on (default: settings, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: settings, 8050)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cli.server import serve_dashboard
    from dashboard.users import UserStore

    host = args.host or settings.server.host
    port = args.port or settings.server.port
    workers = args.workers or settings.server.workers
    if workers < 1:
        raise UserError("--workers must be at least 1.")
    if not UserStore(settings).list():
        print(
            "No logins yet: nobody can log in. Add one first, for example\n"
            "  crowdmeter users add admin --role admin"
        )
    if not settings.snapshots_dir.joinpath("CURRENT").exists():
        print("No published snapshot yet: pages will say how to load data (crowdmeter ingest).")
    print(f"Crowdmeter dashboard on http://{host}:{port}/ with {workers} workers (Ctrl-C stops).")
    serve_dashboard(settings, host, port, workers)
    return 0
