"""The Earnings page's wage tables: published at publish for the unfiltered view, summed on the
snapshot for every other view, and equal to `summarise_wages` on the viewer's ledger rows."""

from __future__ import annotations

import shutil

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard.access import NotAllowed
from dashboard.queries import earnings
from dashboard.url_state import Filters
from etl.marts import earnings as marts_earnings
from metrics.pay import summarise_wages, wages_across_workers
from tests.dashboard.viewers import ADMIN, AUDITOR, FREELANCER, MANAGER, viewer_data

TABLES = {
    "overall": [],
    "weekly": ["platform", "week"],
    "task_types": ["platform", "task_type"],
    "workers": ["worker_id", "platform"],
}
# both platforms of the fixture: every row, but through the on-request path
EVERY_PLATFORM = Filters(platforms=("mturk", "toloka"))


@pytest.fixture(scope="module")
def ledger(published) -> pl.DataFrame:
    data = viewer_data(published, ADMIN)
    return data.frame("SELECT * EXCLUDE (currency) FROM mart_earnings_ledger")


def same(found: pl.DataFrame, expected: pl.DataFrame, keys: list[str]) -> None:
    assert_frame_equal(
        found.select(expected.columns).sort(keys, nulls_last=True),
        expected.sort(keys, nulls_last=True),
        check_exact=False,
        rel_tol=1e-9,
        check_dtypes=False,
    )


@pytest.mark.parametrize("table", list(TABLES))
def test_published_and_summed_wages_equal_the_metric_on_the_ledger(published, ledger, table):
    by = TABLES[table]
    expected = summarise_wages(ledger, by)
    admin = viewer_data(published, ADMIN)
    assert earnings.published_wages(admin, table, Filters()) is not None
    assert earnings.published_wages(admin, table, EVERY_PLATFORM) is None
    same(earnings.wages(admin, Filters(), table, by), expected, by)
    same(earnings.wages(admin, EVERY_PLATFORM, table, by), expected, by)


def test_platform_spread_takes_each_worker_once(published, ledger):
    expected = wages_across_workers(ledger, ["platform"])
    admin = viewer_data(published, ADMIN)
    columns = earnings.platform_comparison(admin, Filters()).columns
    for filters in (Filters(), EVERY_PLATFORM):
        found = earnings.platform_comparison(admin, filters)
        same(found, expected.select(columns), ["platform"])


def test_a_managers_wages_cover_their_projects_only(published, ledger):
    mine = ledger.filter((pl.col("platform") == "mturk") & (pl.col("project_id") == "P1"))
    data = viewer_data(published, MANAGER)
    assert (
        earnings.published_wages(data, "weekly", Filters()) is None
    )  # scoped: never the global table
    by = TABLES["weekly"]
    same(earnings.wages(data, Filters(), "weekly", by), summarise_wages(mine, by), by)


def test_a_freelancers_wages_cover_their_own_ids_only(published, ledger):
    mine = ledger.filter(pl.col("worker_id").is_in(list(FREELANCER.workers)))
    data = viewer_data(published, FREELANCER)
    same(earnings.overall(data, Filters()), summarise_wages(mine, []), [])


def test_auditors_see_no_group_smaller_than_min_group_size(published):
    data = viewer_data(published, AUDITOR)
    for filters in (Filters(), EVERY_PLATFORM):
        weeks = earnings.by_week(data, filters)
        assert not weeks.is_empty() and weeks["workers"].min() >= published.min_group_size
    with pytest.raises(NotAllowed):
        earnings.per_worker(data, Filters())


def test_a_freelancers_skip_list_follows_the_threshold_they_choose(published, ledger):
    data = viewer_data(published, FREELANCER)
    mine = ledger.filter(pl.col("worker_id").is_in(list(FREELANCER.workers)))
    top = summarise_wages(mine, ["worker_id", "platform"])["effective_wage"].max()
    above_all = round(top * 2 + 1)
    listed = earnings.skip_list(data, Filters(focus=str(above_all)))
    assert not listed.is_empty() and set(listed["kind"]) == {"task type", "project"}
    assert (listed["threshold"] == above_all).all()
    assert (listed["effective_wage"] < above_all).all()
    assert set(listed["worker_id"]) <= set(FREELANCER.workers)
    assert earnings.skip_list(data, Filters(focus="0.0001")).is_empty()  # nothing pays less
    # what is not a wage is ignored: the published list
    published_list = earnings.skip_list(data, Filters())
    for focus in ("", "abc", "-3", "1e9", "nan", "'; DROP TABLE x; --"):
        assert_frame_equal(earnings.skip_list(data, Filters(focus=focus)), published_list)


def test_only_a_freelancer_chooses_a_skip_threshold(published):
    admin = viewer_data(published, ADMIN)
    assert_frame_equal(
        earnings.skip_list(admin, Filters(focus="50")), earnings.skip_list(admin, Filters())
    )
    with pytest.raises(NotAllowed):
        earnings.skip_list_below(admin, 50.0, Filters())


def test_earnings_marts_are_the_same_whatever_the_groups_of_workers(published, tmp_path):
    # pay is computed for a few workers at a time; every table must come out as in one pass
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(published.data_dir / "fixture-warehouse.duckdb", copy)
    tables = "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'mart_earnings_%'"
    with duckdb.connect(str(copy)) as con:
        names = [name for (name,) in con.execute(tables).fetchall()]
        before = {name: con.sql(f"SELECT * FROM {name}").pl() for name in names}
        assert con.execute("SELECT count(*) FROM assignments").fetchall()[0][0] > 20
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(marts_earnings, "BUCKET_ASSIGNMENTS", 7)
            marts_earnings.build(con, published)
        for name in names:
            found = con.sql(f"SELECT * FROM {name}").pl()
            order = before[name].columns
            assert_frame_equal(
                found.select(order).sort(order, nulls_last=True),
                before[name].sort(order, nulls_last=True),
                check_exact=False,
                rel_tol=1e-9,
            )
