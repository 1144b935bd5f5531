"""A simulated annotation workforce written as real platform exports, plus `truth.json` with
every effect planted in it, so metrics can be checked against known answers.

`simulate.workforce.simulate(out_dir, seed, scale, end_date)` writes one. This module stays
light (no NumPy) so that `crowdmeter simulate --help` can show the default end date cheaply.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

DEFAULT_END_DATE = date(2025, 6, 30)
# Below this a workforce is too small to hold every planted effect (the freelancers who work on
# two platforms, the slipping project's leavers): the simulator refuses it.
MIN_SCALE = 0.1


def last_whole_day(now: datetime | None = None) -> date:
    """The newest day (UTC) that is over at `now` (default: this moment): a simulation ending
    on it holds no work dated after the moment it was made."""
    moment = now.astimezone(UTC) if now is not None else datetime.now(UTC)
    return moment.date() - timedelta(days=1)


def end_date_problem(end_date: date, now: datetime | None = None) -> str | None:
    """Why a simulation cannot end on `end_date`, or None: its last day simulates work until
    midnight UTC, so a day not yet over would hold work dated in the future."""
    newest = last_whole_day(now)
    if end_date > newest:
        return (
            f"--end-date {end_date.isoformat()} is not over yet (UTC), so its simulated work "
            f"would be dated after now; pass {newest.isoformat()} or an earlier day"
        )
    return None


def scale_problem(scale: float) -> str | None:
    """Why `scale` cannot be simulated, or None."""
    if scale < MIN_SCALE:
        return (
            f"--scale must be at least {MIN_SCALE} (got {scale}): a smaller workforce cannot "
            "hold every planted effect; 1 is the default size"
        )
    return None
