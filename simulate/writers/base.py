"""What every export writer shares: an append-only file, and times as each platform prints them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

import polars as pl


class Timeline:
    """Simulated times are seconds since midnight UTC of the first simulated day."""

    def __init__(self, first_day: date) -> None:
        self.epoch = int(
            datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC).timestamp()
        )

    def utc(self, seconds: pl.Expr) -> pl.Expr:
        return pl.from_epoch(
            (seconds + self.epoch).cast(pl.Int64), time_unit="s"
        ).dt.replace_time_zone("UTC")

    def local(self, seconds: pl.Expr, zone: str, fmt: str) -> pl.Expr:
        """Wall-clock text in `zone`; nulls (and NaN) stay empty."""
        valid = seconds.is_not_null() & seconds.is_not_nan()
        text = self.utc(seconds).dt.convert_time_zone(zone).dt.strftime(fmt)
        return pl.when(valid).then(text).otherwise(None)


class Sink:
    """One export file written chunk by chunk, with its header written once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.handle: IO[bytes] = path.open("wb")
        self.rows = 0

    def write_csv(self, frame: pl.DataFrame, separator: str = ",") -> None:
        frame.write_csv(
            self.handle, include_header=self.rows == 0, separator=separator, line_terminator="\n"
        )
        self.rows += frame.height

    def write_text(self, text: str) -> None:
        self.handle.write(text.encode())

    def close(self) -> None:
        self.handle.close()
