"""The Quality page's consensus-label download: one row per unit of the field in focus, as
`etl.consensus` computes them for `crowdmeter consensus --project P --field F` (its defaults:
majority vote, ties left without a label, the agreement seed), over the field's whole period.
"""

from __future__ import annotations

import polars as pl

from dashboard.data import ScopedData
from dashboard.url_state import FieldKey, Filters
from etl.consensus import FieldChoice, field_consensus


def consensus_table(data: ScopedData, filters: Filters, field: FieldKey) -> pl.DataFrame:
    """The consensus labels of one field: platform, project_id, field, unit, label, confidence,
    n_ratings. Only for viewers who may have per-unit labels, of the projects in their scope.

    Whole period whatever the date range: a unit's label rests on all its ratings. The answers
    are read past the query cache (a field's answers can be millions of rows); the labels are
    kept once per snapshot and scope.
    """
    data.ensure("consensus-labels")
    keys = None if data.scope_kind == "all" else data.viewer.project_keys
    choice = FieldChoice(keys, field.platform, field.project_id, field.field)
    seed = data.settings.agreement.seed
    return data.memo(
        "consensus labels",
        {"field": field.to_focus()},
        lambda: field_consensus(data.reader.frame, choice, seed=seed),
    )
