"""config.toml and the settings model stay in step: every setting documented, none unknown."""

from __future__ import annotations

import re
import tomllib

import pytest
from pydantic import BaseModel, ValidationError

from etl.pull_settings import FolderPull, LabelStudioPull, TolokaPull
from etl.resources import DEFAULT_CONFIG
from etl.settings import Settings, SourceSettings, load_settings


def documented_keys(text: str) -> set[str]:
    """Keys set in config.toml, and keys shown commented out (`# name = ...`), per section."""
    keys, section = set(), ""
    for line in text.splitlines():
        if m := re.match(r"^#?\s*\[\[(\w+)\]\]", line):  # an array of tables: [[pulls]]
            keys.add(m.group(1))
            section = m.group(1)
        elif m := re.match(r"^\[([\w.]+)\]", line):
            section = m.group(1)
        elif m := re.match(r"^#?\s*(\w+)\s*=", line):
            keys.add(f"{section}.{m.group(1)}" if section else m.group(1))
    return keys


def model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            keys |= model_keys(nested, f"{prefix}{name}.")
        elif name != "sources":
            keys.add(prefix + name)
    return keys


def test_every_setting_is_in_config_toml_with_a_comment():
    text = DEFAULT_CONFIG.read_text()
    missing = model_keys(Settings) - documented_keys(text)
    assert not missing, f"settings missing from config.toml: {sorted(missing)}"
    for key in SourceSettings.model_fields:
        assert re.search(rf"^#\s+{key}\b", text, re.M), f"sources.*.{key} is not explained"


def test_config_toml_loads_and_matches_the_defaults():
    parsed = tomllib.loads(DEFAULT_CONFIG.read_text())
    settings = load_settings()
    defaults = Settings.model_construct()
    for key in ("session_gap_minutes", "min_group_size", "snapshots_keep", "reporting_currency"):
        assert parsed[key] == getattr(settings, key) == getattr(defaults, key)


def test_environment_overrides_config(monkeypatch):
    monkeypatch.setenv("CROWDMETER_SERVER__PORT", "9123")
    monkeypatch.setenv("CROWDMETER_SESSION_GAP_MINUTES", "2.5")
    settings = Settings()
    assert (settings.server.port, settings.session_gap_minutes) == (9123, 2.5)


def test_secret_files_are_read(tmp_path, monkeypatch):
    (tmp_path / "crowdmeter_pseudonym_key").write_text("from-a-secret-file")
    monkeypatch.delenv("CROWDMETER_PSEUDONYM_KEY", raising=False)
    settings = Settings(_secrets_dir=tmp_path)
    assert settings.pseudonym_key.get_secret_value() == "from-a-secret-file"


def test_every_pull_setting_is_explained_in_config_toml():
    text = DEFAULT_CONFIG.read_text()
    for kind in (FolderPull, TolokaPull, LabelStudioPull):
        for key in kind.model_fields:
            assert re.search(rf"^#\s+(\w+, )*{key}\b", text, re.M), f"pulls {key} is not explained"


def test_pulls_need_one_schedule_and_no_token_in_the_file(tmp_path):
    good = {"name": "drop", "kind": "folder", "path": str(tmp_path), "every": "15m"}
    settings = Settings(pulls=[good])
    assert settings.pull("drop").every_seconds == 900
    with pytest.raises(ValidationError, match="exactly one schedule"):
        Settings(pulls=[{**good, "cron": "0 * * * *"}])
    with pytest.raises(ValidationError, match="a number and a unit"):
        Settings(pulls=[{**good, "every": "soon"}])
    api = {"name": "t", "kind": "toloka", "pool": "1", "every": "1h"}
    with pytest.raises(ValidationError, match="never goes into config.toml"):
        Settings(pulls=[api])
    with pytest.raises(ValidationError, match="Extra inputs"):
        Settings(pulls=[{**api, "token_env": "T", "token": "secret"}])
    with pytest.raises(ValidationError, match="unique"):
        Settings(pulls=[good, good])
