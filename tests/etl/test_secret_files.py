"""Secret files: created once with mode 0600, then read; the pseudonym key is one of them."""

from __future__ import annotations

import stat
from pathlib import Path

from etl.pseudonym import pseudonym_key
from etl.secret_files import read_or_create_secret
from etl.settings import Settings


def test_a_secret_is_created_once_with_mode_0600(tmp_path: Path):
    path = tmp_path / "secrets" / "session_secret"
    first, created = read_or_create_secret(path)
    assert created and len(first) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_or_create_secret(path) == (first, False)
    assert [p.name for p in path.parent.iterdir()] == ["session_secret"]  # no temp file left


def test_an_existing_secret_is_never_replaced(tmp_path: Path):
    path = tmp_path / "pseudonym_key"
    path.write_bytes(b"kept-as-it-is\n")
    assert read_or_create_secret(path) == (b"kept-as-it-is", False)


def test_the_first_run_creates_the_pseudonym_key_and_says_so(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.delenv("CROWDMETER_PSEUDONYM_KEY", raising=False)
    settings = Settings(data_dir=tmp_path / "data")
    key = pseudonym_key(settings)
    assert "Created a new pseudonymisation key" in capsys.readouterr().err
    assert (settings.secrets_dir / "pseudonym_key").read_bytes().strip() == key
    assert pseudonym_key(settings) == key
    assert capsys.readouterr().err == ""
