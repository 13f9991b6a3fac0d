"""Batch regrade of a Gradescope "Export Submissions" zip: every submission gets its row."""

import csv
import stat
import zipfile
from pathlib import Path

import pytest

from autograder.instructor import regrade
from kit import ROOT, solution_source

METADATA = """\
submission_101:
  :submitters:
  - :name: Ada Lovelace
    :email: ada@example.edu
    :sid: '001'
  :created_at: 2026-01-10 12:00:00.000000000 Z
  :score: 47.25
submission_102:
  :submitters:
  - :name: Alan Turing
    :email: alan@example.edu
    :sid: '002'
  :created_at: 2026-01-10 12:05:00.000000000 Z
  :score: 0.0
submission_103:
  submitters:
  - name: Grace Hopper
    email: grace@example.edu
    sid: '003'
submission_104:
  :submitters:
  - :name: Edsger Dijkstra
    :email: edsger@example.edu
    :sid: '004'
submission_105:
  :submitters:
  - :name: Missing Folder
    :email: missing@example.edu
    :sid: '005'
"""


def make_export(tmp_path: Path) -> Path:
    """A zip laid out like Gradescope's export: one wrapping folder, a folder per submission."""
    files = {
        "submission_101/tensors.py": solution_source("tensors"),
        "submission_102/hw/tensors (1).py": (ROOT / "assignments" / "tensors" / "tensors.py").read_text(),
        "submission_103/tensors.py": "def first_row(x:\n    return x[0]\n",
        "submission_104/tensors.py": "while True:\n    pass\n",
        "submission_metadata.yml": METADATA,
    }
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(f"assignment_42_export/{name}", text)
    return path


@pytest.mark.slow
def test_regrade_an_export_with_good_bad_and_hanging_submissions(tmp_path):
    out = tmp_path / "out"
    summary = regrade.regrade("tensors", make_export(tmp_path), out, jobs=2, timeout=300, call_timeout=3,
                              progress=False)
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["submission_id"]: row for row in csv.DictReader(handle)}
    assert list(rows) == ["101", "102", "103", "104", "105"]
    header = list(rows["101"])
    assert header[:8] == regrade.FIXED_COLUMNS and len(header) > 20 and header[8].startswith("1.1 ")

    best = rows["101"]
    assert (best["name"], best["email"], best["sid"], best["status"]) == ("Ada Lovelace", "ada@example.edu",
                                                                          "001", "graded")
    assert float(best["score"]) == float(best["max_score"]) > 30
    assert float(best[header[8]]) > 0
    assert rows["102"]["name"] == "Alan Turing" and float(rows["102"]["score"]) == 0
    assert rows["103"]["name"] == "Grace Hopper" and float(rows["103"]["score"]) == 0
    assert "import" in rows["103"]["reason"] or "syntax" in rows["103"]["reason"].lower()
    assert float(rows["104"]["score"]) == 0 and rows["104"]["reason"]
    assert rows["105"]["status"] == "missing" and "not in the export" in rows["105"]["reason"]

    for submission_id in ("submission_101", "submission_102", "submission_103", "submission_104",
                          "submission_105"):
        assert (out / submission_id / "results.json").is_file()
    text = (out / "summary.md").read_text()
    assert "Pass rate of each test" in text and "| 1.1 " in text and "Missing Folder" in text
    assert (out / "histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(summary.rows) == 5


def test_unsafe_zip_members_are_refused(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../escaped.py", "x = 1")
        archive.writestr("/absolute.py", "x = 1")
        link = zipfile.ZipInfo("submission_1/link.py")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("submission_1/tensors.py", "x = 1")
    warnings = regrade.safe_extract(path, tmp_path / "export")
    assert len(warnings) == 3, warnings
    assert not (tmp_path / "escaped.py").exists() and not Path("/absolute.py").exists()
    assert [p.name for p in (tmp_path / "export").rglob("*") if p.is_file()] == ["tensors.py"]


def test_metadata_keys_with_or_without_colons(tmp_path):
    (tmp_path / "submission_1").mkdir()
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: A\n    email: a@x\n")
    found, warnings = regrade.submissions(tmp_path)
    assert warnings == [] and [(s.id, s.names, s.emails) for s in found] == [("1", ["A"], ["a@x"])]


def test_status_comes_from_results_data_not_from_message_text():
    """A submission may print "was not graded"; only the grader's extra_data marks a crash."""
    assert regrade._status({"output": "", "extra_data": {"status": "grader_error"}, "tests": []}) == "crashed"
    assert regrade._status({"output": "Your submission was not graded (it said so itself)", "tests": []}) == "graded"
