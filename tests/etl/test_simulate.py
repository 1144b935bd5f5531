"""The workforce simulator: same seed same bytes, a truth file that lists every planted effect, a
config that maps what it wrote, and exports every importer reads without a reject."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tomllib
from datetime import date
from pathlib import Path

import pytest

from etl.settings import load_settings
from simulate.workforce import simulate

SMALL = 0.1  # ~30 workers: seconds, not minutes


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "out"
    simulate(out, seed=11, scale=SMALL)
    return out


def test_same_seed_gives_the_same_bytes(small_run, tmp_path):
    again = tmp_path / "again"
    simulate(again, seed=11, scale=SMALL)
    assert digests(again) == digests(small_run)


def test_another_seed_gives_other_data(small_run, tmp_path):
    other = tmp_path / "other"
    simulate(other, seed=12, scale=SMALL)
    mine, theirs = digests(small_run), digests(other)
    assert mine.keys() == theirs.keys()
    assert (
        mine["toloka/assignments_from_pool_42774131__30-06-2025.tsv"]
        != (theirs["toloka/assignments_from_pool_42774131__30-06-2025.tsv"])
    )


def test_a_second_run_into_the_same_folder_leaves_nothing_of_the_first(small_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small_run, out)
    # what a bigger earlier run leaves: more freelancers' logs
    (out / "earnings" / "earnings_freelancer99.csv").write_text("date,platform\n")
    simulate(out, seed=11, scale=SMALL)
    assert digests(out) == digests(small_run)


def test_dates_end_on_the_end_date(tmp_path):
    truth = simulate(tmp_path / "out", seed=11, scale=SMALL, end_date=date(2024, 2, 29))
    assert (truth.first_day, truth.end_date) == ("2023-12-02", "2024-02-29")
    toggl = (tmp_path / "out/toggl/Toggl_time_entries_2023-12-02_to_2024-02-29.csv").read_text()
    assert '"2024-02-29"' in toggl and '"2024-03-01"' not in toggl


def test_truth_lists_every_planted_effect(small_run):
    truth = json.loads((small_run / "truth.json").read_text())
    planted = truth["planted"]
    assert set(planted) >= {
        "pay_gap",
        "biased_reviewer",
        "weak_annotators",
        "label_bias",
        "slipping_project",
        "scope_change",
        "late_platform",
        "overwork",
    }
    assert planted["pay_gap"]["planted_median_wage_ratio"] < 0.85
    assert planted["label_bias"]["realized_false_positive_rate"]["aae"] > (
        planted["label_bias"]["realized_false_positive_rate"]["sae"] + 0.08
    )
    slip = planted["slipping_project"]
    assert slip["items_done_by_due"] < slip["target_items"]
    delays = planted["late_platform"]["realized_median_delay_days"]
    assert delays["outlier"] > 20 > 5 > delays["dataannotation"]
    assert all(w["weeks_over_48h"] for w in planted["overwork"]["workers"])
    assert planted["overwork"]["max_weekly_hours_of_others"] < 48


def test_the_planted_scope_change_is_in_the_plans_as_truth_says(small_run):
    change = json.loads((small_run / "truth.json").read_text())["planted"]["scope_change"]
    key = (change["platform"], change["project_id"])

    def rows(name: str) -> list[dict[str, str]]:
        with (small_run / "plans" / name).open() as fh:
            return [r for r in csv.DictReader(fh) if (r["platform"], r["project_id"]) == key]

    assert rows("scope_changes.csv") == [{
        "platform": change["platform"], "project_id": change["project_id"],
        "changed_on": change["changed_on"], "target_items": str(change["to_items"]),
        "reason": change["reason"],
    }]  # fmt: skip
    (plan,) = rows("projects.csv")
    assert int(plan["target_items"]) == change["from_items"] < change["to_items"]
    final = {r["name"]: int(r["target_items"]) for r in rows("milestones.csv")}
    assert final[change["final_milestone_follows"]] == change["to_items"]
    # still on track: the project's own pace delivers the raised scope before the due day
    assert change["days_needed_at_that_pace"] < change["days_left_to_final_due"]


def test_demo_freelancer_works_on_several_platforms(small_run):
    truth = json.loads((small_run / "truth.json").read_text())
    freelancer = truth["demo_freelancer"]
    assert set(freelancer["ids"]) == {"mturk", "toloka", "dataannotation", "outlier"}
    for platform, figures in freelancer["expected"].items():
        # unpaid time (searching, qualification tests, onboarding) lowers every platform's wage
        assert figures["tracked_hours"] > figures["paid_hours"] > 0, platform
        assert figures["effective_hourly_wage"] < figures["paid_time_hourly_wage"], platform
    assert truth["demo_manager_projects"]


def test_config_maps_the_files_it_came_with(small_run):
    settings = load_settings(small_run / "config.toml")
    truth = json.loads((small_run / "truth.json").read_text())
    user = truth["demo_freelancer"]["toggl_user"]
    ids = {f"{p}:{raw}" for p, raw in truth["demo_freelancer"]["ids"].items()}
    assert set(settings.toggl.user_worker[user]) == ids
    assert settings.toggl.client_platform["Toloka"] == "toloka"
    assert settings.source("toloka").item_attributes == {"dialect": "INPUT:dialect"}
    assert settings.source("mturk").worker_attributes["gender"] == "Answer.gender"
    assert settings.source("toloka").timezone == "Europe/Moscow"
    repo = tomllib.loads((Path(__file__).parents[2] / "config.toml").read_text())
    assert settings.agreement.seed == repo["agreement"]["seed"]


def test_every_export_ingests_without_a_reject(small_run, tmp_path, monkeypatch):
    from etl.load import ingest

    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    settings = load_settings(small_run / "config.toml", data_dir=tmp_path / "data")
    truth = json.loads((small_run / "truth.json").read_text())
    report = ingest(settings, [small_run / f["path"] for f in truth["files"]])
    problems = [
        (f.path, f.status, f.error, f.rows_rejected)
        for f in report.files
        if f.status == "failed" or f.rows_rejected
    ]
    assert problems == []
    assert {f.format for f in report.files} >= {
        "mturk", "toloka", "appen", "labelstudio", "prodigy", "toggl", "earnings",
    }  # fmt: skip


def test_dirty_file_rejects_what_truth_lists(small_run, tmp_path, monkeypatch):
    from etl.load import ingest

    monkeypatch.setenv("CROWDMETER_PSEUDONYM_KEY", "test-key")
    settings = load_settings(small_run / "config.toml", data_dir=tmp_path / "data")
    dirty = json.loads((small_run / "truth.json").read_text())["dirty"]
    report = ingest(settings, [small_run / dirty["path"]])
    from etl.reader import SnapshotReader

    rejects = SnapshotReader(settings).frame(
        "SELECT record_no, reason FROM etl_rejects ORDER BY record_no"
    )
    expected = dirty["expected_rejects"]
    assert rejects["record_no"].to_list() == [r["record_no"] for r in expected]
    for reason, wanted in zip(rejects["reason"], expected, strict=True):
        assert wanted["column"] in reason
    assert report.files[0].rows_rejected == len(expected)


def test_command_refuses_a_folder_holding_other_files(tmp_path, capsys):
    from cli.main import main

    (tmp_path / "notes.txt").write_text("mine")
    assert main(["simulate", str(tmp_path), "--scale", "0.1"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["simulate", str(tmp_path / "new"), "--scale", "0"]) == 2
    assert "--scale must be at least 0.1" in capsys.readouterr().err


def test_a_scale_too_small_for_the_planted_effects_is_refused(tmp_path, capsys):
    from cli.main import main

    assert main(["simulate", str(tmp_path / "out"), "--scale", "0.05"]) == 2
    assert "at least 0.1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


FAIRNESS_EFFECTS = ("pay_gap", "biased_reviewer", "label_bias", "overwork")


def test_no_effects_is_the_same_workforce_with_no_fairness_effect(small_run, tmp_path):
    truth = simulate(tmp_path / "none", seed=11, scale=SMALL, effects=False).as_dict()
    assert truth["effects"] is False
    assert all(truth["planted"][name] is None for name in FAIRNESS_EFFECTS)
    assert truth["planted"]["weak_annotators"]  # the other effects stay
    survey = next(p for p in (small_run / "mturk").iterdir() if p.name.startswith("about-you"))
    # the same people answered the same survey
    assert (tmp_path / "none" / "mturk" / survey.name).read_bytes() == survey.read_bytes()
    assert json.loads((small_run / "truth.json").read_text())["effects"] is True


def test_no_effects_population_plants_nothing():
    from simulate.model import NEUTRAL_QUALIFIED_SHARE, QUALIFIED_SHARE, build_population

    planted = build_population(11, 1.0, date(2025, 6, 30)).workers
    neutral = build_population(11, 1.0, date(2025, 6, 30), effects=False).workers
    for name in ("raw_id", "gender", "country", "speed", "accuracy", "join_day"):
        assert (getattr(planted, name) == getattr(neutral, name)).all(), name
    assert {"overworked", "biased_reviewer"} <= set(planted.role)
    assert not {"overworked", "biased_reviewer"} & set(neutral.role)
    mturk = neutral.platform == "mturk"
    # one rate for everyone: the planted gap's men and women are far apart, these are not
    rates = {g: neutral.qualified[mturk & (neutral.gender == g)].mean() for g in ("man", "woman")}
    assert QUALIFIED_SHARE["man"] - QUALIFIED_SHARE["woman"] > 0.5
    assert all(abs(r - NEUTRAL_QUALIFIED_SHARE) < 0.2 for r in rates.values()), rates


def test_simulate_command_takes_no_effects(tmp_path, capsys):
    from cli.main import main

    code = main(["simulate", str(tmp_path / "out"), "--seed", "3", "--scale", "0.1",
                 "--no-effects", "--json"])  # fmt: skip
    assert code == 0 and json.loads(capsys.readouterr().out)["effects"] is False
    assert json.loads((tmp_path / "out" / "truth.json").read_text())["planted"]["pay_gap"] is None


def test_no_simulated_work_is_dated_after_the_moment_it_was_made(tmp_path, capsys):
    from datetime import UTC, datetime

    from cli.main import main
    from simulate import end_date_problem, last_whole_day

    # a demo built at 02:07 UTC on 7 December simulates up to the end of 6 December
    built = datetime(2026, 12, 7, 2, 7, tzinfo=UTC)
    assert last_whole_day(built) == date(2026, 12, 6)
    assert end_date_problem(date(2026, 12, 6), built) is None
    assert "not over yet" in end_date_problem(date(2026, 12, 7), built)
    today = datetime.now(UTC).date().isoformat()
    assert main(["simulate", str(tmp_path / "out"), "--end-date", today]) == 2
    assert "not over yet" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
