"""One module per `crowdmeter` command, listed in `cli.main.COMMANDS`.

Each exposes `register(subparsers)`, which adds its parser and sets `func=run`, where
`run(args, settings) -> int` returns the exit code. A command module imports only the standard
library and light project modules at the top; `run` imports what the command uses (DuckDB,
Polars, the dashboard...), so building the parser stays cheap.
"""
