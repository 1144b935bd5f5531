"""`crowdmeter demo --no-serve`: simulate, ingest, publish and create one login per role, from an
empty folder, then reuse what is there on the next start."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from cli.main import main
from dashboard.users import UserStore
from etl.reader import SnapshotReader
from etl.settings import load_settings


def test_demo_builds_data_and_logins_then_reuses_them(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "demo-test")
    data = tmp_path / "demo"
    args = ["--data-dir", str(data), "demo", "--no-serve", "--scale", "0.1"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    logins = json.loads((data / "demo-logins.json").read_text())
    assert set(logins) == {"admin", "manager", "freelancer", "auditor"}
    assert stat.S_IMODE((data / "demo-logins.json").stat().st_mode) == 0o600
    for role, login in logins.items():
        assert login["login"] in printed and login["password"] in printed, role
    settings = load_settings(data / "exports" / "config.toml", data_dir=data)
    users = {user.name: user for user in UserStore(settings).list()}
    freelancer = users[logins["freelancer"]["login"]]
    assert len(freelancer.workers) >= 2  # ids on several platforms
    assert users[logins["manager"]["login"]].projects
    reader = SnapshotReader(settings)
    assert reader.frame("SELECT count(*) AS n FROM assignments").item() > 1000
    assert reader.frame("SELECT sum(rows_rejected) AS n FROM etl_files").item() == 0
    # a second start finds the demo built: same logins, nothing simulated again
    assert main(args) == 0
    assert "Simulating" not in capsys.readouterr().out
    assert json.loads((data / "demo-logins.json").read_text()) == logins


def test_the_demo_folder_works_with_every_command_as_it_is(tmp_path: Path, capsys, monkeypatch):
    """Its settings travel with its data: `--data-dir` alone reads the demo's config, so the CLI's
    figures are the page's (platform fees are in the demo's config, not the repo's)."""
    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "demo-test")
    data = tmp_path / "demo"
    assert main(["--data-dir", str(data), "demo", "--no-serve", "--scale", "0.1"]) == 0
    printed = capsys.readouterr().out
    assert f"crowdmeter --data-dir {data} status" in printed
    beside = load_settings(data_dir=data)
    explicit = load_settings(data / "exports" / "config.toml", data_dir=data)
    assert beside.sources == explicit.sources and beside.sources != load_settings().sources
    assert main(["--data-dir", str(data), "status"]) == 0
    assert "no snapshot" not in capsys.readouterr().out.lower()


def test_the_demo_holds_no_work_dated_after_it_was_built(tmp_path: Path, monkeypatch):
    from datetime import UTC, datetime

    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "demo-test")
    data = tmp_path / "demo"
    assert main(["--data-dir", str(data), "demo", "--no-serve", "--scale", "0.1"]) == 0
    built = datetime.now(UTC)  # after the build: anything later was dated in the future
    settings = load_settings(data / "exports" / "config.toml", data_dir=data)
    newest = (
        SnapshotReader(settings)
        .frame(
            "SELECT greatest(max(submitted_at), max(reviewed_at), max(paid_at)) AS t "
            "FROM assignments"
        )
        .item()
    )
    assert newest < built
