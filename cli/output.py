"""What commands print for scripts: stable JSON on stdout."""

from __future__ import annotations

import json
from typing import Any


def print_json(payload: Any) -> None:
    """Stable JSON on stdout: sorted keys, ISO dates, no NaN (NaN becomes null)."""
    print(json.dumps(_clean(payload), indent=2, sort_keys=True, default=str))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
