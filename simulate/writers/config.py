"""The Crowdmeter config the simulated exports need: the repository's config.toml values plus
per-source zones, fees and attribute columns, and the Toggl mappings of the freelancers.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from etl.resources import DEFAULT_CONFIG

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def write_config(path: Path, **sections: dict[str, Any]) -> Path:
    """Write `path`: the repository defaults with the entries of `sections` (`sources`,
    `toggl`, `workers`...) merged into the tables of those names."""
    config = tomllib.loads(DEFAULT_CONFIG.read_text())
    for name, entries in sections.items():
        config.setdefault(name, {}).update(entries)
    header = (
        "# Crowdmeter settings for a simulated workforce, written by `crowdmeter simulate`.\n"
        "# The repository's config.toml documents every setting; this file adds the per-source\n"
        "# time zones, worker fees and attribute columns of the simulated exports, and how the\n"
        "# freelancers' Toggl entries map to platforms and to their platform ids, and the\n"
        "# freelancers' countries.\n"
    )
    path.write_text(header + "\n".join(_table([], config)) + "\n")
    return path


def _key(name: str) -> str:
    return name if BARE_KEY.match(name) else json.dumps(name)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, date):
        return value.isoformat()  # a TOML local date
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table(path: list[str], value: Any) -> bool:
    """Top-level sections and dicts of dicts or lists get a [section]; small maps stay inline."""
    if not isinstance(value, dict):
        return False
    nested = any(isinstance(v, dict | list) for v in value.values())
    return not path or nested or len(value) > 6


def _table(path: list[str], table: dict[str, Any]) -> list[str]:
    """Lines of one table: its plain keys under its header, then its sub-tables."""
    plain = [f"{_key(k)} = {_value(v)}" for k, v in table.items() if not _is_table(path, v)]
    lines = []
    if plain:
        if path:
            lines += ["", "[" + ".".join(_key(k) for k in path) + "]"]
        lines += plain
    for key, value in table.items():
        if _is_table(path, value):
            lines += _table([*path, key], value)
    return lines
