"""`crowdmeter consensus`: a long-format file or a project of the snapshot in; one row per unit
(unit, label, confidence, n_ratings) out as CSV, Parquet or JSON; clear errors; login scope."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest

from cli.main import main
from dashboard.users import UserStore
from etl.settings import Settings
from tests.dashboard.warehouse_fixture import publish_fixture

# "007" and "7" are two items; 007: x, x, y -> x at 2/3; 7: x, y -> a tie; u3: z alone
FRAME = pl.DataFrame(
    {
        "item": ["007", "007", "007", "7", "7", "u3"],
        "annotator": ["a", "b", "c", "a", "b", "a"],
        "label": ["x", "x", "y", "y", "x", "z"],
    }
)
COLUMNS = ["--unit", "item", "--coder", "annotator", "--value", "label"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def write(frame: pl.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    elif path.suffix == ".jsonl":
        frame.write_ndjson(path)
    else:
        frame.write_csv(path, separator="\t" if path.suffix == ".tsv" else ",")
    return path


@pytest.mark.parametrize("suffix", ["csv", "tsv", "parquet", "jsonl"])
def test_each_format_gives_one_row_per_unit_as_csv_on_stdout(tmp_path, capsys, suffix):
    path = write(FRAME, tmp_path / f"ratings.{suffix}")
    code, out, err = run(capsys, "consensus", str(path), *COLUMNS)
    assert code == 0, err
    rows = pl.read_csv(io.StringIO(out), schema_overrides={"unit": pl.String, "label": pl.String})
    assert rows.columns == ["unit", "label", "confidence", "n_ratings"]
    assert rows.rows() == [("007", "x", pytest.approx(2 / 3), 3), ("7", None, 0.5, 2),
                           ("u3", "z", 1.0, 1)]  # fmt: skip
    assert "3 units labelled by majority vote (ties none)" in err
    assert "1 tied, left without a label" in err and "1 with one rating" in err


def test_out_parquet_and_csv_by_suffix(tmp_path, capsys):
    path = write(FRAME, tmp_path / "ratings.csv")
    code, out, _ = run(capsys, "consensus", str(path), *COLUMNS, "--out", str(tmp_path / "l.pq"))
    assert code == 0 and out.strip().endswith(f"wrote {tmp_path / 'l.pq'}")
    assert pl.read_parquet(tmp_path / "l.pq")["label"].to_list() == ["x", None, "z"]
    code, _, _ = run(capsys, "consensus", str(path), *COLUMNS, "--ties", "lowest",
                     "--out", str(tmp_path / "l.csv"))  # fmt: skip
    written = pl.read_csv(tmp_path / "l.csv", schema_overrides={"unit": pl.String})
    assert code == 0 and written["label"].to_list() == ["x", "x", "z"]


def test_json_prints_the_rows_and_what_was_done(tmp_path, capsys):
    path = write(FRAME, tmp_path / "ratings.csv")
    code, out, _ = run(capsys, "consensus", str(path), *COLUMNS, "--method", "dawid-skene",
                       "--ties", "random", "--seed", "3", "--json")  # fmt: skip
    payload = json.loads(out)
    assert code == 0
    assert {k: payload[k] for k in ("method", "ties", "seed", "units")} == {
        "method": "dawid-skene", "ties": "random", "seed": 3, "units": 3}  # fmt: skip
    assert [r["unit"] for r in payload["rows"]] == ["007", "7", "u3"]
    assert set(payload["rows"][0]) == {"unit", "label", "confidence", "n_ratings"}
    again = run(capsys, "consensus", str(path), *COLUMNS, "--method", "dawid-skene",
                "--ties", "random", "--seed", "3", "--json")[1]  # fmt: skip
    assert json.loads(again)["rows"] == payload["rows"]


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("item,annotator,label\n", [], "has no ratings"),
        ("item,annotator,label\n1,a,\n2,b,\n", [], "has no ratings"),
        ("item,annotator,label\n1,a,x\n2,a,y\n", [], "every unit has one rating"),
        ("item,annotator,grade\n1,a,x\n", [], "no column 'label' (--value)"),
        ("item,annotator,label\n1,,x\n1,b,x\n", [], "have no coder"),
        ("item,annotator,label\n1,a,x\n1,b,x\n", ["--out", "labels.xlsx"], "unknown file type"),
        ("item,annotator,label\n1,a,x\n1,b,x\n", ["--field", "f"], "go with --project"),
    ],
)
def test_bad_input_gets_a_clear_error(tmp_path, capsys, monkeypatch, content, extra, message):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ratings.csv"
    path.write_text(content)
    code, out, err = run(capsys, "consensus", str(path), *COLUMNS, *extra)
    assert code == 2 and out == ""
    assert message in err


def test_a_file_or_a_project_not_both_nor_neither(tmp_path, capsys):
    path = write(FRAME, tmp_path / "ratings.csv")
    assert run(capsys, "consensus")[0] == 2
    code, _, err = run(capsys, "consensus", str(path), "--project", "mturk:P1")
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "consensus", "--project", "mturk:P1", "--unit", "item")
    assert code == 2 and "name a FILE's columns" in err


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    mp = pytest.MonkeyPatch()
    mp.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    settings = Settings(data_dir=tmp_path_factory.mktemp("consensus") / "data")
    publish_fixture(settings)
    store = UserStore(settings)
    store.add("mia", "manager", "manager-password", projects=[("mturk", "P1")])
    store.add("aud", "auditor", "auditor-password")
    yield settings
    mp.undo()


def from_snapshot(capsys, settings: Settings, *argv: str) -> tuple[int, dict | str]:
    code, out, err = run(capsys, "--data-dir", str(settings.data_dir), "consensus", *argv)
    return code, json.loads(out) if code == 0 and "--json" in argv else err


def test_a_projects_fields_from_the_snapshot(snapshot, capsys):
    code, payload = from_snapshot(capsys, snapshot, "--project", "mturk:P1", "--json")
    assert code == 0
    rows = payload["rows"]
    # P1's gold items 0, 3, 6, 9: A_RAW_0 answers neg, the others pos (returned work left out)
    assert {(r["field"], r["unit"], r["label"]) for r in rows} == {
        ("label", f"item{n}", "pos") for n in (0, 3, 6, 9)}  # fmt: skip
    assert all(r["platform"] == "mturk" and r["project_id"] == "P1" for r in rows)
    assert all(r["confidence"] == (r["n_ratings"] - 1) / r["n_ratings"] for r in rows)
    # a bare project id matches it on any platform; --field narrows
    code, bare = from_snapshot(capsys, snapshot, "--project", "P1", "--field", "label", "--json")
    assert code == 0 and bare["rows"] == rows


def test_unknown_project_or_field_lists_what_there_is(snapshot, capsys):
    code, err = from_snapshot(capsys, snapshot, "--project", "mturk:P9")
    assert code == 2 and "No categorical field of mturk:P9" in err and "mturk:P1 label" in err
    code, err = from_snapshot(capsys, snapshot, "--project", "mturk:P1", "--field", "colour")
    assert code == 2 and "field 'colour'" in err


def test_user_follows_the_dashboards_access_rules(snapshot, capsys):
    code, payload = from_snapshot(capsys, snapshot, "--project", "P1", "--user", "mia", "--json")
    assert code == 0 and payload["units"] == 4
    code, err = from_snapshot(capsys, snapshot, "--project", "toloka:T1", "--user", "mia")
    assert code == 2 and "may not see project toloka:T1" in err
    # a bare id outside the manager's projects finds nothing of theirs
    code, err = from_snapshot(capsys, snapshot, "--project", "T1", "--user", "mia")
    assert code == 2 and "No categorical field" in err
    code, err = from_snapshot(capsys, snapshot, "--project", "P1", "--user", "aud")
    assert code == 2 and "may not see per-unit consensus labels" in err
    code, err = from_snapshot(capsys, snapshot, "--project", "P1", "--user", "nobody")
    assert code == 2 and "No login 'nobody'" in err
