"""`crowdmeter agreement FILE`: CSV, Parquet, JSONL in; the JSON contract, clear errors out."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cli.main import main

CONTRACT = (
    "percent_agreement",
    "cohen_kappa",
    "scott_pi",
    "fleiss_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
    "brennan_prediger",
)
# Two coders, u1 a/a, u2 a/b, u3 b/b, u4 b/b: Cohen's kappa 0.5 (hand-computed).
FRAME = pl.DataFrame(
    {
        "item": ["007", "007", "7", "7", "u3", "u3", "u4", "u4"],
        "annotator": ["x", "y"] * 4,
        "label": ["a", "a", "a", "b", "b", "b", "b", "b"],
    }
)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_json_contract_for_each_format(tmp_path: Path, capsys, suffix):
    path = tmp_path / f"ratings.{suffix}"
    {"csv": FRAME.write_csv, "parquet": FRAME.write_parquet, "jsonl": FRAME.write_ndjson}[suffix](
        path
    )
    flags = ("--unit", "item", "--coder", "annotator", "--value", "label")
    code, out, _ = run(capsys, "agreement", str(path), *flags, "--bootstrap", "100", "--json")
    assert code == 0
    payload = json.loads(out)
    # "007" and "7" stay two units even though CSV would read them as numbers
    assert (payload["n_units"], payload["n_coders"], payload["n_pairable_values"]) == (4, 2, 8)
    for name in CONTRACT:
        assert {"value", "ci_low", "ci_high"} <= payload[name].keys()
    assert payload["cohen_kappa"]["value"] == pytest.approx(0.5)
    assert payload["cohen_kappa"]["ci_low"] <= 0.5 <= payload["cohen_kappa"]["ci_high"]


def test_undefined_reason_in_json(tmp_path: Path, capsys):
    path = tmp_path / "same.csv"
    pl.DataFrame({"unit": [1, 1], "coder": ["a", "b"], "value": ["x", "x"]}).write_csv(path)
    code, out, _ = run(capsys, "agreement", str(path), "--json")
    payload = json.loads(out)
    assert code == 0 and payload["percent_agreement"]["value"] == 1.0
    assert payload["krippendorff_alpha"]["value"] is None
    assert "one category" in payload["krippendorff_alpha"]["undefined_reason"]


def test_readable_table(tmp_path: Path, capsys):
    path = tmp_path / "ratings.csv"
    FRAME.rename({"item": "unit", "annotator": "coder", "label": "value"}).write_csv(path)
    code, out, _ = run(capsys, "agreement", str(path), "--bootstrap", "0")
    assert code == 0
    assert "4 units, 2 coders, 8 ratings" in out
    assert "Cohen's kappa (Conger)" in out and "0.5000" in out
    assert out.index("percent agreement") < out.index("Scott's pi") < out.index("Gwet's AC1")


def test_ordinal_words_with_declared_order(tmp_path: Path, capsys):
    path = tmp_path / "ordinal.csv"
    rows = {"unit": [1, 1, 2, 2], "coder": ["a", "b"] * 2, "value": ["low", "mid", "high", "high"]}
    pl.DataFrame(rows).write_csv(path)
    code, _, err = run(capsys, "agreement", str(path), "--level", "ordinal")
    assert code == 2 and "--categories" in err
    flags = ("--level", "ordinal", "--categories", "low,mid,high", "--json", "--bootstrap", "0")
    code, out, _ = run(capsys, "agreement", str(path), *flags)
    assert code == 0 and json.loads(out)["categories"] == ["low", "mid", "high"]
    assert "gwet_ac2" in json.loads(out)


def test_missing_column_lists_the_columns(tmp_path: Path, capsys):
    path = tmp_path / "ratings.csv"
    FRAME.write_csv(path)
    code, _, err = run(capsys, "agreement", str(path), "--unit", "item")
    assert code == 2
    assert "no column 'annotator'" not in err  # only the missing ones are named
    assert "'coder' (--coder)" in err and "Columns present: item, annotator, label" in err


def test_unknown_level_and_bad_files(tmp_path: Path, capsys):
    path = tmp_path / "ratings.csv"
    FRAME.write_csv(path)
    code, _, err = run(capsys, "agreement", str(path), "--level", "cardinal")
    assert code == 2 and "Use one of: nominal, ordinal, interval, ratio" in err
    code, _, err = run(capsys, "agreement", str(tmp_path / "absent.csv"))
    assert code == 2 and "does not exist" in err
    odd = tmp_path / "ratings.xlsx"
    odd.write_text("x")
    code, _, err = run(capsys, "agreement", str(odd))
    assert code == 2 and ".parquet" in err
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet")
    code, _, err = run(capsys, "agreement", str(broken))
    assert code == 2 and "Could not read" in err
