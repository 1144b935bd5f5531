"""Counted rows (`count`: rows aggregated in SQL before Python, as the fairness mart reads its
answers and reviews) give the same findings as one row per answer or review."""

from __future__ import annotations

import polars as pl

from metrics.fairness.findings import COUNT, AuditSettings
from metrics.fairness.labels import error_rates, label_distribution, label_rates, majority_agreement
from metrics.fairness.review import review_fairness
from tests.metrics.fairness_data import answers, people, reviews

SETTINGS = AuditSettings(100, 100, seed=4)


def as_counted(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per distinct row, with how many it stands for, in another order."""
    return rows.group_by(rows.columns).agg(pl.len().alias(COUNT)).sort(rows.columns[::-1])


def test_label_audits_of_counted_answers_equal_those_of_every_answer():
    workers = people(80, seed=2)
    every = answers(workers, seed=2, fpr_bias=0.2, items=300)
    every = pl.concat([every, every.head(200)])  # some answers twice: counts of 2
    together = as_counted(every)
    assert together[COUNT].max() == 2 and together.height < every.height
    for audit in (
        lambda a: error_rates(a, "skin", "1", "l", settings=SETTINGS),
        lambda a: label_rates(a, "skin", "l", settings=SETTINGS),
        lambda a: majority_agreement(a, "gender", settings=SETTINGS),
        lambda a: label_distribution(a, "gender", settings=SETTINGS),
    ):
        assert audit(together) == audit(every)


def test_review_fairness_of_counted_reviews_equals_that_of_every_review():
    workers = people(80, seed=3)
    every = reviews(workers, seed=3, bias=0.3, n=3000)
    together = as_counted(every)
    assert together[COUNT].max() > 1
    found = review_fairness(every, workers, "gender", settings=SETTINGS)
    assert review_fairness(together, workers, "gender", settings=SETTINGS) == found
