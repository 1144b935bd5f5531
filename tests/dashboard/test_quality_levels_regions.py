"""The Quality page and `crowdmeter quality` on one published snapshot: a field's level of
measurement (configured or inferred), the small-sample warning, and span agreement, the same
numbers in both."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest

from cli.main import main
from dashboard.pages import quality as page
from dashboard.queries import quality
from dashboard.url_state import FieldKey, Filters
from etl.publish import build_marts
from etl.settings import Settings
from etl.warehouse import apply_migrations
from metrics.agreement import krippendorff_alpha
from metrics.regions import region_agreement
from tests.dashboard.viewers import ADMIN, viewer_data

# field "grade": 0-3 grades of six documents by three coders (ordinal by the inference rule)
GRADES = {
    "d1": {"a": 0, "b": 0, "c": 1},
    "d2": {"a": 1, "b": 2, "c": 1},
    "d3": {"a": 3, "b": 3, "c": 2},
    "d4": {"a": 2, "b": 3, "c": 3},
    "d5": {"a": 0, "b": 1, "c": 0},
    "d6": {"a": 3, "b": 2, "c": 3},
}
# field "entities": spans (start, end, label); b marked nothing on d3; d4 has one annotator
SPANS = {
    "d1": {"a": [(0, 5, "PER"), (10, 20, "ORG")], "b": [(0, 5, "PER"), (11, 20, "ORG")]},
    "d2": {"a": [(3, 9, "LOC")], "b": [(30, 40, "LOC")], "c": [(3, 8, "LOC")]},
    "d3": {"a": [(1, 4, "PER")], "b": []},
    "d4": {"a": [(0, 9, "PER")]},
}
GRADE = FieldKey("toloka", "p1", "grade")


def publish(settings: Settings) -> Settings:
    """The grades and spans as a warehouse by SQL text, its marts built, published as CURRENT."""
    settings.snapshots_dir.mkdir(parents=True)
    path = settings.snapshots_dir / "1-test.duckdb"
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    apply_migrations(con)
    rows = {(unit, coder) for unit in GRADES for coder in GRADES[unit]}
    rows |= {(unit, coder) for unit in SPANS for coder in SPANS[unit]}
    for unit, coder in sorted(rows):
        uid = f"{unit}:{coder}"
        con.execute(
            "INSERT INTO assignments (assignment_uid, platform, project_id, item_id, worker_id,"
            " status, submitted_at, file_id)"
            " VALUES (?, 'toloka', 'p1', ?, ?, 'approved', TIMESTAMPTZ '2024-03-06 10:00+00', 1)",
            [uid, unit, coder],
        )
        if coder in GRADES.get(unit, {}):
            con.execute(
                "INSERT INTO annotations (assignment_uid, field, value, file_id)"
                " VALUES (?, 'grade', ?, 1)",
                [uid, str(GRADES[unit][coder])],
            )
        if coder in SPANS.get(unit, {}):
            spans = SPANS[unit][coder] or [None]  # one empty answer: marked nothing
            for ordinal, span in enumerate(spans):
                region = span and json.dumps(
                    dict(zip(("start", "end", "label"), span, strict=True))
                )
                con.execute(
                    "INSERT INTO annotations (assignment_uid, field, ordinal, region, file_id)"
                    " VALUES (?, 'entities', ?, ?, 1)",
                    [uid, ordinal, region],
                )
    build_marts(con, settings)
    con.close()
    (settings.snapshots_dir / "CURRENT").write_text(path.name)
    return settings


def cli_fields(settings: Settings, capsys: pytest.CaptureFixture[str]) -> dict:
    argv = ["--data-dir", str(settings.data_dir), "quality", "--bootstrap", "0", "--json"]
    assert main(argv) == 0
    (project,) = json.loads(capsys.readouterr().out)["projects"]
    return {f["field"]: f for f in project["fields"]}


def grade_frame() -> pl.DataFrame:
    rows = [(u, c, str(v)) for u, coders in GRADES.items() for c, v in coders.items()]
    return pl.DataFrame(rows, schema=["unit", "coder", "value"], orient="row")


def test_an_unconfigured_grade_field_is_inferred_ordinal_on_the_page_and_in_the_cli(
    settings, capsys
):
    publish(settings)
    data = viewer_data(settings, ADMIN)
    info = quality.field_info(data, GRADE)
    assert (info["level"], info["level_source"]) == ("ordinal", "inferred")
    rows = quality.coefficient_table(data, Filters(), GRADE).rows(named=True)
    table = {r["coefficient"]: r for r in rows}
    ordinal = krippendorff_alpha(grade_frame(), "ordinal").value
    assert ordinal != pytest.approx(krippendorff_alpha(grade_frame(), "nominal").value)
    assert table["krippendorff_alpha"]["value"] == pytest.approx(ordinal)
    assert "gwet_ac2" in table  # the ordered coefficients come with an ordered level
    field = cli_fields(settings, capsys)["grade"]
    assert (field["level"], field["level_source"]) == ("ordinal", "inferred")
    assert field["agreement"]["krippendorff_alpha"]["value"] == pytest.approx(ordinal)
    assert "Level of measurement: ordinal, inferred" in page._coefficients_note(
        info, quality.coefficient_table(data, Filters(), GRADE), Filters()
    )


def test_a_configured_level_wins_over_the_inferred_one(settings, capsys):
    settings.agreement.levels = {"toloka:*:grade": "nominal"}
    publish(settings)
    # the command reads the settings of the config.toml in its data folder
    (settings.data_dir / "config.toml").write_text(
        '[agreement]\nlevels = { "toloka:*:grade" = "nominal" }\n'
    )
    data = viewer_data(settings, ADMIN)
    info = quality.field_info(data, GRADE)
    assert (info["level"], info["level_source"]) == ("nominal", "configured")
    table = quality.coefficient_table(data, Filters(), GRADE)
    alpha = table.row(by_predicate=pl.col("coefficient") == "krippendorff_alpha", named=True)
    alpha = alpha["value"]
    assert alpha == pytest.approx(krippendorff_alpha(grade_frame(), "nominal").value)
    field = cli_fields(settings, capsys)["grade"]
    assert (field["level"], field["level_source"]) == ("nominal", "configured")
    assert field["agreement"]["krippendorff_alpha"]["value"] == pytest.approx(alpha)


def test_coefficients_under_the_minimum_size_carry_a_warning_never_a_bare_number(settings, capsys):
    publish(settings)  # six units, 18 ratings: under the default 20 units and 50 ratings
    data = viewer_data(settings, ADMIN)
    table = quality.coefficient_table(data, Filters(), GRADE)
    assert table["warning"].str.starts_with("small sample: 6 units").all()
    cards = page._coefficient_cards(table, quality.field_info(data, GRADE))
    shown = str(cards)
    assert "⚠" in shown and "small sample" in shown
    field = cli_fields(settings, capsys)["grade"]
    assert field["small_sample"] is True
    assert field["small_sample_warning"].startswith("small sample: 6 units")
    # large enough once the minimum is lowered: no warning, on either side
    roomy = settings.model_copy(deep=True)
    roomy.agreement.min_units, roomy.agreement.min_ratings = 5, 10
    assert (
        quality.coefficient_table(viewer_data(roomy, ADMIN), Filters(), GRADE)["warning"]
        .is_null()
        .all()
    )


def test_span_agreement_on_the_page_is_the_cli_figure(settings, capsys):
    publish(settings)
    (row,) = quality.region_fields(viewer_data(settings, ADMIN), Filters()).rows(named=True)
    field = cli_fields(settings, capsys)["entities"]
    assert field["kind"] == "regions" and row["shapes"] == "spans"
    for name in ("f1", "n_units", "n_regions", "n_coder_pairs"):
        assert row[name] == pytest.approx(field["agreement"][name]), name
    # by hand: d1 a-b match 2 of 4; d2 a-c match (3-9 vs 3-8), a-b and b-c none; d3 0 of 1
    rows = [
        (unit, coder, span and json.dumps(dict(zip(("start", "end", "label"), span, strict=True))))
        for unit, coders in SPANS.items()
        for coder, spans in coders.items()
        for span in spans or [None]
    ]
    frame = pl.DataFrame(rows, schema=["unit", "coder", "region"], orient="row")
    assert row["f1"] == pytest.approx(region_agreement(frame).f1)
    assert row["f1"] == pytest.approx(2 * (2 + 1) / (4 + 2 + 2 + 2 + 1))
    assert row["n_units"] == 3  # d4 has one annotator
    assert row["warning"].startswith("small sample: 3 units with regions")
    assert field["small_sample"] is True
