"""Money in a currency with no exchange rate is left out of earnings, and notes say how much."""

from __future__ import annotations

import polars as pl

from etl.pay import PayInputs, split_unpriceable, unpriced_notes, without_unpriceable


def inputs(assignment_currencies: list[str | None], earnings_currencies: list[str]) -> PayInputs:
    return PayInputs(
        assignments=pl.DataFrame(
            {"currency": assignment_currencies}, schema={"currency": pl.String}
        ),
        time_entries=pl.DataFrame(),
        earnings=pl.DataFrame({"currency": earnings_currencies}, schema={"currency": pl.String}),
        workers=pl.DataFrame(),
        fx=pl.DataFrame({"currency": ["USD", "EUR"]}),
        floors=pl.DataFrame(),
        platforms=pl.DataFrame(),
    )


def test_unrated_rows_are_left_out_and_counted_over_groups_of_workers():
    first = inputs(["USD", "XYZ", None, "ABC"], ["EUR", "XYZ"])
    second = inputs(["XYZ", "EUR"], ["XYZ", "XYZ"])
    kept, left_out = split_unpriceable(first, "USD")
    assert kept.assignments["currency"].to_list() == ["USD", None]
    assert kept.earnings["currency"].to_list() == ["EUR"]
    both = pl.concat([left_out, split_unpriceable(second, "USD")[1]])
    notes = unpriced_notes(both, "USD")
    assert [n.split(" are left out")[0] for n in notes] == [
        "1 assignments rows in ABC",
        "2 assignments rows in XYZ",
        "3 earnings rows in XYZ",
    ]
    assert "no exchange rate from XYZ to USD" in notes[1]
    # one group at a time gives the same notes as the whole
    assert without_unpriceable(first, "USD")[1] == unpriced_notes(left_out, "USD")
    assert unpriced_notes(split_unpriceable(inputs(["USD"], ["EUR"]), "USD")[1], "USD") == []
