"""The `platforms` dimension: what kind of source each platform is, its currency and worker fee."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from etl.settings import Settings

# Display name and kind of the platforms Crowdmeter knows; others are added as marketplaces.
KNOWN: dict[str, tuple[str, str]] = {
    "mturk": ("Amazon Mechanical Turk", "marketplace"),
    "toloka": ("Toloka", "marketplace"),
    "appen": ("Appen (Figure Eight)", "marketplace"),
    "prolific": ("Prolific", "marketplace"),
    "clickworker": ("Clickworker", "marketplace"),
    "dataannotation": ("DataAnnotation.tech", "marketplace"),
    "outlier": ("Outlier", "marketplace"),
    "mindrift": ("Mindrift", "marketplace"),
    "alignerr": ("Alignerr", "marketplace"),
    "telus": ("TELUS International", "marketplace"),
    "upwork": ("Upwork", "marketplace"),
    "labelstudio": ("Label Studio", "tool"),
    "prodigy": ("Prodigy", "tool"),
    "labelbox": ("Labelbox", "tool"),
    "doccano": ("doccano", "tool"),
    "cvat": ("CVAT", "tool"),
    "toggl": ("Toggl Track", "tracker"),
    "asana": ("Asana", "tracker"),
    "jira": ("Jira", "tracker"),
}


def register_platforms(
    con: duckdb.DuckDBPyConnection, settings: Settings, platforms: Iterable[str]
) -> None:
    """Add missing platforms and keep currency and fee in step with settings."""
    for platform in sorted(set(platforms)):
        name, kind = KNOWN.get(platform, (platform, "marketplace"))
        source = settings.source(platform)
        con.execute(
            """
            INSERT INTO platforms (platform, name, kind, default_currency, worker_fee_rate)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (platform) DO UPDATE SET
                default_currency = excluded.default_currency,
                worker_fee_rate = excluded.worker_fee_rate
            """,
            [platform, name, kind, source.currency, source.worker_fee_rate],
        )
