"""`crowdmeter users add|list|remove`: dashboard logins, their roles and what each may see."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli.output import print_json
from etl.errors import UserError

if TYPE_CHECKING:
    from etl.settings import Settings

PASSWORD_VARIABLE = "CROWDMETER_NEW_PASSWORD"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("users", help="manage dashboard logins")
    verbs = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = verbs.add_parser(
        "add",
        help="create a login",
        description=(
            "Create a dashboard login. The password comes from --password-file, else "
            f"{PASSWORD_VARIABLE}, else an interactive prompt."
        ),
    )
    add.add_argument("name", help="login name")
    add.add_argument("--role", required=True, choices=("admin", "manager", "freelancer", "auditor"))
    add.add_argument(
        "--worker",
        action="append",
        default=[],
        metavar="PLATFORM:ID",
        help="a freelancer's own id on a platform (stored only as its pseudonym); repeatable",
    )
    add.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="PLATFORM:PROJECT",
        help="a project a manager may see; repeatable",
    )
    add.add_argument("--password-file", type=Path, help="file whose first line is the password")
    add.add_argument("--replace", action="store_true", help="overwrite an existing login")
    listing = verbs.add_parser("list", help="show logins, roles and their links")
    listing.add_argument("--json", action="store_true", help="print JSON")
    remove = verbs.add_parser("remove", help="delete a login")
    remove.add_argument("name")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.users import UserStore, UserStoreError  # the dashboard is an optional layer

    store = UserStore(settings)
    try:
        if args.users_command == "add":
            return _add(store, args)
        if args.users_command == "remove":
            if not store.remove(args.name):
                raise UserError(
                    f"There is no login named {args.name!r}; see `crowdmeter users list`."
                )
            print(f"Removed login {args.name}.")
            return 0
        return _list(store, args.json)
    except UserStoreError as exc:
        raise UserError(str(exc)) from None


def _add(store, args: argparse.Namespace) -> int:
    workers = [_pair(value, "--worker", "PLATFORM:ID") for value in args.worker]
    projects = [_pair(value, "--project", "PLATFORM:PROJECT") for value in args.project]
    password = _password(args.password_file)
    user = store.add(args.name, args.role, password, workers, projects, replace=args.replace)
    links = len(user.workers) or len(user.projects)
    print(f"Saved login {user.name} ({user.role}" + (f", {links} link(s))." if links else ")."))
    return 0


def _list(store, as_json: bool) -> int:
    users = store.list()
    rows = [
        {
            "name": u.name,
            "role": u.role,
            "projects": u.project_keys,
            "worker_pseudonyms": list(u.workers),
            "worker_platforms": list(u.worker_platforms),
        }
        for u in users
    ]
    if as_json:
        print_json(rows)
    elif not rows:
        print("No logins yet. Add one: crowdmeter users add NAME --role admin")
    for row in [] if as_json else rows:
        # raw worker ids are never stored: the pseudonyms are what pages and exports show
        pseudonyms = ", ".join(row["worker_pseudonyms"])
        on = ", ".join(row["worker_platforms"])
        extra = ", ".join(row["projects"]) or (f"ids on {on} as {pseudonyms}" if pseudonyms else "")
        print(f"{row['name']:<24} {row['role']:<11} {extra}")
    return 0


def _pair(value: str, option: str, shape: str) -> tuple[str, str]:
    platform, sep, rest = value.partition(":")
    if not sep or not platform or not rest:
        raise UserError(f"{option} {value!r} is not {shape}; write it like mturk:A1B2C3D4.")
    return platform.strip().lower(), rest.strip()


def _password(path: Path | None) -> str:
    if path is not None:
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise UserError(f"Cannot read the password file {path}: {exc.strerror}.") from None
        if not lines or not lines[0]:
            raise UserError(f"The password file {path} is empty; put the password on line one.")
        return lines[0]
    if os.environ.get(PASSWORD_VARIABLE):
        return os.environ[PASSWORD_VARIABLE]
    if not sys.stdin.isatty():
        raise UserError(
            f"No password given. Pass --password-file, set {PASSWORD_VARIABLE}, or run in a "
            "terminal to be asked."
        )
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise UserError("The two passwords differ; run the command again.")
    return first
