"""AG Grid tables with a CSV download that the server recomputes for the viewer.

The download button carries only the table's name; the server rebuilds the table from the
viewer's session and the URL filters, so a download can never hold rows the grid could not.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_mantine_components as dmc
import polars as pl

from dashboard.components.charts import figure_heading
from dashboard.data import GRID_ROWS

SHARE_FORMAT = {"function": "params.value == null ? '–' : d3.format('.1%')(params.value)"}
NUMBER_FORMAT = {"function": "params.value == null ? '–' : d3.format(',.2f')(params.value)"}
SHORT_TABLE = 8  # rows up to which a grid grows to fit instead of scrolling
SHOWN_DIGITS = 6  # significant digits a grid cell receives (the download keeps them all)
COUNT_FORMAT = {"function": "params.value == null ? '–' : d3.format(',')(params.value)"}
CHAR_PX, CELL_PAD_PX = 8, 40  # a character of the grid's font, and a cell's padding
MAX_TEXT_PX = 360  # text wider than this wraps onto more lines instead of widening its column
# Columns whose cells are figure names ("gwet_ac1"): the grid shows their headings ("Gwet's
# AC1"); the download keeps the names, which other tools read.
NAME_COLUMNS = frozenset({"coefficient"})


def column_defs(frame: pl.DataFrame, shares: set[str] = frozenset()) -> list[dict]:
    """Grid columns named from the frame: counts, decimals and shares formatted for reading;
    text and times wide enough to read whole (long text wraps, and shows whole on hover)."""
    defs = []
    shown = _rows_frame(frame.head(GRID_ROWS))
    for name, dtype in frame.schema.items():
        header = name.replace("_", " ")
        # wide enough for the header's longest word beside the filter button
        longest = max(len(word) for word in header.split()) if header.strip() else 0
        col: dict = {"field": name, "headerName": header, "minWidth": max(110, 8 * longest + 48)}
        if shown[name].dtype == pl.String:
            widest = shown[name].str.len_chars().max() or 0
            col["minWidth"] = max(col["minWidth"], min(CHAR_PX * widest + CELL_PAD_PX, MAX_TEXT_PX))
            col["tooltipField"] = name
            if CHAR_PX * widest + CELL_PAD_PX > MAX_TEXT_PX:
                col.update(wrapText=True, autoHeight=True, cellStyle={"lineHeight": "1.4"})
        if name in shares:
            col.update(valueFormatter=SHARE_FORMAT, type="numericColumn")
        elif dtype.is_integer():
            col.update(valueFormatter=COUNT_FORMAT, type="numericColumn")
        elif dtype.is_float():
            col.update(valueFormatter=NUMBER_FORMAT, type="numericColumn")
        defs.append(col)
    return defs


def data_table(
    table: str, frame: pl.DataFrame, shares: set[str] = frozenset(), height: int = 360
) -> dmc.Stack:
    """A sortable, filterable grid of `frame` with a 'Download CSV' button for table `table`."""
    shown = frame.head(GRID_ROWS)
    fit = {"domLayout": "autoHeight"} if shown.height <= SHORT_TABLE else {}
    note = (
        f"Showing the first {GRID_ROWS:,} of {frame.height:,} rows; the download has them all."
        if frame.height > GRID_ROWS
        else f"{frame.height:,} rows"
    )
    grid = dag.AgGrid(
        id={"type": "grid", "table": table},
        rowData=_rows(shown),
        columnDefs=column_defs(frame, shares),
        defaultColDef={
            "sortable": True,
            "filter": True,
            "resizable": True,
            "minWidth": 110,
            "wrapHeaderText": True,  # long names in full rather than cut to "hours wor…"
            "autoHeaderHeight": True,
        },
        dashGridOptions={"animateRows": False, "tooltipShowDelay": 300, **fit},
        columnSize="responsiveSizeToFit",
        # autoHeight grids size to their rows only when no height is set
        style={"height": None} if fit else {"height": f"{height}px"},
    )
    footer = dmc.Group(
        [
            dmc.Text(note, size="xs", c="dimmed"),
            dmc.Button(
                "Download CSV",
                id={"type": "csv-button", "table": table},
                variant="light",
                size="xs",
            ),
        ],
        justify="space-between",
        mt=6,
    )
    return dmc.Stack([grid, footer], gap=0)


def _rows(frame: pl.DataFrame) -> list[dict]:
    return _rows_frame(frame).to_dicts()


def _rows_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The cells as the grid shows them."""
    # Dates and times travel as text (JSON has no date type), to the minute: seconds are noise here.
    stamps = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    other = [c for c, t in frame.schema.items() if t.is_temporal() and c not in stamps]
    # Grid cells show a few digits: seventeen per float would only weigh down the response.
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    names = [c for c, t in frame.schema.items() if c in NAME_COLUMNS and t == pl.String]
    return frame.with_columns(
        pl.col(stamps).dt.strftime("%Y-%m-%d %H:%M"),
        pl.col(other).cast(pl.String),
        pl.col(floats).round_sig_figs(SHOWN_DIGITS),
        *(pl.col(c).replace_strict(_headings(frame[c]), default=pl.col(c)) for c in names),
    )


def _headings(names: pl.Series) -> dict[str, str]:
    return {n: figure_heading(n) for n in names.drop_nulls().unique().to_list()}


# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"): =, +, -, @, tab
# and carriage return, and the full-width forms some spreadsheets accept as well.
FORMULA_START = r"^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]"


def csv_text(frame: pl.DataFrame) -> str:
    """The CSV body of a download, with text cells that a spreadsheet would run as a formula
    made plain text (a leading apostrophe), and every text cell in double quotes."""
    texts = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    neutral = frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in texts
    )
    return neutral.write_csv(quote_style="non_numeric")
