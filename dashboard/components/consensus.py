"""The Quality page's 'Download consensus labels (CSV)': a download button of the shell's CSV
machinery (the server rebuilds the rows for the viewer), for viewers who may have them."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc

from dashboard.components.cards import section
from dashboard.data import ScopedData
from dashboard.url_state import FieldKey

CONSENSUS_TABLE = "quality-consensus"


def consensus_download(data: ScopedData, field: FieldKey) -> list[Any]:
    """The consensus-label section of a field, or nothing for viewers who may not have it."""
    if not data.allowed("consensus-labels"):
        return []
    command = (
        f"crowdmeter consensus --project {field.platform}:{field.project_id} "
        f"--field {field.field} --method dawid-skene"
    )
    button = dmc.Button(
        "Download consensus labels (CSV)",
        id={"type": "csv-button", "table": CONSENSUS_TABLE},
        variant="light",
        size="xs",
    )
    note = dmc.Text(
        ["For Dawid-Skene or another tie rule: ", dmc.Code(command)], size="xs", c="dimmed"
    )
    return [
        section(
            "Consensus labels",
            dmc.Stack([button, note], gap=6, align="flex-start"),
            help_key="consensus-labels",
            note="One row per unit of this field over its whole period: the majority label, "
            "its share of the unit's ratings (confidence) and the number of ratings; a tied "
            "unit has no label.",
        )
    ]
