"""Money in the reporting currency: each amount converted at the rate of its own day."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


class MissingRate(ValueError):
    """A currency has no exchange rate at all; the message names it and the fix."""


def conversion_factors(
    pairs: pl.DataFrame, fx: pl.DataFrame, reporting_currency: str
) -> pl.DataFrame:
    """`factor` turning one unit of `currency` on `day` into the reporting currency.

    `pairs` has `currency` and `day`; `fx` has `currency`, `day`, `usd_per_unit`. The rate is
    the one of the nearest earlier day in `fx`; a day before the table's first rate of that
    currency takes its first rate.
    """
    pairs = pairs.select("currency", "day").unique()
    known = set(fx.get_column("currency").unique().to_list())
    foreign = set(pairs.get_column("currency").to_list()) - {reporting_currency}
    # Converting anything into the reporting currency needs a rate for it too.
    missing = sorted(foreign - known) + (
        [reporting_currency] if foreign and reporting_currency not in known else []
    )
    if missing:
        raise MissingRate(
            f"No exchange rate for {', '.join(missing)}. Add rows for it to the fx rates CSV "
            "(etl/data/fx_rates.csv or the file in settings pay.fx_rates_file) and ingest again."
        )
    rates = fx.select("currency", "day", "usd_per_unit").sort("day")
    own = _rate_as_of(pairs, rates)
    reporting = _rate_as_of(pairs.with_columns(currency=pl.lit(reporting_currency)), rates)
    return own.join(
        reporting.rename({"usd_per_unit": "reporting_usd_per_unit", "currency": "reporting"}),
        on="day",
        how="left",
    ).select(
        "currency",
        "day",
        factor=pl.when(pl.col("currency") == reporting_currency)
        .then(1.0)
        .otherwise(pl.col("usd_per_unit") / pl.col("reporting_usd_per_unit")),
    )


def _rate_as_of(pairs: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    left = pairs.select("currency", "day").unique().sort("day")
    # Both sides are sorted by day just above, so the check (impossible with `by`) is skipped.
    asof = {"on": "day", "by": "currency", "check_sortedness": False}
    earlier = left.join_asof(rates, strategy="backward", **asof)
    later = left.join_asof(rates, strategy="forward", **asof)
    return earlier.join(later, on=["currency", "day"], suffix="_later").select(
        "currency", "day", usd_per_unit=pl.coalesce("usd_per_unit", "usd_per_unit_later")
    )


def to_reporting_currency(
    frame: pl.DataFrame,
    amounts: Sequence[str],
    fx: pl.DataFrame,
    reporting_currency: str,
    currency: str = "currency",
    day: str = "pay_day",
) -> pl.DataFrame:
    """`frame` with the `amounts` columns converted at the rate of each row's `day`.

    Factors are computed once per currency and calendar day between the frame's first and
    last day, then looked up by position: no join over millions of rows.
    """
    currencies = sorted(frame.get_column(currency).drop_nulls().unique().to_list())
    first, last = frame.select(first=pl.col(day).min(), last=pl.col(day).max()).row(0)
    if not currencies or first is None:
        return frame.with_columns(pl.col(a).cast(pl.Float64) * None for a in amounts)
    days = pl.date_range(first, last, "1d", eager=True)
    grid = pl.DataFrame({"currency": currencies}).join(pl.DataFrame({"day": days}), how="cross")
    table = conversion_factors(grid, fx, reporting_currency).sort("currency", "day")
    position = (
        pl.col(currency).cast(pl.Enum(currencies)).to_physical().cast(pl.Int64) * len(days)
        + (pl.col(day) - pl.lit(first)).dt.total_days()
    )
    factor = pl.lit(table.get_column("factor")).gather(position)
    return frame.with_columns((pl.col(a).cast(pl.Float64) * factor).alias(a) for a in amounts)
