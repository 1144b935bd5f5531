"""One definition per number: the read-only commands and the pages show the same figures for
the same snapshot (the demo-like warehouse), because they read the same marts or call the same
functions."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cli.main import main
from dashboard.queries import earnings, quality
from dashboard.queries.consensus import consensus_table
from dashboard.url_state import FieldKey, Filters
from etl.settings import load_settings
from tests.dashboard.viewers import ADMIN, viewer_data


@pytest.fixture(scope="module")
def demo_settings(demo_snapshots: tuple[Path, Path]):
    data_dir = demo_snapshots[1].parent.parent
    return load_settings(data_dir.parent / "exports" / "config.toml", data_dir=data_dir)


def _cli_json(settings, capsys, *args: str) -> dict:
    argv = ["--data-dir", str(settings.data_dir), "--config"]
    argv += [str(settings.data_dir.parent / "exports" / "config.toml"), *args, "--json"]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_gold_accuracy_and_rejection_rate_per_project(demo_settings, capsys) -> None:
    payload = _cli_json(demo_settings, capsys, "quality", "--bootstrap", "0")
    page = quality.project_outcomes(viewer_data(demo_settings, ADMIN), Filters())
    shown = {(r["platform"], r["project_id"]): r for r in page.iter_rows(named=True)}
    compared = 0
    for project in payload["projects"]:
        row = shown[(project["platform"], project["project_id"])]
        if project["gold"]["n_gold"]:
            assert project["gold"]["n_gold"] == row["gold_answered"]
            assert project["gold"]["accuracy"] == pytest.approx(row["gold_accuracy"])
            compared += 1
        if project["review"]["n_reviewed"]:
            assert project["review"]["n_rejected"] == row["rejected"]
            assert project["review"]["rejection_rate"] == pytest.approx(row["rejection_rate"])
    assert compared >= 2  # the demo has gold on several projects


def test_effective_wage_overall_and_by_platform(demo_settings, capsys) -> None:
    payload = _cli_json(demo_settings, capsys, "earnings", "--by", "platform")
    data = viewer_data(demo_settings, ADMIN)
    overall = earnings.overall(data, Filters()).row(0, named=True)
    total = payload["total"]
    for key in ("effective_wage", "paid_time_wage", "gross_paid_time_wage"):
        assert total[key] == pytest.approx(overall[key], rel=1e-9), key
    assert total["workers"] == overall["workers"]


def test_platforms_without_pay_data_show_their_hours_apart_and_no_wage(demo_settings) -> None:
    table = earnings.platform_comparison(viewer_data(demo_settings, ADMIN), Filters())
    rows = {r["platform"]: r for r in table.iter_rows(named=True)}
    for tool in ("labelstudio", "prodigy"):  # in-house tools: no reward is recorded
        row = rows[tool]
        assert row["hours_worked"] == 0 and row["unpriced_hours"] > 0, tool
        assert row["pooled_effective_wage"] is None, tool
    assert rows["mturk"]["unpriced_hours"] == 0 and rows["mturk"]["pooled_effective_wage"] > 0


def test_status_and_overview_count_the_same_workers_and_platforms(demo_settings, capsys) -> None:
    from dashboard.queries import overview

    totals = _status_totals(demo_settings, capsys)
    page = overview.activity_totals(viewer_data(demo_settings, ADMIN), Filters())
    counted = ("workers", "platforms", "projects")
    assert {k: totals[k] for k in counted} == {k: page[k] for k in counted}
    # freelancers paid by the hour have no assignments, and count as workers all the same
    assert page["workers"] > page["annotators"]


def _status_totals(settings, capsys) -> dict:
    argv = ["--data-dir", str(settings.data_dir), "status", "--json"]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)["totals"]


def test_the_toloka_grades_are_ordinal_with_the_same_alpha_on_the_page_and_in_the_cli(
    demo_settings, capsys
):
    """The demo's Toloka 0-3 relevance grades are read as ordinal (inferred), with the same
    ordinal alpha on the page and in `crowdmeter quality` (0.676 on `crowdmeter demo`'s data,
    where nominal alpha reads 0.420)."""
    payload = _cli_json(demo_settings, capsys, "quality", "toloka:42774177", "--bootstrap", "0")
    (field,) = [f for f in payload["projects"][0]["fields"] if f["field"] == "relevance"]
    data = viewer_data(demo_settings, ADMIN)
    key = FieldKey("toloka", "42774177", "relevance")
    info = quality.field_info(data, key)
    table = quality.coefficient_table(data, Filters(), key)
    alpha = table.filter(pl.col("coefficient") == "krippendorff_alpha")["value"][0]
    assert (info["level"], info["level_source"]) == ("ordinal", "inferred")
    assert (field["level"], field["level_source"]) == ("ordinal", "inferred")
    assert alpha == pytest.approx(field["agreement"]["krippendorff_alpha"]["value"], rel=1e-9)
    assert "gwet_ac2" in table["coefficient"].to_list()  # the ordered coefficients too
    assert field["small_sample"] is False


def test_consensus_labels_of_a_field(demo_settings, capsys) -> None:
    data = viewer_data(demo_settings, ADMIN)
    fields = quality.quality_fields(data, Filters()).sort("answers", descending=True)
    key = quality.field_key(fields.row(0, named=True))
    project = f"{key.platform}:{key.project_id}"
    rows = _cli_json(demo_settings, capsys, "consensus", "--project", project, "--field", key.field)
    page = consensus_table(data, Filters(), key)
    assert pl.DataFrame(rows["rows"], schema=page.schema).equals(page)
    assert rows["unlabelled"] > 0  # ties among them, left without a label on both
