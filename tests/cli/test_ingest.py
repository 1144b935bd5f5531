"""`crowdmeter ingest` on a folder: files that are no exports are listed as skipped with the
reason and the run succeeds; the same file named explicitly fails loudly."""

from __future__ import annotations

import json
from pathlib import Path

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
