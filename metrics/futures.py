"""The random futures of the Monte Carlo forecast, drawn once and shared by every project.

A future is a sequence of days; each day takes the units of one day of the project's history,
picked at random with replacement from the future's own bootstrap replicate of that history
(docs/METRICS.md, "Monte Carlo forecast"). The picks are positions in the history (day 0 to
n - 1 of the window), not units, so every project whose window has `n` days can use the same
picks: `Futures(n, runs, rng)` draws them once, in blocks of `BLOCK_DAYS` days for all runs,
and `days_needed` reads each project's units through them. What a project gets depends only on
the seed, `n`, `runs` and its own history, never on which other projects share the draws, so a
project forecast alone and among others comes out the same.

>>> futures = Futures(1, runs=2, rng=np.random.default_rng(1))
>>> days_needed(np.array([10.0]), np.array([0.0, 25.0, 30.0]), futures)
array([[0., 3., 3.],
       [0., 3., 3.]])
"""

from __future__ import annotations

import numpy as np

MAX_DAYS = 3650  # futures that have not finished in ten years never finish
BLOCK_DAYS = 16  # days drawn at a time: most futures end within a few blocks of each other


class Futures:
    """Picks of history positions for `runs` futures of histories `size` days long, drawn
    from `rng` in blocks of `BLOCK_DAYS` days as the slowest project needs them.

    `rate_uncertainty`: each future first draws its own bootstrap replicate of the history (as
    many days, with replacement) and picks its days from that; without it, days are picked
    from the history itself (plain resampling, which is too narrow: docs/METRICS.md).
    """

    def __init__(
        self, size: int, runs: int, rng: np.random.Generator, rate_uncertainty: bool = True
    ) -> None:
        self.size, self.runs, self.rng = size, runs, rng
        self.rate_uncertainty = rate_uncertainty
        # positions fit in one byte for windows up to 256 days: a quarter of the memory
        self.dtype = np.uint8 if size <= 2**8 else np.uint16 if size <= 2**16 else np.int32
        # numpy draws bounded int32 about 3 times faster than uint8
        self.draw_type = np.int32 if size * runs < 2**31 else np.int64
        self._replicates: np.ndarray | None = None  # drawn before the first block
        self.blocks: list[np.ndarray] = []

    def replicates(self) -> np.ndarray | None:
        """Each future's own replicate of the history as positions, shape (size, runs): day j
        of future r at [j, r]; None without `rate_uncertainty`. Drawn on first use, before
        any block."""
        if self.rate_uncertainty and self._replicates is None:
            self._replicates = self._draw(self.size).astype(self.dtype)
        return self._replicates

    def block(self, number: int) -> np.ndarray:
        """Block `number` (0 first): history positions, shape (BLOCK_DAYS, runs): a day's picks
        for every future are one contiguous row."""
        replicates = self.replicates()
        futures = np.arange(self.runs, dtype=self.draw_type)
        while len(self.blocks) <= number:
            picks = self._draw(BLOCK_DAYS)
            if replicates is None:
                self.blocks.append(picks.astype(self.dtype))
                continue
            picks *= self.runs
            picks += futures  # the flat position [pick, future] in the replicates
            self.blocks.append(np.take(replicates, picks))
        return self.blocks[number]

    def _draw(self, days: int) -> np.ndarray:
        return self.rng.integers(0, self.size, (days, self.runs), dtype=self.draw_type)


def days_needed(
    history: np.ndarray, targets: np.ndarray, futures: Futures, max_days: int = MAX_DAYS
) -> np.ndarray:
    """Simulated days needed to reach each target, shape (runs, len(targets)), float.

    Day 1 is the first simulated day; a target of 0 or less takes 0 days; a future that has
    not reached a target after `max_days` days has `inf` there. `history` has `futures.size`
    days. The futures that have reached the largest target stop once they are half of those
    still computed.
    """
    targets = np.asarray(targets, dtype=np.float64)
    runs = futures.runs
    needed = np.where(targets <= 0, 0.0, np.inf)[:, None].repeat(runs, axis=1)
    history = np.asarray(history)
    if history.size == 0 or history.max() <= 0 or not (targets > 0).any():
        return needed.T
    if history.size != futures.size:
        raise ValueError(f"history has {history.size} days, the futures {futures.size}")
    values = _block_values(history)
    live = [(t, float(target)) for t, target in enumerate(targets) if target > 0]
    last_target = float(targets.max())  # cumulative units only grow: reaching it ends a future
    rows = _able(values, futures)  # the futures computed, as rows of `needed`
    reached = np.zeros(rows.size)  # their units before the block (exact: whole numbers < 2**53)
    pending = np.ones((len(live), rows.size), dtype=bool)  # target not reached yet, per future
    elapsed = number = 0
    while elapsed < max_days:
        days = min(BLOCK_DAYS, max_days - elapsed)
        picks = futures.block(number)
        picks = picks[:days] if rows.size == runs else picks[:days, rows]
        within = _running_sums(np.take(values, picks))
        total = reached + within[-1]
        for i, (t, target) in enumerate(live):
            new = np.flatnonzero(pending[i] & (total >= target))
            if new.size:
                # argmax stops at a future's first day at or above what it still lacks
                first = (within[:, new] >= target - reached[new]).argmax(axis=0)
                needed[t, rows[new]] = elapsed + first + 1
                pending[i, new] = False
        elapsed += days
        number += 1
        going = total < last_target
        if not going.any():
            break
        reached = total
        # the futures that are done drop out once they are half of those computed (fewer
        # copies than dropping them every block; a finished future changes nothing)
        if 2 * np.count_nonzero(going) < rows.size:
            rows, reached, pending = rows[going], reached[going], pending[:, going]
    return needed.T


def _able(values: np.ndarray, futures: Futures) -> np.ndarray:
    """The futures that can reach a target at all: those whose own replicate of the history
    has some units. A replicate of zero days only (likely when few days of the window had
    work) never gets anywhere; left in, it would be simulated for `max_days` days."""
    replicates = futures.replicates()
    if replicates is None:
        return np.arange(futures.runs)
    return np.flatnonzero(np.take(values, replicates).any(axis=0))


def _running_sums(draws: np.ndarray) -> np.ndarray:
    """Each day's units plus all before it in the block, in place: one vector add per day
    over every future (numpy's cumsum along a short axis is about 20 times slower)."""
    for day in range(1, draws.shape[0]):
        np.add(draws[day - 1], draws[day], out=draws[day])
    return draws


def _block_values(history: np.ndarray) -> np.ndarray:
    """The history in the narrowest type whose running sums over one block cannot overflow:
    whole counts as int16 or int32 (summed several times faster than floats), else float64."""
    whole = np.all(history == np.round(history)) and history.min() >= 0
    most = float(history.max()) * BLOCK_DAYS
    for kind in (np.int16, np.int32):
        if whole and most < np.iinfo(kind).max:
            return history.astype(kind)
    return history.astype(np.float64)
