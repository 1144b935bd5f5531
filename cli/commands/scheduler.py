"""`crowdmeter scheduler`: run the `[[pulls]]` sources on their schedules until stopped."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import TYPE_CHECKING

from etl.errors import UserError

if TYPE_CHECKING:
    from etl.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "scheduler",
        help="run the pull sources on their schedules",
        description="Run every [[pulls]] source of config.toml once now, then on its schedule, "
        "one at a time; logs are JSON lines on stderr. SIGTERM or Ctrl-C stops it after the "
        "run in progress.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.pulls.logs import log_as_json_lines
    from etl.pulls.scheduler import PullScheduler

    if not settings.pulls:
        raise UserError("config.toml names no [[pulls]] source; see its commented example.")
    log_as_json_lines()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    PullScheduler(settings).run_until(stop)
    return 0
