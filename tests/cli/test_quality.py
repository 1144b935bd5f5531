"""`crowdmeter quality`: figures read from a hand-built snapshot, checked against hand counts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from cli.main import main
from etl.settings import Settings
from etl.warehouse import apply_migrations

# Project p1, field "label": items i1..i4 rated by w1..w3.
#   i1: pos pos pos   i2: pos neg pos   i3: neg neg neg   i4 (gold, answer pos): pos pos neg
# w1 is always right on gold, w3 wrong. Reviews: w1 approved x4, w2 approved x3 + rejected x1,
# w3 rejected x2 + approved x2. Field "box": two boxes that overlap (IoU 0.9) on i1.
ANSWERS = [
    ("i1", "w1", "pos"), ("i1", "w2", "pos"), ("i1", "w3", "pos"),
    ("i2", "w1", "pos"), ("i2", "w2", "neg"), ("i2", "w3", "pos"),
    ("i3", "w1", "neg"), ("i3", "w2", "neg"), ("i3", "w3", "neg"),
    ("i4", "w1", "pos"), ("i4", "w2", "pos"), ("i4", "w3", "neg"),
]  # fmt: skip
STATUS = {
    ("i1", "w1"): "approved", ("i2", "w1"): "approved", ("i3", "w1"): "approved",
    ("i4", "w1"): "approved", ("i1", "w2"): "approved", ("i2", "w2"): "rejected",
    ("i3", "w2"): "approved", ("i4", "w2"): "approved", ("i1", "w3"): "rejected",
    ("i2", "w3"): "rejected", ("i3", "w3"): "approved", ("i4", "w3"): "approved",
}  # fmt: skip


def build_snapshot(settings: Settings) -> None:
    """Write a warehouse by SQL text and publish it as the CURRENT snapshot."""
    settings.snapshots_dir.mkdir(parents=True)
    path = settings.snapshots_dir / "1-test.duckdb"
    con = duckdb.connect(str(path))
    apply_migrations(con)
    con.execute(
        "INSERT INTO projects (platform, project_id, name) VALUES ('toloka', 'p1', 'Sentiment')"
    )
    for n, (item, worker, value) in enumerate(ANSWERS):
        uid = f"a{n}"
        con.execute(
            "INSERT INTO assignments (assignment_uid, platform, project_id, item_id, worker_id,"
            " status, is_gold, submitted_at, file_id)"
            " VALUES (?, 'toloka', 'p1', ?, ?, ?, ?, TIMESTAMPTZ '2024-03-06 10:00:00+00', 1)",
            [uid, item, worker, STATUS[(item, worker)], item == "i4"],
        )
        con.execute(
            "INSERT INTO annotations (assignment_uid, field, value, gold_value, file_id)"
            " VALUES (?, 'label', ?, ?, 1)",
            [uid, value, "pos" if item == "i4" else None],
        )
        if item == "i1" and worker in ("w1", "w2"):
            box = {"x": 0, "y": 0, "width": 10 if worker == "w1" else 9, "height": 9, "label": "c"}
            con.execute(
                "INSERT INTO annotations (assignment_uid, field, region, file_id)"
                " VALUES (?, 'box', ?, 1)",
                [uid, json.dumps(box)],
            )
    con.close()
    (settings.snapshots_dir / "CURRENT").write_text(path.name)


@pytest.fixture
def snapshot_settings(settings: Settings) -> Settings:
    build_snapshot(settings)
    return settings


def quality_json(settings: Settings, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    code = main(["--data-dir", str(settings.data_dir), "quality", *extra, "--json"])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_project_figures_match_hand_counts(snapshot_settings, capsys):
    payload = quality_json(snapshot_settings, capsys, "p1", "--bootstrap", "50")
    (project,) = payload["projects"]
    assert project["name"] == "Sentiment"
    assert project["n_assignments"] == 12
    # reviewed 12, rejected 3 (w2 once, w3 twice)
    assert project["review"]["n_rejected"] == 3
    assert project["review"]["rejection_rate"] == pytest.approx(3 / 12)
    # gold: i4 answered pos, pos, neg -> 2 of 3
    assert project["gold"]["n_gold"] == 3
    assert project["gold"]["accuracy"] == pytest.approx(2 / 3)
    low, high = project["gold"]["ci_low"], project["gold"]["ci_high"]
    assert 0 < low < 2 / 3 < high < 1
    fields = {f["field"]: f for f in project["fields"]}
    label = fields["label"]["agreement"]
    # per-unit pair agreement: 1, 1/3, 1, 1/3 -> mean 2/3
    assert label["percent_agreement"]["value"] == pytest.approx(2 / 3)
    assert label["n_units"] == 4
    assert label["n_pairable_values"] == 12
    assert label["krippendorff_alpha"]["ci_low"] is not None
    assert fields["label"]["error_source"] == "gold"
    assert fields["box"]["kind"] == "regions"
    assert fields["box"]["agreement"]["f1"] == pytest.approx(1.0)


def test_annotator_figures(snapshot_settings, capsys):
    payload = quality_json(snapshot_settings, capsys, "toloka:p1", "--bootstrap", "0")
    people = {a["worker_id"]: a for a in payload["projects"][0]["annotators"]}
    assert people["w1"]["gold_accuracy"] == 1.0
    assert people["w3"]["gold_accuracy"] == 0.0
    assert people["w3"]["review_rejection_rate"] == pytest.approx(0.5)
    # w2 against the others' majority: i1 pos=pos, i2 neg vs pos, i3 neg=neg, i4 tie -> 2 of 3
    assert people["w2"]["consensus_n_compared"] == 3
    assert people["w2"]["consensus_agreement"] == pytest.approx(2 / 3)


def test_text_output_and_unknown_project(snapshot_settings, capsys):
    assert main(["--data-dir", str(snapshot_settings.data_dir), "quality", "--bootstrap", "0"]) == 0
    text = capsys.readouterr().out
    assert "toloka:p1 (Sentiment)" in text
    assert "review rejection  25.0%" in text
    code = main(["--data-dir", str(snapshot_settings.data_dir), "quality", "nope"])
    assert code == 2
    assert "toloka:p1" in capsys.readouterr().err


def test_no_snapshot_says_what_to_do(settings, capsys):
    assert main(["--data-dir", str(settings.data_dir), "quality"]) == 2
    assert "crowdmeter ingest" in capsys.readouterr().err


def test_snapshot_copy_is_enough(snapshot_settings, tmp_path: Path, capsys):
    # a snapshot is a plain copy of the warehouse file; a second name in CURRENT is read anew
    snaps = snapshot_settings.snapshots_dir
    shutil.copy(snaps / "1-test.duckdb", snaps / "2-test.duckdb")
    (snaps / "CURRENT").write_text("2-test.duckdb")
    payload = quality_json(snapshot_settings, capsys, "--bootstrap", "0")
    assert payload["snapshot"] == "2-test.duckdb"
