"""`crowdmeter ingest` on a folder: files that are no exports are listed as skipped with the
reason and the run succeeds; the same file named explicitly fails loudly."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cli.main import main

MTURK = (
    "HITId,HITTypeId,Reward,AssignmentId,WorkerId,AssignmentStatus,AcceptTime,SubmitTime\n"
    "H1,T1,$0.10,A1,W1,Approved,2024-01-01T10:00:00Z,2024-01-01T10:01:00Z\n"
)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    (folder / "mturk").mkdir(parents=True)
    (folder / "mturk" / "batch.csv").write_text(MTURK)
    (folder / "config.toml").write_text('reporting_currency = "USD"\n')
    (folder / "truth.json").write_text(json.dumps({"seed": 7, "effects": []}))
    return folder


def test_a_folder_skips_what_is_no_export_and_says_why(tmp_path: Path, capsys) -> None:
    folder = _folder(tmp_path)
    code = main(["--data-dir", str(tmp_path / "d"), "ingest", str(folder), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["status"] == "succeeded"
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert by_name["batch.csv"]["status"] == "loaded"
    for name in ("config.toml", "truth.json"):
        assert by_name[name]["status"] == "skipped"
        assert "matches none of the formats" in by_name[name]["error"]


def test_the_text_summary_lists_skipped_files(tmp_path: Path, capsys) -> None:
    main(["--data-dir", str(tmp_path / "d"), "ingest", str(_folder(tmp_path))])
    out = capsys.readouterr().out
    assert "skipped" in out and "truth.json  (not an export:" in out


def test_a_file_named_explicitly_fails_loudly(tmp_path: Path, capsys) -> None:
    folder = _folder(tmp_path)
    code = main(["--data-dir", str(tmp_path / "d"), "ingest", str(folder / "truth.json")])
    assert code == 1
    assert "FAILED" in capsys.readouterr().err


def test_a_failed_figures_rebuild_still_reports_every_file(tmp_path: Path, capsys, monkeypatch):
    import etl.publish

    def fail(con, settings):
        raise RuntimeError("marts broke")

    monkeypatch.setattr(etl.publish, "build_marts", fail)
    folder = _folder(tmp_path)
    code = main(["--data-dir", str(tmp_path / "d"), "ingest", str(folder), "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 2
    assert {Path(f["path"]).name: f["status"] for f in report["files"]}["batch.csv"] == "loaded"
    assert "marts broke" in report["figures_error"] and "marts broke" in captured.err


def test_status_reads_as_a_person_reads_it(tmp_path: Path, capsys) -> None:
    data = str(tmp_path / "d")
    main(["--data-dir", data, "ingest", str(_folder(tmp_path))])
    capsys.readouterr()
    assert main(["--data-dir", data, "status"]) == 0
    out = capsys.readouterr().out
    assert "None" not in out and "+00:00" not in out and " UTC" in out
    assert "  1 platforms" in out  # platforms with work, as Overview counts them
    assert "latest activity 2024-01-01 10:01 UTC" in out


def test_status_of_a_file_that_does_not_exist_says_so(tmp_path: Path, capsys) -> None:
    data = str(tmp_path / "d")
    main(["--data-dir", data, "ingest", str(_folder(tmp_path))])
    capsys.readouterr()
    assert main(["--data-dir", data, "status", "--rejects", "99"]) == 2
    assert "No file 99" in capsys.readouterr().err
    assert main(["--data-dir", data, "status", "--rejects", "1"]) == 0
    assert "has no rejected records" in capsys.readouterr().out


RTE = (  # Snow et al.'s RTE layout: one row per (unit, worker) rating, with the unit's gold
    "!amt_annotation_ids\t!amt_worker_ids\torig_id\tresponse\tgold\n"
    "a1\tw1\t1\t1\t1\na2\tw2\t1\t1\t1\na3\tw3\t1\t0\t1\n"
    "a4\tw1\t2\t0\t0\na5\tw2\t2\t0\t0\na6\tw3\t2\t0\t0\n"
)
RTE_MAP = "unit=orig_id,worker=!amt_worker_ids,label=response,gold=gold,field=entailment"


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_a_long_format_table_loads_with_a_column_mapping(tmp_path: Path, capsys, suffix) -> None:
    import polars as pl

    path = tmp_path / f"rte{suffix}"
    frame = pl.read_csv(io.StringIO(RTE), separator="\t", infer_schema=False)
    frame.write_parquet(path) if suffix == ".parquet" else path.write_text(RTE)
    data = ["--data-dir", str(tmp_path / "d")]
    argv = [*data, "ingest", str(path), "--map", RTE_MAP, "--platform", "rte", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"][0]["rows_inserted"] > 0 and report["files"][0]["format"] == "longform"
    assert main([*data, "quality", "--json", "--bootstrap", "0"]) == 0
    (project,) = json.loads(capsys.readouterr().out)["projects"]
    assert project["platform"] == "rte" and project["n_assignments"] == 6
    assert project["gold"]["n_gold"] == 6 and project["gold"]["accuracy"] == pytest.approx(5 / 6)
    assert [f["field"] for f in project["fields"]] == ["entailment"]


def test_a_mapping_that_lacks_a_role_or_names_no_column_says_so(tmp_path: Path, capsys) -> None:
    path = tmp_path / "rte.tsv"
    path.write_text(RTE)
    data = ["--data-dir", str(tmp_path / "d")]
    assert main([*data, "ingest", str(path), "--map", "unit=orig_id,label=response"]) == 1
    assert "lacks worker" in capsys.readouterr().err
    assert main([*data, "ingest", str(path), "--map", "unit=x,worker=y,label=response"]) == 1
    assert "has no column unit=x, worker=y" in capsys.readouterr().err
    assert main([*data, "ingest", str(path), "--map", "unit"]) == 2
    assert "ROLE=COLUMN" in capsys.readouterr().err
