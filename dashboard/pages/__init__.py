"""The app's pages in navigation order; add a page by adding its module's PAGE here."""

from __future__ import annotations

from dashboard.pages import earnings, fairness, overview, pipeline, projects, quality
from dashboard.pages.base import Page

PAGES: list[Page] = [
    overview.PAGE,
    quality.PAGE,
    earnings.PAGE,
    projects.PAGE,
    fairness.PAGE,
    pipeline.PAGE,
]
