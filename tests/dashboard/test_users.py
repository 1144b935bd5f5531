"""The login store, the session secret and the `crowdmeter users` command."""

from __future__ import annotations

import stat

import pytest

from cli.main import main
from dashboard.auth import session_secret
from dashboard.users import UserStore, UserStoreError
from etl.pseudonym import pseudonym_key, pseudonymise
from etl.settings import Settings


def test_a_freelancer_link_is_stored_as_pseudonyms_only(settings: Settings):
    store = UserStore(settings)
    user = store.add("fred", "freelancer", "long-enough", workers=[("mturk", "A3RAWWORKER")])
    expected = pseudonymise("mturk", "A3RAWWORKER", pseudonym_key(settings))
    assert user.workers == (expected,)
    assert b"A3RAWWORKER" not in store.path.read_bytes()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_passwords_are_argon2_hashes_and_verify(settings: Settings):
    store = UserStore(settings)
    store.add("mia", "manager", "correct horse", projects=[("toloka", "42")])
    assert b"correct horse" not in store.path.read_bytes()
    assert b"$argon2id$" in store.path.read_bytes()
    assert store.verify("mia", "correct horse").project_keys == ["toloka:42"]
    assert store.verify("mia", "wrong horse") is None
    assert store.verify("nobody", "correct horse") is None


@pytest.mark.parametrize(
    ("name", "role", "password", "workers", "projects", "message"),
    [
        ("x", "owner", "long-enough", [], [], "Unknown role"),
        ("x", "admin", "short", [], [], "too short"),
        ("x y", "admin", "long-enough", [], [], "not allowed"),
        ("x", "freelancer", "long-enough", [], [], "needs at least one platform id"),
        ("x", "manager", "long-enough", [], [], "needs at least one project"),
        ("x", "auditor", "long-enough", [("mturk", "A")], [], "drop --worker"),
    ],
)
def test_bad_logins_say_what_to_change(settings, name, role, password, workers, projects, message):
    with pytest.raises(UserStoreError, match=message):
        UserStore(settings).add(name, role, password, workers, projects)


def test_adding_an_existing_name_needs_replace(settings: Settings):
    store = UserStore(settings)
    store.add("ada", "admin", "first-password")
    with pytest.raises(UserStoreError, match="--replace"):
        store.add("ada", "auditor", "second-password")
    replaced = store.add("ada", "auditor", "second-password", replace=True)
    assert replaced.role == "auditor"
    assert store.verify("ada", "first-password") is None


def test_session_secret_is_created_once_with_mode_0600(settings: Settings):
    first = session_secret(settings)
    path = settings.secrets_dir / "session_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert session_secret(settings) == first and len(first) >= 32
    configured = Settings(data_dir=settings.data_dir, server={"session_secret": "from-settings"})
    assert session_secret(configured) == b"from-settings"


def test_users_command_adds_and_lists(settings, tmp_path, monkeypatch, capsys):
    password_file = tmp_path / "pw"
    password_file.write_text("a-long-password\n")
    data = ["--data-dir", str(settings.data_dir)]
    code = main(
        [
            *data,
            "users",
            "add",
            "fred",
            "--role",
            "freelancer",
            "--worker",
            "mturk:A1",
            "--worker",
            "Toloka:b2",
            "--password-file",
            str(password_file),
        ]
    )
    assert code == 0
    assert UserStore(settings).verify("fred", "a-long-password").worker_platforms == (
        "mturk",
        "toloka",
    )
    monkeypatch.setenv("CROWDMETER_NEW_PASSWORD", "another-password")
    assert main([*data, "users", "add", "mia", "--role", "manager", "--project", "mturk:P1"]) == 0
    capsys.readouterr()
    assert main([*data, "users", "list", "--json"]) == 0
    listed = capsys.readouterr().out
    assert '"mturk:P1"' in listed and "A1" not in listed
    assert main([*data, "users", "list"]) == 0
    text = capsys.readouterr().out
    fred = UserStore(settings).get("fred")
    assert f"ids on mturk, toloka as {', '.join(fred.workers)}" in text and "A1" not in text


def test_users_command_errors_say_what_to_do(settings, capsys, monkeypatch):
    monkeypatch.setenv("CROWDMETER_NEW_PASSWORD", "a-long-password")
    data = ["--data-dir", str(settings.data_dir)]
    assert main([*data, "users", "add", "x", "--role", "freelancer", "--worker", "A1"]) == 2
    assert "is not PLATFORM:ID" in capsys.readouterr().err
    assert main([*data, "users", "add", "x", "--role", "manager"]) == 2
    assert "--project PLATFORM:PROJECT" in capsys.readouterr().err
