"""The quality marts: data in and data out on a toy warehouse built from SQL text, rebuilding
only the fields that changed, and the Quality page's reads of them under every role's scope."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

import etl.marts.quality as marts_quality
from dashboard.access import NotAllowed
from dashboard.queries import quality
from dashboard.url_state import FieldKey, Filters
from etl.publish import build_marts
from etl.settings import Settings
from metrics.agreement import agreement_report
from tests.dashboard.viewers import ADMIN, AUDITOR, FREELANCER, MANAGER, viewer_data
from tests.dashboard.warehouse_fixture import worker

# unit -> (coder, value, day of March 2024, status); week 1 starts Monday 4 March. c rates u2 in
# week 2, so u2 is a week-1 unit (its first rating) whose rating by c counts in week 2.
RATINGS = {
    "u1": [("a", "pos", 4, "approved"), ("b", "pos", 4, "approved"), ("c", "pos", 5, "approved")],
    "u2": [("a", "pos", 5, "approved"), ("b", "neg", 5, "rejected"), ("c", "neg", 11, "approved")],
    "u3": [("a", "pos", 6, "approved"), ("b", "neg", 6, "approved"), ("c", "neu", 6, "submitted")],
    "u4": [
        ("a", "neg", 12, "approved"),
        ("b", "neg", 12, "approved"),
        ("c", "pos", 13, "approved"),
    ],
    "u5": [
        ("a", "pos", 13, "approved"),
        ("b", "pos", 13, "approved"),
        ("c", "neg", 14, "returned"),
    ],
}
GOLD = {"u1": "pos", "u3": "pos"}
WEEK_1, WEEK_2 = date(2024, 3, 4), date(2024, 3, 11)
KEY = ("toy", "Q", "label")


def toy_sql(ratings: dict = RATINGS) -> str:
    """The toy project as INSERT statements (one project, one field, three coders)."""
    assignments, answers = [], []
    for unit, rows in ratings.items():
        for coder, value, day, status in rows:
            uid = f"{unit}:{coder}"
            stamp = f"TIMESTAMPTZ '2024-03-{day:02d} 10:00:00+00'"
            assignments.append(
                f"('{uid}', 'toy', 'Q', '{unit}', '{coder}', 'classification', {stamp}, {stamp}, "
                f"60, '{status}', 0.1, 0, 'USD', {unit in GOLD}, NULL, NULL, NULL, 1)"
            )
            gold = f"'{GOLD[unit]}'" if unit in GOLD else "NULL"
            answers.append(f"('{uid}', 'label', '{value}', {gold}, 1)")
    return (
        "INSERT INTO assignments VALUES " + ", ".join(assignments) + ";\n"
        "INSERT INTO annotations (assignment_uid, field, value, gold_value, file_id) VALUES "
        + ", ".join(answers)
        + ";"
    )


@pytest.fixture
def toy(memory_warehouse: duckdb.DuckDBPyConnection, settings: Settings):
    memory_warehouse.execute(toy_sql())
    build_marts(memory_warehouse, settings)
    return memory_warehouse


def mart(con: duckdb.DuckDBPyConnection, name: str, order: str) -> pl.DataFrame:
    return con.sql(f"SELECT * FROM mart_quality_{name} ORDER BY {order}").pl()


def long_frame() -> pl.DataFrame:
    rows = [
        (unit, coder, value)
        for unit, ratings in RATINGS.items()
        for coder, value, _, status in ratings
        if status != "returned"
    ]
    return pl.DataFrame(rows, schema=["unit", "coder", "value"], orient="row")


def test_fields_count_first_answers_of_submitted_work(toy):
    row = mart(toy, "fields", "field").row(0, named=True)
    assert (row["kind"], row["answers"], row["units"], row["coders"]) == ("categorical", 14, 5, 3)
    assert (row["first_week"], row["last_week"]) == (WEEK_1, WEEK_2)


def test_whole_period_agreement_is_the_metric_on_the_same_answers(toy, settings):
    # the marts number units in the order of their ids, and resamples draw units by number
    expected = agreement_report(
        long_frame().with_columns(pl.col("unit").rank("dense")),
        bootstrap_samples=settings.agreement.publish_bootstrap_samples,
        confidence=settings.agreement.confidence,
        seed=settings.agreement.seed,
    )
    rows = {r["coefficient"]: r for r in mart(toy, "agreement", "coefficient").to_dicts()}
    assert set(rows) == set(expected.coefficients)
    for name, coef in expected.coefficients.items():
        assert rows[name]["value"] == pytest.approx(coef.value, nan_ok=True), name
        assert rows[name]["ci_low"] == pytest.approx(coef.ci_low, nan_ok=True), name
        assert rows[name]["n_units"] == 5


def test_weekly_agreement_keeps_each_unit_in_the_week_of_its_first_rating(toy):
    weekly = mart(toy, "agreement_weekly", "week, coefficient")
    units = dict(weekly.select("week", "n_units").unique().iter_rows())
    assert units == {WEEK_1: 3, WEEK_2: 2}  # u2 stays whole in week 1
    coders = dict(weekly.select("week", "coders").unique().iter_rows())
    assert coders == {WEEK_1: 3, WEEK_2: 3}
    assert set(weekly["coefficient"]) == set(marts_quality.WEEKLY)
    # percent agreement of week 1: pairs agreeing on u1, u2, u3 = 1, 1/3, 0
    week_1 = weekly.filter(
        (pl.col("week") == WEEK_1) & (pl.col("coefficient") == "percent_agreement")
    )
    assert week_1["value"][0] == pytest.approx(4 / 9)


def test_confusion_counts_gold_against_answers(toy):
    counts = mart(toy, "confusion", '"true", observed').select("week", "true", "observed", "count")
    assert counts.rows() == [
        (WEEK_1, "pos", "neg", 1),
        (WEEK_1, "pos", "neu", 1),
        (WEEK_1, "pos", "pos", 4),
    ]


def test_annotator_counts_add_up_by_week_of_the_rating(toy):
    per_week = mart(toy, "annotators", "worker_id, week")
    totals = (
        per_week.group_by("worker_id")
        .agg(pl.exclude("platform", "project_id", "field", "week").sum())
        .sort("worker_id")
    )
    columns = ["answers", "gold_answered", "gold_correct", "reviewed", "rejected"]
    assert totals.select("worker_id", *columns).rows() == [
        ("a", 5, 2, 2, 5, 0),
        ("b", 5, 2, 1, 5, 1),
        ("c", 4, 2, 1, 3, 0),  # u5 was returned; u3 is not reviewed yet
    ]
    # against the majority of the others: ties and lone ratings are not compared
    consensus = per_week.select("worker_id", "week", "consensus_compared", "consensus_agree")
    assert consensus.rows() == [
        ("a", WEEK_1, 2, 1),
        ("a", WEEK_2, 1, 1),
        ("b", WEEK_1, 1, 1),
        ("b", WEEK_2, 1, 1),
        ("c", WEEK_1, 1, 1),
        ("c", WEEK_2, 1, 0),
    ]


def test_hot_spots_put_the_least_agreed_units_first(toy):
    spots = mart(toy, "hot_spots", "agreement, n_ratings DESC, unit")
    assert spots["unit"].to_list() == ["u3", "u2", "u4"]  # u1 and u5 are unanimous: no spots
    u3, u2 = spots.row(0, named=True), spots.row(1, named=True)
    assert (u3["agreement"], u3["majority"]) == (0.0, None)  # a three-way tie has no majority
    assert (u2["majority"], u2["answers"], u2["week"]) == ("neg", "neg×2, pos×1", WEEK_1)


def test_pairwise_agreement_of_two_annotators(toy):
    pairs = mart(toy, "pairwise", "coder_a, coder_b")
    ab = pairs.filter((pl.col("coder_a") == "a") & (pl.col("coder_b") == "b")).row(0, named=True)
    assert (ab["n_shared_units"], ab["percent_agreement"]) == (5, 0.6)


def test_only_changed_fields_are_recomputed(toy, settings, monkeypatch):
    computed = []
    original = marts_quality.add_field
    monkeypatch.setattr(
        marts_quality,
        "add_field",
        lambda tables, key, *rest: computed.append(key) or original(tables, key, *rest),
    )
    before = {n: mart(toy, n, "ALL") for n in marts_quality.SCHEMAS}
    build_marts(toy, settings)
    assert computed == []  # nothing changed: every row is kept
    assert all(mart(toy, n, "ALL").equals(before[n]) for n in marts_quality.SCHEMAS)
    toy.execute(toy_sql({"v1": [("a", "pos", 4, "approved")]}).replace("'Q'", "'R'"))
    toy.execute("UPDATE assignments SET status = 'rejected' WHERE assignment_uid = 'u1:a'")
    build_marts(toy, settings)
    assert sorted(computed) == [("toy", "Q", "label"), ("toy", "R", "label")]
    assert mart(toy, "fields", "project_id")["project_id"].to_list() == ["Q", "R"]
    computed.clear()
    build_marts(
        toy,
        settings.model_copy(
            update={
                "agreement": settings.agreement.model_copy(update={"publish_bootstrap_samples": 50})
            }
        ),
    )
    assert len(computed) == 2  # the recipe changed: every field again


def test_marts_build_on_a_warehouse_without_answers(memory_warehouse, settings):
    build_marts(memory_warehouse, settings)
    for name in marts_quality.SCHEMAS:
        assert memory_warehouse.execute(f"SELECT count(*) FROM mart_quality_{name}").fetchone() == (
            0,
        )


# -- the page's reads, on the published dashboard fixture ----------------------------------------

P1 = FieldKey("mturk", "P1", "label")
T1 = FieldKey("toloka", "T1", "label")


def test_fields_follow_the_viewers_projects(published):
    admin = quality.quality_fields(viewer_data(published, ADMIN), Filters())
    assert sorted(admin["project_id"]) == ["P1", "P2", "T1"]
    manager = quality.quality_fields(viewer_data(published, MANAGER), Filters())
    assert manager["project_id"].to_list() == ["P1"]
    # P2 (2 annotators) and T1 (3) are smaller than min_group_size = 5
    assert quality.quality_fields(viewer_data(published, AUDITOR), Filters())[
        "project_id"
    ].to_list() == ["P1"]
    with pytest.raises(NotAllowed):
        quality.quality_fields(viewer_data(published, FREELANCER), Filters())


def test_a_manager_reads_nothing_of_another_project(published):
    data = viewer_data(published, MANAGER)
    assert quality.field_info(data, T1) is None
    assert quality.field_agreement(data, T1).is_empty()
    assert quality.field_confusion(data, T1, Filters()).is_empty()
    assert quality.field_annotators(data, T1, Filters()).is_empty()
    assert quality.field_pairs(data, T1).is_empty()
    assert quality.field_hot_spots(data, T1, Filters()).is_empty()
    assert not quality.field_agreement(data, P1).is_empty()


def test_auditors_get_no_per_worker_rows_and_no_small_groups(published):
    data = viewer_data(published, AUDITOR)
    for read in (
        lambda: quality.field_annotators(data, P1, Filters()),
        lambda: quality.field_pairs(data, P1),
    ):
        with pytest.raises(NotAllowed):
            read()
    assert not quality.field_confusion(data, P1, Filters()).is_empty()
    # the week of 18 March has 5 of P1's 6 annotators: below a group size of 6 it is hidden
    week = Filters(start=date(2024, 3, 18), end=date(2024, 3, 24))
    strict = viewer_data(published, AUDITOR, min_group_size=6)
    assert quality.field_suppressed(strict, P1, week) and not quality.field_suppressed(
        strict, P1, Filters()
    )
    assert quality.field_confusion(strict, P1, week).is_empty()
    assert quality.field_hot_spots(strict, P1, week).is_empty()
    assert not quality.field_agreement(strict, P1).is_empty()  # the whole period has 6
    assert quality.field_weekly_agreement(strict, P1, week).is_empty()


def test_a_freelancer_reads_only_their_own_annotator_rows(published):
    rows = quality.field_annotators(viewer_data(published, FREELANCER), P1, Filters())
    assert rows["worker_id"].to_list() == [worker("mturk", "A_RAW_5")]


def test_a_date_range_selects_whole_weeks(published):
    data = viewer_data(published, ADMIN)
    every = quality.field_annotators(data, P1, Filters())["answers"].sum()
    # 20 March lies in the week of 18 March: that whole week counts
    week = quality.field_annotators(
        data, P1, Filters(start=date(2024, 3, 20), end=date(2024, 3, 20))
    )
    assert 0 < week["answers"].sum() < every
    weeks = quality.field_weekly_agreement(data, P1, Filters(start=date(2024, 3, 20)))
    assert set(weeks["week"]) == {date(2024, 3, 18)}


def test_focus_round_trips_through_the_url():
    assert FieldKey.from_focus(P1.to_focus()) == P1
    assert FieldKey.from_focus("mturk\x1fP1") is None
    assert FieldKey.from_focus(None) is None


def test_hot_spots_rank_what_an_adjudicator_gains_most_from():
    from datetime import date

    from etl.marts.quality_figures import hot_spots

    week = date(2024, 1, 1)
    rows = [(5, c, v, week) for c, v in zip([1, 2, 3, 4, 5], "xxxyy", strict=True)]
    rows += [(2, c, v, week) for c, v in zip([1, 2], "xy", strict=True)]
    rows += [(3, c, "x", week) for c in (1, 2, 3)]
    schema = {"unit": pl.Int64, "coder": pl.Int64, "value": pl.String, "week": pl.Date}
    spots = hot_spots(pl.DataFrame(rows, schema=schema, orient="row"))
    # a 3-2 split of five ratings before a two-rating tie; the unanimous unit is no hot spot
    assert spots["unit"].to_list() == [5, 2]


def test_fields_know_how_many_answers_random_guessing_would_pick_from(toy):
    fields = mart(toy, "fields", "field")
    assert fields.filter(pl.col("kind") == "categorical")["categories"].min() >= 2
