"""`crowdmeter audit labels FILE`: error rates by group of a file against hand-counted ones, the
JSON contract, suppression and clear errors. (`crowdmeter audit` on a warehouse is checked on
the simulated workforce in tests/known_answers.)"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cli.main import main

# Group d: answers 1 1 0 1 on gold 1 0 0 1; group l: 1 0 0 0 on gold 0 0 0 1.
ANSWERS = pl.DataFrame(
    {
        "item": [str(i) for i in range(1, 9)],
        "pred": ["1", "1", "0", "1", "1", "0", "0", "0"],
        "truth": ["1", "0", "0", "1", "0", "0", "0", "1"],
        "skin": ["d"] * 4 + ["l"] * 4,
    }
)
EXPECTED = {  # hand-counted
    "d": {"selection_rate": 3 / 4, "false_positive_rate": 1 / 2, "false_negative_rate": 0.0,
          "accuracy": 3 / 4},
    "l": {"selection_rate": 1 / 4, "false_positive_rate": 1 / 3, "false_negative_rate": 1.0,
          "accuracy": 2 / 4},
}  # fmt: skip
FLAGS = ("--item", "item", "--label", "pred", "--gold", "truth", "--group", "skin")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def answers_file(tmp_path: Path) -> Path:
    path = tmp_path / "answers.csv"
    ANSWERS.write_csv(path)
    return path


def test_error_rates_by_group_are_the_hand_counted_ones(answers_file, capsys, monkeypatch):
    monkeypatch.setenv("CROWDMETER_MIN_GROUP_SIZE", "1")
    code, out, _ = run(capsys, "audit", "labels", str(answers_file), *FLAGS, "--json")
    assert code == 0
    payload = json.loads(out)
    assert (payload["positive"], payload["reference"]) == ("1", "d")
    rows = {row["group"]: row for row in payload["groups"]}
    for group, rates in EXPECTED.items():
        assert rows[group]["n"] == 4
        for measure, value in rates.items():
            assert rows[group][measure] == pytest.approx(value), (group, measure)
            low, high = rows[group][f"{measure}_ci_low"], rows[group][f"{measure}_ci_high"]
            assert low <= value <= high
    other = rows["l"]
    assert other["false_positive_rate_ratio"] == pytest.approx((1 / 3) / (1 / 2))
    assert other["selection_rate_difference"] == pytest.approx(1 / 4 - 3 / 4)
    assert 0 < other["selection_rate_difference_p_adjusted"] <= 1


def test_positive_and_reference_can_be_named(answers_file, capsys, monkeypatch):
    monkeypatch.setenv("CROWDMETER_MIN_GROUP_SIZE", "1")
    argv = ["audit", "labels", str(answers_file), *FLAGS, "--positive", "0", "--reference", "l"]
    code, out, _ = run(capsys, *argv, "--json")
    rows = {row["group"]: row for row in json.loads(out)["groups"]}
    assert code == 0
    assert rows["d"]["selection_rate"] == pytest.approx(1 / 4)  # answers naming 0
    assert rows["d"]["selection_rate_ratio"] == pytest.approx((1 / 4) / (3 / 4))
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "reference group 'l'" in out


def test_small_groups_are_shown_suppressed(answers_file, capsys):
    code, out, _ = run(capsys, "audit", "labels", str(answers_file), *FLAGS)
    assert code == 0
    assert out.count("suppressed") == 8  # two groups x four rates, min_group_size 5


def test_a_missing_column_is_named(answers_file, capsys):
    argv = ["audit", "labels", str(answers_file), *FLAGS[:-1], "tone"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "'tone' (--group)" in err


def test_more_than_two_labels_need_a_positive_one(tmp_path, capsys):
    path = tmp_path / "three.csv"
    ANSWERS.with_columns(pred=pl.lit("2")).write_csv(path)
    code, _, err = run(capsys, "audit", "labels", str(path), *FLAGS)
    assert code == 2 and "positive" in err
