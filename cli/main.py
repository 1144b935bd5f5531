"""The `crowdmeter` command line: global options, then one subcommand module per verb.

The commands are listed in `COMMANDS`, in the order `--help` shows them. Errors a user can fix
are raised as `UserError` and printed to stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cli.commands import (
    agreement,
    alerts,
    audit,
    consensus,
    demo,
    earnings,
    forecast,
    ingest,
    pull,
    quality,
    report,
    scheduler,
    serve,
    simulate,
    status,
    up,
    users,
)
from etl.errors import UserError

COMMANDS = (
    agreement,
    alerts,
    audit,
    consensus,
    demo,
    earnings,
    forecast,
    ingest,
    pull,
    quality,
    report,
    scheduler,
    serve,
    simulate,
    status,
    up,
    users,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crowdmeter",
        description="Workforce and project analytics for data-annotation work.",
    )
    parser.add_argument("--config", type=Path, help="TOML settings file (default: config.toml)")
    parser.add_argument("--data-dir", type=Path, help="folder of the warehouse and snapshots")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        from etl.settings import load_settings  # pydantic: not needed for --help

        settings = load_settings(args.config, data_dir=args.data_dir)
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
