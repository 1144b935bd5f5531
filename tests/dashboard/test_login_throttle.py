"""The failed-login counts' SQLite storage: fixed windows shared by every process of the file."""

from __future__ import annotations

import pytest
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

import dashboard.login_throttle as throttle
from dashboard.login_throttle import SQLiteStorage, storage_uri


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1_000_000.0]
    monkeypatch.setattr(throttle, "_now", lambda: now[0])
    return now


def test_the_scheme_is_registered_and_two_storages_of_one_file_share_counts(tmp_path, clock):
    first = storage_from_string(storage_uri(tmp_path))
    second = storage_from_string(storage_uri(tmp_path))
    assert isinstance(first, SQLiteStorage)
    limit = RateLimitItemPerMinute(3)
    a, b = FixedWindowRateLimiter(first), FixedWindowRateLimiter(second)
    assert [a.hit(limit, "k"), b.hit(limit, "k"), a.hit(limit, "k")] == [True, True, True]
    assert not b.hit(limit, "k") and not a.test(limit, "k")
    assert b.get_window_stats(limit, "k").remaining == 0
    assert a.hit(limit, "other")  # counted per key


def test_a_count_is_forgotten_when_its_window_ends(tmp_path, clock):
    counts = SQLiteStorage(storage_uri(tmp_path))
    assert [counts.incr("k", 60), counts.incr("k", 60)] == [1, 2]
    assert counts.get_expiry("k") == clock[0] + 60
    clock[0] += 59  # the window is fixed: a later count does not extend it
    assert counts.incr("k", 60) == 3
    clock[0] += 1
    assert counts.get("k") == 0 and counts.incr("k", 60) == 1
    counts.clear("k")
    assert counts.get("k") == 0 and counts.check()


def test_the_file_is_private_and_the_uri_must_name_one(tmp_path):
    SQLiteStorage(storage_uri(tmp_path))
    assert (tmp_path / throttle.FILE_NAME).stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match="needs a file"):
        SQLiteStorage(f"{throttle.SCHEME}://")
