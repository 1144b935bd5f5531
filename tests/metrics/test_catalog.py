"""The catalog of metrics: every help id is a section of docs/METRICS.md, every coefficient of
the registry has a catalog entry, and the pages' help keys come from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from metrics.catalog import CATALOG, COEFFICIENTS, FAMILIES, LEVELS, ORDERED_COEFFICIENTS, Metric
from metrics.coefficients import REGISTRY

METRICS_DOC = Path(__file__).resolve().parents[2] / "docs" / "METRICS.md"
HEADING = re.compile(r"^#{2,4}\s+(.+?)\s*$")


def slug(title: str) -> str:
    # dashboard.components.metric_help.slug: how a page turns a heading into its help key
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def sections() -> dict[str, str]:
    """Heading slug -> the text under it up to the next heading."""
    found: dict[str, str] = {}
    current = None
    for line in METRICS_DOC.read_text().splitlines():
        match = HEADING.match(line)
        if match:
            current = slug(match.group(1))
            found[current] = ""
        elif current is not None:
            found[current] += line + "\n"
    return found


@pytest.mark.parametrize("metric", list(CATALOG.values()), ids=list(CATALOG))
def test_every_help_id_is_a_section_of_metrics_md_with_text(metric: Metric) -> None:
    docs = sections()
    assert metric.help_id in docs, f"{metric.name}: no heading '{metric.help_id}' in METRICS.md"
    assert docs[metric.help_id].strip(), f"{metric.name}: section '{metric.help_id}' is empty"


def test_every_metric_is_named_in_its_section_or_its_title_is() -> None:
    docs = sections()
    for metric in CATALOG.values():
        text = docs[metric.help_id].lower()
        assert metric.name in text or metric.title.lower() in text, metric.name


def test_registry_and_catalog_list_the_same_coefficients_in_order() -> None:
    assert tuple(REGISTRY) == COEFFICIENTS + ORDERED_COEFFICIENTS
    for name, definition in REGISTRY.items():
        assert CATALOG[name].family in FAMILIES, name
        assert definition.ordered_only == (name in ORDERED_COEFFICIENTS), name
        assert definition.compute.__doc__, f"{name} has no formula in its docstring"


def test_levels_and_headings() -> None:
    assert LEVELS == ("nominal", "ordinal", "interval", "ratio")
    assert CATALOG["percent_agreement"].heading == "Percent agreement"
    assert CATALOG["cohen_kappa"].heading == "Cohen's kappa (Conger)"


def test_the_pages_help_keys_are_catalog_help_ids() -> None:
    dashboard = Path(__file__).resolve().parents[2] / "dashboard"
    keys = {
        key
        for path in dashboard.rglob("*.py")
        for key in re.findall(r'help_key="([^"]+)"', path.read_text())
    }
    assert keys <= {metric.help_id for metric in CATALOG.values()}
