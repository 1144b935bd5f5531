"""An auditor sees no figure of fewer than `min_group_size` workers, directly or by difference
(issue 16, item 5): forged callbacks over the fixture, where P1 has 6 workers, P2 2 and T1 3."""

from __future__ import annotations

import polars as pl

from dashboard import access
from tests.dashboard.test_authorization import download_rows
from tests.dashboard.viewers import ADMIN, AUDITOR


def test_overview_cards_of_a_small_group_are_all_withheld(client_for):
    page = client_for("aud").page("/", "?project=mturk:P2&from=2024-03-04&to=2024-03-10")
    assert "Too few workers" in page and "kpi-card" not in page
    # the admin sees the same view's cards
    assert "kpi-card" in client_for("ada").page("/", "?project=mturk:P2&from=2024-03-04")


def test_payment_delays_by_platform_are_suppressed(client_for):
    rows = download_rows(client_for("aud").download("earnings-platform-delays", "/earnings"))
    # toloka has 3 workers
    assert rows and all(int(r["workers"]) >= 5 for r in rows)
    admin = download_rows(client_for("ada").download("earnings-platform-delays", "/earnings"))
    assert {r["platform"] for r in admin} == {"mturk", "toloka"}


def test_a_day_less_changes_nothing_for_an_auditor(client_for):
    aud = client_for("aud")
    week = download_rows(aud.download("overview-projects", "/", "?from=2024-03-04&to=2024-03-10"))
    less = download_rows(aud.download("overview-projects", "/", "?from=2024-03-04&to=2024-03-09"))
    assert week == less and week  # whole weeks only: both ranges are the week of 4 March
    ada = client_for("ada")
    admin_week = download_rows(
        ada.download("overview-projects", "/", "?from=2024-03-04&to=2024-03-10")
    )
    admin_less = download_rows(
        ada.download("overview-projects", "/", "?from=2024-03-04&to=2024-03-09")
    )
    assert admin_week != admin_less  # the admin gets the days asked for


def test_filters_that_leave_out_a_small_group_are_refused(client_for):
    aud = client_for("aud")
    # everything but T1 (3 workers): the whole less this view would give T1's figures
    search = "?project=mturk:P1&project=mturk:P2"
    assert aud.download("overview-projects", "/", search).status_code == 403
    assert "leave out the work of fewer than 5 workers" in aud.page("/", search)
    assert aud.download("overview-projects", "/", "?project=mturk:P1").status_code == 200
    assert client_for("ada").download("overview-projects", "/", search).status_code == 200


def test_rows_withheld_together_must_reach_the_group_size():
    groups = pl.DataFrame({"group": ["a", "b", "c", "d"], "workers": [9, 6, 2, 7]})
    shown = access.suppress_small_groups(AUDITOR, groups, 5)
    # c (2) alone could be worked out from the total: b, the smallest other, goes with it
    assert shown["group"].to_list() == ["a", "d"]
    assert access.suppress_small_groups(ADMIN, groups, 5).height == 4
    even = groups.with_columns(workers=pl.Series([9, 6, 5, 7]))
    assert access.suppress_small_groups(AUDITOR, even, 5).height == 4
