"""`crowdmeter demo`: simulate a workforce, ingest it, publish, create logins and serve.

Everything lives in its own data folder (`data/demo` unless `--data-dir` says otherwise), so the
demo never mixes with real exports. A second start with the same seed and day reuses what is
there and serves at once.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cli.commands.serve import add_address_options
from etl.errors import UserError

if TYPE_CHECKING:
    from etl.settings import Settings

ROLES = ("admin", "manager", "freelancer", "auditor")
NOT_EXPORTS = {"truth.json", "config.toml"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "demo",
        help="simulate, ingest and serve a demo dashboard",
        description="Simulate a realistic annotation workforce, load it and serve the dashboard.",
    )
    add_address_options(parser)
    parser.add_argument("--seed", type=int, default=7, help="simulation seed")
    parser.add_argument("--scale", type=float, default=1.0, help="simulation size (1 = default)")
    parser.add_argument("--fresh", action="store_true", help="rebuild even if the demo exists")
    parser.add_argument(
        "--no-serve", action="store_true", help="build the demo data and logins, then exit"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.load import LoadOptions, ingest
    from etl.settings import load_settings
    from simulate import last_whole_day, scale_problem

    if problem := scale_problem(args.scale):
        raise UserError(problem)
    data_dir = settings.data_dir if args.data_dir else settings.data_dir / "demo"
    exports = data_dir / "exports"
    # the demo's work ends with the last whole day (UTC): none is dated after it was built
    recipe = {"seed": args.seed, "scale": args.scale, "end_date": last_whole_day().isoformat()}
    started = time.monotonic()
    if args.fresh or _recipe(data_dir) != recipe:
        _prepare_empty(data_dir)
        _simulate(exports, recipe)
    # The demo's settings travel with its data: every command given `--data-dir` reads them.
    shutil.copyfile(exports / "config.toml", data_dir / "config.toml")
    demo_settings = load_settings(data_dir=data_dir)
    if _recipe(data_dir) != recipe:
        options = LoadOptions(trigger="demo", progress=True)
        report = ingest(demo_settings, _export_files(exports), options)
        failed = [f for f in report.files if f.status == "failed" or f.rows_rejected]
        for f in failed:
            print(f"warning: {f.path}: {f.error or f'{f.rows_rejected} rejected'}", file=sys.stderr)
        logins = _create_logins(demo_settings, exports / "truth.json")
        _write_private(data_dir / "demo-logins.json", json.dumps(logins, indent=2))
        _write_private(data_dir / "demo.json", json.dumps(recipe))
    logins = json.loads((data_dir / "demo-logins.json").read_text())
    host = args.host or demo_settings.server.host
    port = args.port or demo_settings.server.port
    _print_welcome(host, port, logins, data_dir, time.monotonic() - started)
    if args.no_serve:
        return 0
    _serve_in_a_fresh_process(data_dir, host, port)
    return 0  # not reached: the process is now the server


def _serve_in_a_fresh_process(data_dir: Path, host: str, port: int) -> None:
    """Replace this process by `crowdmeter serve`. Ingesting started Polars' and DuckDB's thread
    pools here; gunicorn's forked workers would inherit pools without threads and hang on their
    first query. A fresh interpreter has none, and keeps this pid for Ctrl-C and SIGTERM."""
    argv = [sys.executable, "-m", "cli.main", "--data-dir", str(data_dir), "serve"]
    argv += ["--host", host, "--port", str(port), "--workers", "2"]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


def _recipe(data_dir: Path) -> dict | None:
    try:
        return json.loads((data_dir / "demo.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def _prepare_empty(data_dir: Path) -> None:
    """Start from an empty folder, refusing to wipe one that is not a demo folder."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / "demo.json").exists() and not (data_dir / "exports").exists():
            raise UserError(
                f"{data_dir} holds data that is not a Crowdmeter demo. Pass an empty folder with "
                "--data-dir, or remove that folder yourself."
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)


def _simulate(exports: Path, recipe: dict) -> None:
    from simulate.workforce import simulate

    print(f"Simulating a workforce (seed {recipe['seed']}, scale {recipe['scale']})...", flush=True)
    simulate(
        exports,
        seed=recipe["seed"],
        scale=recipe["scale"],
        end_date=date.fromisoformat(recipe["end_date"]),
    )


def _export_files(exports: Path) -> list[Path]:
    """The simulated platform exports: not the truth, the config or the deliberately dirty files."""
    return [
        p
        for p in sorted(exports.rglob("*"))
        if p.is_file() and p.name not in NOT_EXPORTS and "dirty" not in p.relative_to(exports).parts
    ]


def _create_logins(settings: Settings, truth_path: Path) -> dict[str, dict]:
    """One login per role with a fresh random password; the freelancer is linked to a simulated
    freelancer who works on several platforms, the manager to two projects."""
    from dashboard.users import UserStore

    truth = json.loads(truth_path.read_text())
    freelancer = truth["demo_freelancer"]
    workers = [(platform, raw_id) for platform, raw_id in sorted(freelancer["ids"].items())]
    projects = [(p["platform"], p["project_id"]) for p in truth["demo_manager_projects"]]
    store = UserStore(settings)
    links = {
        "admin": {},
        "manager": {"projects": projects},
        "freelancer": {"workers": workers},
        "auditor": {},
    }
    logins = {}
    for role in ROLES:
        name = f"demo-{role}"
        password = secrets.token_urlsafe(9)
        store.add(name, role, password, replace=True, **links[role])
        logins[role] = {"login": name, "password": password}
    return logins


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _print_welcome(host: str, port: int, logins: dict, data_dir: Path, seconds: float) -> None:
    print(f"\nCrowdmeter demo ready in {seconds:.0f}s: http://{host}:{port}/")
    print(f"data folder: {data_dir}  (simulated exports in {data_dir / 'exports'})")
    print("logins (also in demo-logins.json there):")
    for role, login in logins.items():
        print(f"  {role:<10} {login['login']:<18} password {login['password']}")
    print("commands to try on the demo's data (its settings are in its folder):")
    for command in ("status", "quality", "earnings", "ingest MORE_EXPORTS"):
        print(f"  crowdmeter --data-dir {data_dir} {command}")
    print(flush=True)
