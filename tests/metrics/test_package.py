"""The metrics package as a whole: its docstring examples hold, it imports nothing of the
project (no etl, dashboard, cli) and neither DuckDB nor Dash, and no module is oversized."""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "metrics"
# Dotted names under the package, subpackages included (`fairness.pay_equity`).
MODULES = sorted(
    ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
    for p in PACKAGE.rglob("*.py")
    if p.stem != "__init__"
)
FORBIDDEN = ("etl", "dashboard", "cli", "simulate", "bench", "tests", "duckdb", "dash")
# Modules whose docstrings hold no example (plain data or a thin recipe).
WITHOUT_EXAMPLES = {"currency", "fairpay", "ledger", "pay", "project_quality", "sessions",
                    "tracked_time"}  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(f"metrics.{name}")
    result = doctest.testmod(module)
    assert result.failed == 0, name
    assert result.attempted > 0 or name in WITHOUT_EXAMPLES, f"{name} has no runnable example"


def source(name: str) -> Path:
    return PACKAGE.joinpath(*name.split(".")).with_suffix(".py")


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("name", MODULES)
def test_metrics_imports_nothing_of_the_project(name: str) -> None:
    assert not imported_roots(source(name)) & set(FORBIDDEN), name


@pytest.mark.parametrize("name", MODULES)
def test_no_module_is_oversized(name: str) -> None:
    assert len(source(name).read_text().splitlines()) <= 410, name
