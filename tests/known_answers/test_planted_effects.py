"""Known answers: the metrics find what the simulator planted (truth.json), from the warehouse
an ordinary ingest of the simulated exports builds."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from cli.main import main
from etl.load import ingest
from etl.pseudonym import pseudonymise
from etl.reader import SnapshotReader
from etl.settings import load_settings
from metrics.fairness.findings import ALL_GROUPS, FIELDS, NOT_STATED, Finding
from metrics.pay import effective_wages, payment_delays
from metrics.quality import gold_accuracy, rejection_rate
from metrics.sessions import sessions
from simulate.workforce import simulate

KEY = "known-answer-key"
SCALE = 0.5  # enough workers per group for the planted effects, small enough for seconds


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, SnapshotReader]:
    """One simulated workforce, ingested like the demo does it."""
    root = tmp_path_factory.mktemp("known")
    truth = simulate(root / "exports", seed=7, scale=SCALE).as_dict()
    mp = pytest.MonkeyPatch()
    mp.setenv("CROWDMETER_PSEUDONYM_KEY", KEY)
    settings = load_settings(root / "exports" / "config.toml", data_dir=root / "data")
    report = ingest(settings, [root / "exports" / f["path"] for f in truth["files"]])
    mp.undo()
    assert report.status == "succeeded"
    return truth, SnapshotReader(settings)


def pseudonym(ref: dict) -> str:
    return pseudonymise(ref["platform"], ref["raw_id"], KEY.encode())


def test_weak_annotators_are_at_the_bottom_of_gold_accuracy(world):
    truth, reader = world
    answers = reader.frame(
        """SELECT a.platform, a.worker_id AS coder, n.value,
                  coalesce(n.gold_value, i.gold_value) AS gold
           FROM assignments a JOIN annotations n USING (assignment_uid)
           LEFT JOIN items i USING (platform, project_id, item_id)
           WHERE a.platform IN ('toloka', 'appen')"""
    )
    table = gold_accuracy(answers, by=["platform", "coder"]).filter(pl.col("n_gold") >= 30)
    planted = truth["planted"]["weak_annotators"]
    for platform in ("toloka", "appen"):
        weak = {pseudonym(w) for w in planted if w["platform"] == platform}
        ranked = table.filter(pl.col("platform") == platform).sort("accuracy")
        assert set(ranked["coder"].head(len(weak))) == weak
        floor = truth["planted"]["regular_gold_accuracy_floor"][platform]
        assert ranked.filter(~pl.col("coder").is_in(list(weak)))["accuracy"].min() == (
            pytest.approx(floor, abs=0.02)
        )
    found = dict(zip(table["coder"], table["accuracy"], strict=True))
    for w in planted:
        assert found[pseudonym(w)] == pytest.approx(w["realized_gold_accuracy"], abs=0.02)


def test_late_platform_has_the_planted_payment_delay(world):
    truth, reader = world
    late = truth["planted"]["late_platform"]
    delays = payment_delays(
        reader.frame("SELECT * FROM assignments"),
        reader.frame("SELECT * FROM earnings"),
        by=["platform"],
    )
    median = {
        platform: days
        for platform, days in zip(delays["platform"], delays["median_delay_days"], strict=True)
        if days is not None
    }
    assert median[late["platform"]] == max(median.values())
    for platform, days in late["realized_median_delay_days"].items():
        assert median[platform] == pytest.approx(days, abs=1.0)
    low, _ = late["planted_delay_days"][late["platform"]]
    assert median[late["platform"]] >= low


def test_overworked_weeks_are_found_from_sessions(world):
    truth, reader = world
    work = reader.frame(
        "SELECT worker_id, platform, started_at, submitted_at, active_seconds FROM assignments"
        " WHERE platform IN ('mturk', 'toloka')"
    )
    weekly = (
        sessions(work, gap_minutes=1.0)
        .with_columns(week=pl.col("started_at").dt.truncate("1w").dt.date())
        .group_by("worker_id", "week")
        .agg(hours=pl.col("seconds").sum() / 3600)
    )
    over = weekly.filter(pl.col("hours") > 48)
    planted = truth["planted"]["overwork"]["workers"]
    expected = {(pseudonym(w), week) for w in planted for week in w["weeks_over_48h"]}
    found = {(worker, week.isoformat()) for worker, week in over.select("worker_id", "week").rows()}
    assert found == expected


def test_demo_freelancer_wages_match_the_truth(world):
    truth, reader = world
    freelancer = truth["demo_freelancer"]
    ids = [pseudonymise(p, raw, KEY.encode()) for p, raw in freelancer["ids"].items()]
    params = [ids]
    where = "WHERE list_contains(?, worker_id)"
    wages = effective_wages(
        reader.frame(f"SELECT * FROM assignments {where}", params),
        reader.frame(f"SELECT * FROM time_entries {where}", params),
        reader.frame(f"SELECT * FROM earnings {where}", params),
        reader.frame("SELECT currency, day, usd_per_unit FROM fx_rates"),
        {p["platform"]: p["worker_fee_rate"] for p in truth["platforms"]},
        by=["platform"],
        gap_minutes=1.0,
        reporting_currency="USD",
    )
    found = {row["platform"]: row for row in wages.iter_rows(named=True)}
    for platform, expected in freelancer["expected"].items():
        row = found[platform]
        assert row["net_earnings"] == pytest.approx(expected["earnings"], rel=0.01), platform
        assert row["paid_time_wage"] == pytest.approx(
            expected["paid_time_hourly_wage"], rel=0.03
        ), platform
        assert row["effective_wage"] == pytest.approx(
            expected["effective_hourly_wage"], rel=0.05
        ), platform


def test_slipping_project_is_behind_its_milestone(world):
    truth, reader = world
    slip = truth["planted"]["slipping_project"]
    # accepted items by the end of the due day, as the simulator plans and the marts count them
    done = reader.frame(
        """SELECT sum(units)::BIGINT AS items FROM mart_project_daily
           WHERE platform = ? AND project_id = ? AND day <= ?::DATE""",
        [slip["platform"], slip["project_id"], slip["due_on"]],
    ).item()
    target = reader.frame(
        "SELECT target_items FROM milestones WHERE platform = ? AND project_id = ? AND name = ?",
        [slip["platform"], slip["project_id"], slip["milestone"]],
    ).item()
    assert target == slip["target_items"]
    assert done == pytest.approx(slip["items_done_by_due"], rel=0.01)
    assert done < 0.95 * target


def test_exports_match_the_truth_files(world):
    truth, reader = world
    files = reader.frame("SELECT path, rows_rejected, status FROM etl_files")
    assert files["rows_rejected"].sum() == 0
    assert set(files["status"]) == {"loaded"}
    assert len(files) == len(truth["files"])
    assert all(Path(p).name for p in files["path"])
    assert json.dumps(truth["planted"])  # truth.json stays plain JSON


def test_pay_gap_by_self_reported_gender_is_the_planted_one(world):
    truth, reader = world
    gap = truth["planted"]["pay_gap"]
    ledger_inputs = {
        name: reader.frame(f"SELECT * FROM {name} WHERE platform = 'mturk'")
        for name in ("assignments", "time_entries", "earnings")
    }
    wages = effective_wages(
        ledger_inputs["assignments"],
        ledger_inputs["time_entries"],
        ledger_inputs["earnings"],
        reader.frame("SELECT currency, day, usd_per_unit FROM fx_rates"),
        {"mturk": 0.0},
        by=["worker_id"],
        gap_minutes=1.0,
        reporting_currency="USD",
    )
    groups = reader.frame(
        f"SELECT worker_id, attributes->>'{gap['attribute']}' AS grp FROM workers"
        " WHERE platform = 'mturk'"
    )
    medians = (
        wages.join(groups, on="worker_id")
        .filter(pl.col("paid_time_wage").is_not_null())
        .group_by("grp")
        .agg(pl.col("paid_time_wage").median(), pl.len().alias("workers"))
    )
    median = dict(zip(medians["grp"], medians["paid_time_wage"], strict=True))
    ratio = median[gap["group"]] / median[gap["reference_group"]]
    assert ratio == pytest.approx(gap["realized_paid_time_median_wage_ratio"], abs=0.01)
    assert ratio == pytest.approx(gap["planted_median_wage_ratio"], abs=0.1)


def test_label_bias_against_the_dialect_group_shows_on_gold(world):
    truth, reader = world
    bias = truth["planted"]["label_bias"]
    answers = reader.frame(
        f"""SELECT i.attributes->>'{bias["attribute"]}' AS grp, n.value, i.gold_value AS gold
            FROM assignments a JOIN annotations n USING (assignment_uid)
            JOIN items i USING (platform, project_id, item_id)
            WHERE a.platform = ? AND i.gold_value = 'not_toxic'""",
        [bias["platform"]],
    )
    table = gold_accuracy(answers, by=["grp"])
    rows = {r["grp"]: r for r in table.iter_rows(named=True)}
    targeted, others = rows[bias["group"]], rows["sae"]
    assert targeted["ci_high"] < others["ci_low"]  # more false "toxic" for the dialect group
    for group, row in rows.items():
        false_positive = bias["realized_false_positive_rate"][group]
        assert 1 - row["ci_high"] <= false_positive <= 1 - row["ci_low"], group


def test_biased_reviewer_stands_out_on_correct_work(world):
    """The reviewer rejects correct gold answers far more often than the other reviewers
    (the split by group is the next test)."""
    truth, reader = world
    planted = truth["planted"]["biased_reviewer"]
    reviewed = reader.frame(
        """SELECT a.reviewer_id, a.status, n.value, coalesce(n.gold_value, i.gold_value) AS gold
           FROM assignments a JOIN annotations n USING (assignment_uid)
           LEFT JOIN items i USING (platform, project_id, item_id)
           WHERE a.platform = ? AND a.reviewer_id IS NOT NULL AND NOT a.is_gold""",
        [planted["platform"]],
    )
    correct = reviewed.filter(pl.col("value") == pl.col("gold"))
    rates = {r["reviewer_id"]: r for r in rejection_rate(correct, by=["reviewer_id"]).to_dicts()}
    biased = rates.pop(pseudonym(planted))
    assert all(biased["ci_low"] > other["ci_high"] for other in rates.values())
    mine = next(r for r in planted["realized_by_reviewer"] if r["raw_id"] == planted["raw_id"])
    n_t, n_o = mine["targeted_correct_reviewed"], mine["others_correct_reviewed"]
    blended = (mine["targeted"] * n_t + mine["others"] * n_o) / (n_t + n_o)
    assert biased["ci_low"] <= blended <= biased["ci_high"]


def test_biased_reviewer_rejects_the_targeted_groups_correct_work_more(world):
    """With the annotators' self-reported group in the warehouse (Label Studio key paths), the
    reviewer's gap between groups on correct work is the planted one."""
    truth, reader = world
    planted = truth["planted"]["biased_reviewer"]
    reviewed = reader.frame(
        """SELECT a.reviewer_id, a.status, w.attributes ->> ? AS grp, n.value,
                  coalesce(n.gold_value, i.gold_value) AS gold
           FROM assignments a JOIN annotations n USING (assignment_uid)
           JOIN workers w USING (worker_id, platform)
           LEFT JOIN items i USING (platform, project_id, item_id)
           WHERE a.platform = ? AND a.reviewer_id = ? AND NOT a.is_gold""",
        [planted["attribute"], planted["platform"], pseudonym(planted)],
    )
    correct = reviewed.filter(pl.col("value") == pl.col("gold")).with_columns(
        targeted=pl.col("grp") == planted["against_group"]
    )
    rates = {r["targeted"]: r for r in rejection_rate(correct, by=["targeted"]).to_dicts()}
    assert rates[True]["ci_low"] > rates[False]["ci_high"]
    assert rates[True]["ci_low"] <= planted["planted_reject_rate_correct"]["targeted"]
    assert rates[False]["ci_low"] <= planted["planted_reject_rate_correct"]["others"]


def test_dawid_skene_without_gold_finds_the_weak_annotators(world):
    """Dawid-Skene on the answers alone (no gold) ranks the planted weak and spamming
    annotators of each platform at the bottom of its estimated accuracy."""
    from metrics.consensus import dawid_skene

    truth, reader = world
    answers = reader.frame(
        """SELECT a.platform, a.item_id AS unit, a.worker_id AS coder, n.value
           FROM assignments a JOIN annotations n USING (assignment_uid)
           WHERE a.platform IN ('toloka', 'appen') AND n.field IN ('relevance', 'sentiment')"""
    )
    for platform in ("toloka", "appen"):
        weak = {pseudonym(w) for w in truth["planted"]["weak_annotators"]
                if w["platform"] == platform}  # fmt: skip
        result = dawid_skene(answers.filter(pl.col("platform") == platform).drop("platform"))
        quality = result.worker_quality().sort("accuracy")
        bottom = set(quality["coder"].head(len(weak)).to_list())
        assert bottom == weak, (platform, quality.head(len(weak) + 2))


@pytest.fixture(scope="module")
def findings(world) -> dict[tuple[str, str, str, str], Finding]:
    """The fairness mart's findings on the world, by audit, attribute, group and measure."""
    _, reader = world
    rows = reader.frame("SELECT * FROM mart_fairness_findings").to_dicts()
    return {(r["audit"], r["attribute"], r["group"], r["measure"]): Finding(**r) for r in rows}


def test_fairness_mart_flags_the_planted_label_bias(world, findings):
    truth, _ = world
    bias = truth["planted"]["label_bias"]
    scope = f"field={bias['platform']}:{export_project('toxicity', truth)}/toxic"
    ratio = findings[("label_bias", bias["attribute"], bias["group"],
                      f"false_positive_rate_ratio@{scope}")]  # fmt: skip
    assert ratio.flag == "disparity" and ratio.p_adjusted < 0.01
    rates = bias["realized_false_positive_rate"]
    for group, realized in rates.items():
        level = findings[("label_bias", bias["attribute"], group, f"false_positive_rate@{scope}")]
        assert level.ci_low <= realized <= level.ci_high, group


def test_fairness_mart_suppresses_small_groups_and_their_complement(findings):
    """Label Studio has one or two non-binary annotators: hidden, with "not stated" as the
    complement rather than a group of stated answers, which stay visible."""
    scope = "rejection_rate_gold_correct"
    small = findings[("review_fairness", "gender", "nonbinary", scope)]
    beside = findings[("review_fairness", "gender", "not stated", scope)]
    assert small.flag == beside.flag == "suppressed" and small.estimate is None
    assert "subtraction" in beside.reason
    for group in ("woman", "man"):
        assert findings[("review_fairness", "gender", group, scope)].estimate is not None


def test_every_planted_effect_is_flagged_on_the_published_table(world, findings):
    """Pay gap, biased reviewer, label bias and overworked workers each flagged at
    p_adjusted < 0.01 in `mart_fairness_findings` as publish wrote it (min_group_size 5, the
    simulator's config)."""
    truth, reader = world
    planted = truth["planted"]
    gap = planted["pay_gap"]
    pay = findings[("pay_equity", gap["attribute"], gap["group"], "median_ratio")]
    reviewer = planted["biased_reviewer"]
    scope = f"@reviewer={pseudonym(reviewer)}"
    review = [f for (a, attr, _, m), f in findings.items()
              if a == "review_fairness" and attr == reviewer["attribute"]
              and m == f"rejection_rate_gold_correct_difference{scope}"
              and f.flag is not None and f.flag != "suppressed"]  # fmt: skip
    bias = planted["label_bias"]
    field = f"field={bias['platform']}:{export_project('toxicity', truth)}/toxic"
    label = findings[("label_bias", bias["attribute"], bias["group"],
                      f"false_positive_rate_ratio@{field}")]  # fmt: skip
    assert len(review) == 1
    overworked = overworked_counts(planted["overwork"]["workers"], reader)
    assert overworked["gender"][ALL_GROUPS] >= 1 and overworked["age_band"][ALL_GROUPS] >= 1
    over = [findings[("workload", attribute, group, "workers_over_48h")]
            for attribute, groups in overworked.items() for group in groups]  # fmt: skip
    shown = [(f, "overworked") for f in over if f.flag != "suppressed"]
    for finding, flag in ((pay, "four_fifths"), (review[0], "reviewer_bias"), (label, "disparity"),
                          *shown):  # fmt: skip
        assert finding.flag == flag and finding.p_adjusted < 0.01, finding
    for attribute, groups in overworked.items():
        for group, count in groups.items():
            finding = findings[("workload", attribute, group, "workers_over_48h")]
            assert finding.estimate in (count, None), finding  # None: suppressed
    # nobody else: the groups without a planted overworked worker count none
    others = [f for (a, attr, g, m), f in findings.items()
              if m == "workers_over_48h" and g not in overworked.get(attr, {})]  # fmt: skip
    assert others and all(f.estimate in (0, None) and f.flag != "overworked" for f in others)


def overworked_counts(planted: list[dict], reader: SnapshotReader) -> dict[str, dict[str, int]]:
    """Per worker attribute, the planted overworked workers per group (and `all`), among the
    workers the attribute's audit covers (those of the platforms that record it)."""
    workers = reader.frame("SELECT worker_id, platform, attributes::VARCHAR AS a FROM workers")
    counts: dict[str, dict[str, int]] = {}
    for attribute in ("gender", "age_band"):
        answers = workers.with_columns(answer=pl.col("a").str.json_path_match(f"$.{attribute}"))
        audited = set(answers.filter(pl.col("answer").is_not_null())["platform"])
        groups = dict(zip(answers["worker_id"], answers["answer"], strict=True))
        mine = [pseudonym(w) for w in planted if w["platform"] in audited]
        found = Counter(groups[w] if groups[w] else NOT_STATED for w in mine)
        counts[attribute] = {ALL_GROUPS: len(mine), **found}
    return counts


def test_fairness_audit_finds_the_biased_reviewer(world, findings):
    """Only the planted reviewer is flagged, and the targeted group's correct work is the one
    rejected more (whichever group is the reference)."""
    truth, _ = world
    planted = truth["planted"]["biased_reviewer"]
    measure = "rejection_rate_gold_correct_difference@reviewer="
    flagged = {(m.removeprefix(measure), f.reference, g, f.estimate)
               for (a, _, g, m), f in findings.items()
               if m.startswith(measure) and f.flag == "reviewer_bias"}  # fmt: skip
    assert {r for r, *_ in flagged} == {pseudonym(planted)}
    target = planted["against_group"]
    for _, reference, group, estimate in flagged:
        assert target in (reference, group)
        assert (estimate > 0) == (group == target)


def test_fairness_audit_shows_the_planted_pay_gap(world, findings):
    gap = world[0]["planted"]["pay_gap"]
    ratio = findings[("pay_equity", gap["attribute"], gap["group"], "median_ratio")]
    assert ratio.reference == gap["reference_group"]
    assert ratio.ci_low < gap["realized_paid_time_median_wage_ratio"] < ratio.ci_high < 0.8
    # the gap is the better-paid project's: with the project as a control, little is left
    adjusted = findings[("pay_equity", gap["attribute"], gap["group"], "adjusted_gap")]
    assert abs(adjusted.estimate) < 0.05 and adjusted.flag is None


def test_fairness_audit_counts_the_overworked_weeks(world, findings):
    """Gender is recorded on MTurk and Label Studio: its workload audit covers their workers,
    and the overworked weeks are the MTurk workers'."""
    truth, reader = world
    planted = truth["planted"]["overwork"]["workers"]
    mturk = [w for w in planted if w["platform"] == "mturk"]
    weeks = sum(len(w["weeks_over_48h"]) for w in mturk)
    share = findings[("workload", "gender", "all", "share_weeks_over_48h")]
    worker_weeks = reader.frame(
        "SELECT count(DISTINCT (worker_id, date_trunc('week', timezone('UTC', started_at))))"
        " FROM assignments WHERE platform IN ('mturk', 'labelstudio')"
    ).item()
    assert share.estimate * worker_weeks == pytest.approx(weeks, abs=0.5)


def export_project(simulated_as: str, truth: dict) -> str:
    return next(p["project_id"] for p in truth["projects"] if p["simulated_as"] == simulated_as)


def test_audit_command_prints_the_mart_flagged_first(world, capsys):
    _, reader = world
    code = main(["--data-dir", str(reader.settings.data_dir), "audit", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload
    assert all(set(f) == set(FIELDS) for f in payload)
    flags = [f["flag"] for f in payload]
    flagged = [f not in (None, "suppressed") for f in flags]
    assert flagged == sorted(flagged, reverse=True)  # flagged first
    code = main(["--data-dir", str(reader.settings.data_dir), "audit", "--attribute", "dialect"])
    out = capsys.readouterr().out
    assert code == 0 and "disparity" in out and "gender" not in out
    code = main(["--data-dir", str(reader.settings.data_dir), "audit", "--attribute", "hair"])
    assert code == 2 and "dialect" in capsys.readouterr().err


def test_fairness_report_is_self_contained_and_names_its_inputs(world, tmp_path, capsys):
    _, reader = world
    out = tmp_path / "fairness.html"
    code = main(["--data-dir", str(reader.settings.data_dir), "report", "fairness", "--out",
                 str(out)])  # fmt: skip
    assert code == 0
    html = out.read_text()
    assert not re.search(r"<script[^>]+src=", html)  # plotly.js inline: opens offline
    assert "Flagged findings" in html and "disparity" in html
    sha = reader.frame("SELECT sha256 FROM etl_files ORDER BY file_id LIMIT 1").item()
    assert sha in html and "fairness.permutations" in html  # the files and settings behind it
    assert "Holm" in html  # the methodology travels with it
