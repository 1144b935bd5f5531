"""Importers on the real exports in ../shared/samples: counts pinned from the files themselves.

Every expected number was counted independently with the csv/json standard library (or by
reading the file); the test fails when an importer drops, invents or mislabels records.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from etl.sources import detect_format, parse_file
from etl.sources.base import UnreadableFile

# path, format, assignments, distinct workers, {status: count}, gold rows, annotations
ASSIGNMENT_SAMPLES = [
    ("mturk/pm990320_twitter-emotions__mturk_results.csv", "mturk", 180, 31,
     {"approved": 180}, 0, 180),
    ("mturk/abadias618_survey-cs6966__batch_results.csv", "mturk", 23, 6,
     {"submitted": 23}, 0, 69),
    ("toloka/uhh-lt_cam-arg-relevance__assignments_from_pool_42774131__05-02-2024.first200.tsv",
     "toloka", 200, 15, {"approved": 200}, 40, 200),
    ("appen_crowdflower/CrowdTruth-core__tutorial_data_relex-binary-choice.csv", "appen",
     150, 67, {"approved": 150}, 0, 150),
    ("appen_crowdflower/kliegr_rule-length-project__V1Guidelines_f791490.first200.csv", "appen",
     200, 86, {"approved": 200}, 0, 371),
    ("appen_crowdflower/kliegr_rule-length-project__mushroom_v1.1a_f854180.csv", "appen",
     90, 30, {"approved": 90}, 30, 167),
    ("label_studio/HumanSignal_label-studio-converter__test_export_csv_csv_test.json",
     "labelstudio", 2, 1, {"rejected": 2}, 0, 3),
    ("label_studio/HumanSignal_label-studio-converter__test_export_csv_csv_test_history.json",
     "labelstudio", 1, 1, {"submitted": 1}, 0, 1),
    ("label_studio/HumanSignal_label-studio-converter__test_export_json_min_data.json",
     "labelstudio", 1, 1, {"submitted": 1}, 0, 1),
    ("label_studio/javierosorio_LEOKA_ML__LEOKA_team_1.first30tasks.json", "labelstudio",
     89, 3, {"submitted": 89}, 30, 1195),
    ("labelbox/Labelbox_labelbox-python__tests_data_assets_labelbox_v1_image_export.json",
     "labelbox", 1, 1, {"submitted": 1}, 0, 18),
    ("labelbox/Labelbox_labelbox-python__tests_data_assets_labelbox_v1_text_export.json",
     "labelbox", 1, 1, {"submitted": 1}, 0, 6),
    ("prodigy/Ineichen-Group_PsyNamic__iaa_round1_50__prodigy_export_pia_50_20240418_20240509_110412.5-shared-items.jsonl",
     "prodigy", 5, 1, {"submitted": 5}, 0, 195),
    ("prodigy/vidosuba_slovak-NER__prodigy_jsonl_annotations_prod13.first12.jsonl", "prodigy",
     12, 1, {"submitted": 12}, 0, 256),
    ("doccano/fieryash_NER__file.json1.first40.jsonl", "doccano", 40, 1,
     {"submitted": 40}, 0, 1338),
    ("doccano/omogolomat_BSNER-BW__admin.first200.jsonl", "doccano", 200, 1,
     {"submitted": 200}, 0, 200),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "fmt", "assignments", "workers", "statuses", "gold", "annotations"),
    ASSIGNMENT_SAMPLES,
    ids=[s[0].split("/")[0] + ":" + s[0].split("__")[-1][:30] for s in ASSIGNMENT_SAMPLES],
)
def test_sample_assignments(
    shared_dir: Path,
    name: str,
    fmt: str,
    assignments: int,
    workers: int,
    statuses: dict[str, int],
    gold: int,
    annotations: int,
) -> None:
    path = shared_dir / "samples" / name
    assert detect_format(path) == fmt
    result = parse_file(path)
    frame = result.frames["assignments"]
    assert frame.height == assignments
    assert frame["worker_id"].n_unique() == workers
    assert dict(frame["status"].value_counts().iter_rows()) == statuses
    assert frame["is_gold"].sum() == gold
    assert result.frames["annotations"].height == annotations
    assert result.rejects.height == 0
    assert frame["assignment_uid"].is_unique().all()


def test_psynamic_annotators_are_told_apart_by_file_name(shared_dir: Path) -> None:
    # Four annotators exported the same five items; their Prodigy sessions are unnamed.
    files = sorted((shared_dir / "samples" / "prodigy").glob("Ineichen-Group_PsyNamic*.jsonl"))
    frames = [parse_file(f).frames["assignments"] for f in files]
    both = pl.concat(frames)
    assert both["worker_id"].n_unique() == 4
    assert both["item_id"].n_unique() == 5
    assert both["project_id"].n_unique() == 1  # the folder: the same project for all four


def test_pia_rejected_one_item_as_an_answer_not_a_review(shared_dir: Path) -> None:
    path = next((shared_dir / "samples" / "prodigy").glob("*pia_50*.jsonl"))
    answers = parse_file(path).frames["annotations"].filter(pl.col("field") == "answer")
    assert sorted(answers["value"].to_list()) == ["accept"] * 4 + ["reject"]


def test_mturk_sample_times_are_utc(shared_dir: Path) -> None:
    path = shared_dir / "samples" / "mturk" / "pm990320_twitter-emotions__mturk_results.csv"
    frame = parse_file(path).frames["assignments"].sort("record_no")
    first = frame.row(0, named=True)
    # 'Sat Feb 22 05:52:38 PST 2020' is 13:52:38 UTC; approval 06:10:32 PST is the payment.
    assert first["started_at"].isoformat() == "2020-02-22T13:52:38+00:00"
    assert first["paid_at"].isoformat() == "2020-02-22T14:10:32+00:00"
    assert str(first["reward"]) == "0.010000"
    assert first["project_id"] == "3930024"  # BatchId from RequesterAnnotation


def test_appen_sample_keeps_ids_as_text_and_drops_city(shared_dir: Path) -> None:
    path = shared_dir / "samples" / "appen_crowdflower"
    result = parse_file(path / "kliegr_rule-length-project__mushroom_v1.1a_f854180.csv")
    workers = result.frames["workers"]
    assert "-6822381399734128004" in workers["worker_id"].to_list()
    assert dict(workers["country"].value_counts().iter_rows()) == {"US": 16, "GB": 7, "CA": 7}
    assert result.frames["assignments"]["project_id"].unique().to_list() == ["854180"]
    for frame in result.frames.values():
        for column in frame.select(pl.col(pl.String)).columns:
            assert not frame[column].str.starts_with("City ").any(), column


def test_toggl_samples(shared_dir: Path) -> None:
    folder = shared_dir / "samples" / "toggl"
    expected = {"floresfdev": (217, 672994.0, 1), "rqcastro": (200, 674100.0, 18)}
    for path in sorted(folder.glob("*.csv")):
        entries, seconds, users = expected[path.name.split("_")[0]]
        result = parse_file(path)
        frame = result.frames["time_entries"]
        assert result.format == "toggl"
        assert frame.height == entries
        assert frame["seconds"].sum() == seconds
        assert frame["worker_id"].n_unique() == users
        assert frame["platform"].null_count() == entries  # no mapping configured
        assert frame["entry_uid"].is_unique().all()
        assert "map to no platform" in result.notes[0]


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("cvat/nextml-code_next-cvat__tests_mask_annotations.xml", "CVAT"),
        ("sagemaker_ground_truth/t04glovern_aws-ground-truth-cat-labels__output.manifest",
         "SageMaker"),
        ("labelbox/jsnmai_Okavango-Image-Classification__labels.first200.ndjson",
         "Include label details"),
    ],
)  # fmt: skip
def test_samples_without_per_worker_records_are_refused(
    shared_dir: Path, name: str, says: str
) -> None:
    with pytest.raises(UnreadableFile, match=says):
        parse_file(shared_dir / "samples" / name)
