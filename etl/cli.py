"""The `crowdmeter` command line: global options, then one subcommand module per verb.

Each module in `etl/commands/` exposes `register(subparsers)`, which adds its parser and sets
`func=run`, where `run(args, settings) -> int` returns the exit code. Errors a user can fix are
raised as `UserError` and printed to stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from pathlib import Path
from typing import Any

from etl import commands
from etl.errors import UserError
from etl.settings import Settings, load_settings


def print_json(payload: Any) -> None:
    """Stable JSON on stdout: sorted keys, ISO dates, no NaN (NaN becomes null)."""
    print(json.dumps(_clean(payload), indent=2, sort_keys=True, default=str))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crowdmeter",
        description="Workforce and project analytics for data-annotation work.",
    )
    parser.add_argument("--config", type=Path, help="TOML settings file (default: config.toml)")
    parser.add_argument("--data-dir", type=Path, help="folder of the warehouse and snapshots")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"etl.commands.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings: Settings = load_settings(args.config, data_dir=args.data_dir)
        return int(args.func(args, settings) or 0)
    except UserError as exc:
        print(f"crowdmeter {args.command}: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"crowdmeter {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `crowdmeter quality --json | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
