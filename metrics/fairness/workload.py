"""Workload and well-being by worker group: weekly hours, weeks over 48 hours, long stretches
without a break, night work and hours on sensitive task types.

Input: `work`, one row per task with `worker_id`, `started_at`, `submitted_at` (UTC), optional
`active_seconds` and `task_type` (the warehouse's assignments; or `sensitive`, whether the task
is of a sensitive type, instead); `time_zones`, optional, with
`worker_id` and `time_zone` (IANA name); `attributes` as for pay equity. A worker's tasks form
*stretches*: the next task joins while it starts less than 15 minutes after the latest end so
far (a pause of 15 minutes or more is a break). Hours worked are the stretches' time (pauses
shorter than a break are work), in the week (from Monday) and clock of the worker's time zone,
UTC where it is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import polars as pl
from scipy import stats

from metrics.fairness.findings import (
    ALL_GROUPS,
    AuditSettings,
    Finding,
    conditionalized_holm,
    interval_text,
    measure_name,
    rounded,
    with_groups,
)
from metrics.fairness.group_compare import compare_rates, comparison_findings
from metrics.fairness.privacy import published
from metrics.sessions import assign_sessions, work_intervals

AUDIT = "workload"
BREAK_MINUTES = 15
# EU Working Time Directive (2003/88/EC) art. 6: at most 48 hours a week on average; art. 4
# asks for a break after six hours, its length set by national law. The design's 4 hours
# without a 15-minute break is stricter: annotation is continuous screen work.
WEEKLY_LIMIT_HOURS = 48.0
LONG_STRETCH_HOURS = 4.0
# Night work (art. 2): a period of at least 7 hours including midnight to 5:00; here 22:00-06:00.
NIGHT_FROM_HOUR, NIGHT_TO_HOUR = 22, 6
DAY = 86_400
# The count of workers with a week credibly over the limit (`overworked_counts`), and the
# threshold at which its weeks' p-values are conditionalized: 1/2 keeps exactly the weeks
# measured over 48 h (t > 0), the only ones that can be evidence of a week over the limit.
OVERWORKED = "workers_over_48h"
CONDITIONAL_THRESHOLD = 0.5
# measure: (numerator, denominator) of per-worker sums
MEASURES = {
    "average_weekly_hours": ("hours", "weeks"),
    "share_weeks_over_48h": ("weeks_over_48h", "weeks"),
    "long_stretches_per_week": ("long_stretches", "weeks"),
    "night_share": ("night_hours", "hours"),
    "sensitive_hours_per_week": ("sensitive_hours", "weeks"),
}


def night_seconds_before(local_seconds: np.ndarray) -> np.ndarray:
    """Seconds of night (22:00-06:00) from the epoch to each local time given in seconds since
    the epoch of local clock time: the night seconds of [a, b) are `f(b) - f(a)`.

    >>> night_seconds_before(np.array([0, 6 * 3600, 23 * 3600, 86_400 + 3600])) / 3600
    array([0., 6., 7., 9.])
    """
    days, second = np.divmod(local_seconds, DAY)
    morning = np.minimum(second, NIGHT_TO_HOUR * 3600)
    evening = np.maximum(second - NIGHT_FROM_HOUR * 3600, 0)
    return days * (NIGHT_TO_HOUR + 24 - NIGHT_FROM_HOUR) * 3600 + morning + evening


def week_over_limit_p(hours: np.ndarray, days: np.ndarray, day_sd: np.ndarray) -> np.ndarray:
    """One-sided p-values that weeks of `hours` worked over `days` days (hours per day with
    standard deviation `day_sd`) are over the weekly limit beyond day-to-day variation: a
    one-sample t-test of the days' hours against `WEEKLY_LIMIT_HOURS / days`, i.e.
    `t = (hours - 48) / (sqrt(days) * day_sd)` on `days - 1` degrees of freedom. A week of one
    day (no variation to judge by) gives 1; days all alike, 0 when over the limit.

    >>> hours, days, day_sd = np.array([66.0, 50, 60]), np.array([6, 2, 1]), np.array([1, 10, 0])
    >>> week_over_limit_p(hours, days, day_sd).round(4).tolist()
    [0.0004, 0.4553, 1.0]
    """
    hours, days, day_sd = (np.asarray(x, dtype=np.float64) for x in (hours, days, day_sd))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (hours - WEEKLY_LIMIT_HOURS) / (np.sqrt(days) * day_sd)
        p = stats.t.sf(t, np.maximum(days - 1, 1))
    return np.where((days >= 2) & ~np.isnan(p), p, 1.0)


def worker_workload(
    work: pl.DataFrame,
    time_zones: pl.DataFrame | None = None,
    sensitive_task_types: Sequence[str] = (),
) -> pl.DataFrame:
    """Per worker: `hours`, `weeks` worked, `weeks_over_48h`, `long_stretches` (over 4 hours
    without a 15-minute break), `night_hours`, `sensitive_hours` (task time on
    `sensitive_task_types`) and `over_48h_p`: the one-sided p-values (`week_over_limit_p`,
    ascending) of their weeks over 48 hours."""
    if "active_seconds" not in work.columns:
        work = work.with_columns(active_seconds=pl.lit(None, pl.Float64))
    tasks = work_intervals(work)
    if "sensitive" in work.columns:  # said per task already
        sensitive = pl.col("sensitive").fill_null(False)
    elif "task_type" in work.columns:
        sensitive = pl.col("task_type").is_in(list(sensitive_task_types))
    else:
        sensitive = pl.lit(False)
    # a pause shorter than a break continues the stretch; assign_sessions joins at its gap
    just_under = BREAK_MINUTES - 1 / 60_000_000
    timed = assign_sessions(tasks.with_columns(sensitive=sensitive), just_under, ["worker_id"])
    stretches = (
        timed.with_columns(
            stretch=pl.col("session_start").cast(pl.Int32).cum_sum().over("worker_id")
        )
        .group_by("worker_id", "stretch")
        .agg(
            start=pl.col("work_start").min(),
            end=pl.col("work_end").max(),
            sensitive=pl.col("covered_seconds").filter(pl.col("sensitive")).sum(),
        )
    )
    local = _local_times(stretches, time_zones)
    seconds = (pl.col("end") - pl.col("start")).dt.total_seconds(fractional=True)
    night = night_seconds_before(local["local_end"].to_numpy()) - night_seconds_before(
        local["local_start"].to_numpy()
    )
    local = local.with_columns(seconds=seconds, night=pl.Series(night, dtype=pl.Float64))
    days = local.group_by("worker_id", "week", day=pl.col("local_start") // DAY).agg(
        hours=pl.col("seconds").sum() / 3600
    )
    weeks = days.group_by("worker_id", "week").agg(
        hours=pl.col("hours").sum(), days=pl.len(), day_sd=pl.col("hours").std()
    )
    over = weeks.filter(pl.col("hours") > WEEKLY_LIMIT_HOURS)
    tested = over.with_columns(
        p=pl.Series(
            week_over_limit_p(*(over[c].to_numpy() for c in ("hours", "days", "day_sd"))),
            dtype=pl.Float64,
        )
    )
    per_worker = weeks.group_by("worker_id").agg(
        weeks=pl.len(), weeks_over_48h=(pl.col("hours") > WEEKLY_LIMIT_HOURS).sum()
    )
    per_worker = per_worker.join(
        tested.group_by("worker_id").agg(over_48h_p=pl.col("p").sort()), on="worker_id", how="left"
    ).with_columns(pl.col("over_48h_p").fill_null(pl.lit([], pl.List(pl.Float64))))
    totals = local.group_by("worker_id").agg(
        hours=pl.col("seconds").sum() / 3600,
        long_stretches=(pl.col("seconds") > LONG_STRETCH_HOURS * 3600).sum(),
        night_hours=pl.col("night").sum() / 3600,
        sensitive_hours=pl.col("sensitive").sum() / 3600,
    )
    return totals.join(per_worker, on="worker_id").sort("worker_id")


def workload(
    work: pl.DataFrame,
    attributes: pl.DataFrame,
    attribute: str,
    reference: str | None = None,
    *,
    time_zones: pl.DataFrame | None = None,
    sensitive_task_types: Sequence[str] = (),
    settings: AuditSettings = AuditSettings(),
) -> list[Finding]:
    """Findings of one attribute: for each measure of `MEASURES`, everyone's level (group
    `all`), each group's level and each other group's difference to the reference; and
    `OVERWORKED`."""
    per_worker = worker_workload(work, time_zones, sensitive_task_types)
    return workload_by_group(per_worker, attributes, attribute, reference, settings=settings)


def workload_by_group(
    per_worker: pl.DataFrame,
    attributes: pl.DataFrame,
    attribute: str,
    reference: str | None = None,
    *,
    settings: AuditSettings = AuditSettings(),
) -> list[Finding]:
    """`workload` from the workers' `worker_workload` (sorted by worker: the draws follow the
    rows' order), however it was computed (all at once, or a group of workers at a time)."""
    workers = with_groups(per_worker, attributes, attribute)
    group = workers["group"].to_list()
    everyone = replace(settings, permutations=0)
    found: list[Finding] = []
    for measure, (numerator, denominator) in MEASURES.items():
        num, den = workers[numerator].to_numpy(), workers[denominator].to_numpy()
        total = compare_rates(num, den, [ALL_GROUPS] * len(num), settings=everyone)
        found += comparison_findings(total, AUDIT, attribute, measure)
        c = compare_rates(num, den, group, reference, settings)
        reference = c.reference
        found += comparison_findings(c, AUDIT, attribute, measure, f"{measure}_difference")
    counts = overworked_counts(workers, attribute, settings.alpha)
    return published(found, settings, _flag_and_explain, adjusted=counts)


def overworked_counts(workers: pl.DataFrame, attribute: str, alpha: float) -> list[Finding]:
    """`OVERWORKED` per group and for everyone: how many of the workers (rows of
    `worker_workload` with their `group`) worked a week credibly over the limit. Each week over
    48 hours is tested (`week_over_limit_p`), all weeks of all these workers one family,
    conditionalized at `CONDITIONAL_THRESHOLD` then Holm-adjusted: a worker counts when one of
    their weeks has `p_adjusted < alpha`. A group's `p_value` and `p_adjusted` are the smallest
    of its workers' weeks (the test that none of them is over), None when none is over 48 h;
    never a worker's own row."""
    if workers.is_empty():
        return []
    weeks = workers.select("worker_id", "group", p="over_48h_p").explode("p").drop_nulls("p")
    kept, adjusted = conditionalized_holm(weeks["p"].to_list(), CONDITIONAL_THRESHOLD)
    tested = weeks.with_columns(
        p=pl.Series(kept, dtype=pl.Float64), q=pl.Series(adjusted, dtype=pl.Float64)
    ).drop_nulls("p")
    family = tested.height
    per_worker = tested.group_by("worker_id", "group").agg(pl.col("p", "q").min())
    sizes = workers.group_by("group").len()
    everyone = [(ALL_GROUPS, workers.height, per_worker)]
    parts = everyone + [
        (g, n, per_worker.filter(pl.col("group") == g)) for g, n in sizes.sort("group").rows()
    ]
    out = []
    for group, n, mine in parts:
        over = int((mine["q"] < alpha).sum())
        p, q = (None, None) if mine.is_empty() else (mine["p"].min(), mine["q"].min())
        reason = (
            f"{over} of the {n} workers of '{group}' worked a week credibly over "
            f"{WEEKLY_LIMIT_HOURS:g} h (one-sided t-test of each week's days, Holm over the "
            f"{family} weeks over {WEEKLY_LIMIT_HOURS:g} h"
            + ("" if q is None else f", smallest p_adj {rounded(q, 2)}")
            + ")"
        )
        out.append(Finding(AUDIT, attribute, group, None, OVERWORKED, float(over), None, None,
                           p, q, n, None, reason))  # fmt: skip
    return out


def _local_times(stretches: pl.DataFrame, time_zones: pl.DataFrame | None) -> pl.DataFrame:
    """Stretches with `local_start`, `local_end` (seconds since the epoch of the local clock)
    and `week` (Monday of the local week of the start)."""
    if time_zones is None:
        ids = stretches.schema["worker_id"]
        time_zones = pl.DataFrame(schema={"worker_id": ids, "time_zone": pl.String})
    zoned = stretches.join(
        time_zones.select("worker_id", "time_zone"), on="worker_id", how="left"
    ).with_columns(pl.col("time_zone").fill_null("UTC"))
    parts = []
    for (zone,), rows in zoned.partition_by("time_zone", as_dict=True).items():
        clock = {
            c: pl.col(c).dt.convert_time_zone(zone).dt.replace_time_zone(None)
            for c in ("start", "end")
        }
        parts.append(
            rows.with_columns(
                local_start=clock["start"].dt.epoch("s"),
                local_end=clock["end"].dt.epoch("s"),
                week=clock["start"].dt.truncate("1w").dt.date(),
            )
        )
    if not parts:  # no work at all
        none = {"local_start": pl.Int64, "local_end": pl.Int64, "week": pl.Date}
        parts = [zoned.with_columns(pl.lit(None, dtype).alias(c) for c, dtype in none.items())]
    return pl.concat(parts).drop("time_zone")


def _flag_and_explain(f: Finding, alpha: float) -> Finding:
    """Flag an average week over 48 hours, workers with a week credibly over it, and a
    significant difference between groups."""
    name = measure_name(f.measure)
    if name == OVERWORKED:
        over = f.p_adjusted is not None and f.p_adjusted < alpha
        return replace(f, flag="overworked" if over else None)
    what = name.replace("_", " ").replace("48h", "48 h")
    if f.reference is None:
        over = name == "average_weekly_hours" and f.estimate is not None
        flag = "over_48h" if over and f.estimate > WEEKLY_LIMIT_HOURS else None
        reason = (
            f"{what} of '{f.group}': {rounded(f.estimate)} over {f.n} workers {interval_text(f)}"
        )
        if flag:
            reason += (
                f"; over the {WEEKLY_LIMIT_HOURS:g}-hour average week (EU Working Time Directive)"
            )
        return replace(f, flag=flag, reason=reason)
    flag = "workload_gap" if f.p_adjusted is not None and f.p_adjusted < alpha else None
    reason = f"{what.replace(' difference', '')} of '{f.group}' minus '{f.reference}': "
    reason += f"{rounded(f.estimate)} {interval_text(f)}"
    return replace(f, flag=flag, reason=reason)
