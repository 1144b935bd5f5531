"""A simulated annotation workforce written as real platform exports, plus `truth.json` with
every effect planted in it, so metrics can be checked against known answers.

`simulate.workforce.simulate(out_dir, seed, scale, end_date)` writes one. This module stays
light (no NumPy) so that `crowdmeter simulate --help` can show the default end date cheaply.
"""

from __future__ import annotations

from datetime import date

DEFAULT_END_DATE = date(2025, 6, 30)
