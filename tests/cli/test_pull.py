"""`crowdmeter pull`: runs the named sources of config.toml once and says how each went."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cli.main import main

FIXTURES = Path(__file__).resolve().parents[1] / "etl" / "fixtures"


def _config(tmp_path: Path) -> Path:
    (tmp_path / "drop").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        "[[pulls]]\n"
        'name = "drop"\nkind = "folder"\n'
        f'path = "{tmp_path / "drop"}"\nevery = "15m"\nsettle_seconds = 0\n'
        "[[pulls]]\n"
        'name = "gone"\nkind = "folder"\n'
        f'path = "{tmp_path / "gone"}"\nevery = "1h"\n'
    )
    return config


def test_pull_runs_the_named_source(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    config = _config(tmp_path)
    shutil.copy(FIXTURES / "mturk_batch.csv", tmp_path / "drop" / "batch.csv")
    assert main(["--config", str(config), "pull", "drop", "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out)["drop"]
    assert (outcome["result"], outcome["files_loaded"]) == ("loaded", 1)


def test_a_failing_source_fails_the_command_and_others_still_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    config = _config(tmp_path)
    assert main(["--config", str(config), "pull"]) == 1
    out = capsys.readouterr().out
    assert "drop: nothing new" in out
    assert "gone: failed" in out and "does not exist" in out


def test_an_unknown_source_is_named(tmp_path: Path, capsys) -> None:
    assert main(["--config", str(_config(tmp_path)), "pull", "nope"]) == 2
    assert "No pull source named 'nope' (drop, gone)" in capsys.readouterr().err


def test_status_shows_each_source_and_a_failing_one_loudly(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    config = _config(tmp_path)
    shutil.copy(FIXTURES / "mturk_batch.csv", tmp_path / "drop" / "batch.csv")
    main(["--config", str(config), "pull"])
    capsys.readouterr()
    assert main(["--config", str(config), "status", "--json"]) == 0
    pulls = {p["name"]: p for p in json.loads(capsys.readouterr().out)["pulls"]}
    assert (pulls["drop"]["last_result"], pulls["drop"]["schedule"]) == ("loaded", "every 15m")
    assert pulls["gone"]["last_result"] == "failed" and pulls["gone"]["failures_in_a_row"] == 1
    main(["--config", str(config), "status"])
    shown = capsys.readouterr()
    assert "drop" in shown.out and "loaded" in shown.out
    assert "pull gone FAILING: 1 run in a row" in shown.err and "does not exist" in shown.err
