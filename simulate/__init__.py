"""A simulated annotation workforce written as real platform exports, plus `truth.json` with
every effect planted in it, so metrics can be checked against known answers.

`simulate.workforce.simulate(out_dir, seed, scale, end_date)` writes one. This module stays
light (no NumPy) so that `crowdmeter simulate --help` can show the default end date cheaply.
"""

from __future__ import annotations

from datetime import date

DEFAULT_END_DATE = date(2025, 6, 30)
# Below this a workforce is too small to hold every planted effect (the freelancers who work on
# two platforms, the slipping project's leavers): the simulator refuses it.
MIN_SCALE = 0.1


def scale_problem(scale: float) -> str | None:
    """Why `scale` cannot be simulated, or None."""
    if scale < MIN_SCALE:
        return (
            f"--scale must be at least {MIN_SCALE} (got {scale}): a smaller workforce cannot "
            "hold every planted effect; 1 is the default size"
        )
    return None
