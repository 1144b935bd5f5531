"""HTML pages outside Dash (the login page, the reports) from Jinja2 templates in
`dashboard/templates/`, every value escaped unless a template says otherwise."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

TEMPLATES = Environment(
    loader=PackageLoader("dashboard", "templates"),
    autoescape=True,
    undefined=StrictUndefined,  # a value a template names and the code forgot is an error
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **context: Any) -> str:
    """The template `template` (a file name in dashboard/templates/) filled with `context`."""
    return TEMPLATES.get_template(template).render(**context)
