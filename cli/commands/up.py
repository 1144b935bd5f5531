"""`crowdmeter up`: the scheduler and the dashboard together on one machine, stopped together.

Each runs in its own process (DESIGN.md: the scheduler is never inside web workers): this
command starts `crowdmeter scheduler` and `crowdmeter serve` with the same settings, passes
SIGTERM and Ctrl-C on to both, and if either ends on its own, stops the other.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

from etl.errors import UserError

if TYPE_CHECKING:
    from etl.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "up",
        help="run the scheduler and the dashboard together",
        description="Run `crowdmeter scheduler` and `crowdmeter serve` together until SIGTERM "
        "or Ctrl-C, which stops both cleanly.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.pulls:
        raise UserError(
            "config.toml names no [[pulls]] source, so there is nothing to schedule; add one "
            "(see its commented example) or run `crowdmeter serve` alone."
        )
    common = [sys.executable, "-m", "cli.main"]
    if args.config:
        common += ["--config", str(args.config)]
    if args.data_dir:
        common += ["--data-dir", str(args.data_dir)]
    children = [subprocess.Popen([*common, name]) for name in ("scheduler", "serve")]
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()
        for child in children:
            if child.poll() is None:
                child.terminate()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    print(f"Crowdmeter up: scheduler pid {children[0].pid}, dashboard pid {children[1].pid}")
    while not stopping.wait(0.5):
        if any(child.poll() is not None for child in children):
            stop()
    codes = [child.wait() for child in children]
    return 0 if all(code == 0 for code in codes) else 1
