"""Batch regrade of a Gradescope "Export Submissions" zip: every submission gets its row."""

import csv
import json
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
submission_106:
  :submitters:
  - :name: Barbara Liskov
    :email: barbara@example.edu
    :sid: '006'
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
        "submission_106/tensors.py": solution_source("tensors").replace("def first_row(x", "def first_row(x,,", 1),
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
    assert list(rows) == ["101", "102", "103", "104", "105", "106"]
    header = list(rows["101"])
    first_test = len(regrade.FIXED_COLUMNS)
    assert header[:first_test] == regrade.FIXED_COLUMNS and header[first_test].startswith("1.1 ")

    best = rows["101"]
    assert (best["name"], best["email"], best["sid"], best["status"]) == ("Ada Lovelace", "ada@example.edu",
                                                                          "001", "graded")
    assert float(best["score"]) == float(best["max_score"]) > 30
    assert float(best[header[first_test]]) > 0
    assert rows["102"]["name"] == "Alan Turing" and float(rows["102"]["score"]) == 0
    assert rows["103"]["name"] == "Grace Hopper" and float(rows["103"]["score"]) == 0
    assert rows["103"]["status"] == "not loaded" and "syntax" in rows["103"]["reason"].lower()
    assert float(rows["101"]["gradescope_score"]) == 47.25 and rows["101"]["submitted_at"].startswith("2026-01-10T12")
    assert float(rows["104"]["score"]) == 0 and rows["104"]["reason"]
    assert rows["105"]["status"] == "missing" and "not in the export" in rows["105"]["reason"]
    # one broken def: graded, and marked as data, not as "wrong" only
    assert rows["106"]["status"] == "partly loaded" and 0 < float(rows["106"]["score"]) < float(best["score"])
    assert "`def first_row(x,,: Tensor) -> Tensor:` has a syntax error" in rows["106"]["reason"]

    for submission_id in ("submission_101", "submission_102", "submission_103", "submission_104",
                          "submission_105", "submission_106"):
        assert (out / submission_id / "results.json").is_file()
    text = (out / "summary.md").read_text()
    assert "Pass rate of each test" in text and "| 1.1 " in text and "Missing Folder" in text
    assert text.index("differ from Gradescope") < text.index("Pass rate")  # 101: 47.25 on Gradescope
    assert (out / "histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(summary.rows) == 6


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
    assert warnings == [] and [(s.id, s.people) for s in found] == [("1", [regrade.Person("A", "a@x", "")])]


def test_status_comes_from_results_data_not_from_message_text():
    """A submission may print "was not graded"; only the grader's extra_data marks a crash."""
    assert regrade._status({"output": "", "extra_data": {"status": "grader_error"}, "tests": []}) == "crashed"
    assert regrade._status({"output": "", "extra_data": {"status": "not_loaded"}, "tests": []}) == "not loaded"
    assert regrade._status({"output": "", "extra_data": {"status": "stopped"}, "tests": []}) == "stopped"
    assert regrade._status({"output": "Your submission was not graded (it said so itself)", "tests": []}) == "graded"


# --- fast: the grading is replaced by results.json files the test writes -------------------

GROUP_METADATA = """\
submission_1:
  :submitters:
  - :name: Ada
    :email: ada@x.edu
    :sid: '1'
  - :name: Bob
    :email: bob@x.edu
    :sid: '2'
  :created_at: 2026-01-10 12:00:00.000000000 Z
  :score: 3.0
submission_2:
  :submitters:
  - :name: Cy
    :email: cy@x.edu
    :sid: '3'
  :created_at: 2026-01-11 13:30:00.000000000 Z
  :score: 3.0
submission_3:
  :submitters:
  - :name: Di
    :email: di@x.edu
    :sid: '4'
  :created_at: 2026-01-09 08:00:00.000000000 Z
  :score: 0.0
"""
LONG_SKIP_LIST = "Skipped 40 statements of demo code: " + "; ".join(f"line {i}: `print(x)`" for i in range(40))


def outcome(f: float, g: float, *, status=None, reason="", notes=()) -> dict:
    """results.json of a grade: test 1.1 on `f` (2 points), 1.2 on `g` (1 point), 1.3 a CUDA test worth 0 here;
    the supervisor's notes are in its output under the banner, and in extra_data."""
    tests = [{"number": "1.1", "name": "f works", "tags": ["f"], "score": f, "max_score": 2.0},
             {"number": "1.2", "name": "g works", "tags": ["g"], "score": g, "max_score": 1.0},
             {"number": "1.3", "name": "g on cuda", "tags": ["g"], "score": 0, "max_score": 0, "status": "passed"}]
    for test in tests[:2]:
        test["status"] = "passed" if test["score"] == test["max_score"] else "failed"
    result = {"score": f + g, "output": "\n".join(["Graded tensors.py.", *notes]), "tests": tests}
    extra = ({"status": status, "reason": reason} if status else {}) | ({"notes": list(notes)} if notes else {})
    if extra:
        result["extra_data"] = extra
    return result


@pytest.fixture
def fake_grading(monkeypatch):
    """grade_batch replaced: each submission folder holds the results.json its grade gives."""
    graded = []

    def grade_batch(assignment, items, options, sessions, on_done):
        for index, (folder, target) in enumerate(items):
            result = json.loads((folder / "outcome.json").read_text())
            target.write_text(json.dumps(result))
            graded.append(folder.name)
            on_done(index, result)

    monkeypatch.setattr(regrade, "grade_batch", grade_batch)
    return graded


def small_export(tmp_path: Path, outcomes: dict[str, dict]) -> Path:
    export = tmp_path / "export"
    for name, result in outcomes.items():
        (export / name).mkdir(parents=True)
        (export / name / "outcome.json").write_text(json.dumps(result))
    (export / "submission_metadata.yml").write_text(GROUP_METADATA)
    return export


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_one_row_per_student_with_gradescope_score_time_and_lateness(tmp_path, fake_grading):
    export = small_export(tmp_path, {"submission_1": outcome(2, 1), "submission_2": outcome(2, 0),
                                     "submission_3": outcome(0, 0, status="not_loaded", reason="x")})
    due = regrade.parse_time("2026-01-10T13:00:00+00:00")
    regrade.regrade("tensors", export, tmp_path / "out", jobs=1, progress=False, due=due)
    rows = read_csv(tmp_path / "out" / "grades.csv")
    assert [(r["sid"], r["name"], r["email"], r["score"], r["submission_id"]) for r in rows] == [
        ("1", "Ada", "ada@x.edu", "3", "1"), ("2", "Bob", "bob@x.edu", "3", "1"),
        ("3", "Cy", "cy@x.edu", "2", "2"), ("4", "Di", "di@x.edu", "0", "3")]
    assert [r["lateness"] for r in rows] == ["0:00:00", "0:00:00", "24:30:00", "0:00:00"]
    assert [r["gradescope_score"] for r in rows] == ["3", "3", "3", "0"]
    assert rows[0]["submitted_at"] == "2026-01-10T12:00:00+00:00"
    assert rows[3]["status"] == "not loaded"


def test_summary_lists_differences_first_and_rates_per_function(tmp_path, fake_grading):
    export = small_export(tmp_path, {"submission_1": outcome(2, 1), "submission_2": outcome(2, 0),
                                     "submission_3": outcome(0, 0, status="not_loaded", reason="syntax error")})
    regrade.regrade("tensors", export, tmp_path / "out", jobs=1, progress=False)
    text = (tmp_path / "out" / "summary.md").read_text()
    assert text.index("## Scores that differ from Gradescope's") < text.index("## Scores\n")
    differ = text[text.index("differ from Gradescope"):text.index("## Scores\n")]
    assert "| 2 | Cy | graded | 3 | 2 | -1 |" in differ and "| 1 |" not in differ
    # per function, over the two submissions that loaded: the one that did not is not "wrong"
    assert "| f | 2 | 2/2 | 100% | 2.00 |" in text and "| g | 1 | 1/2 | 50% | 0.50 |" in text
    assert "1 not loaded" in text and "1.3 g on cuda" not in text   # a 0-point test is not counted


def test_a_partly_loaded_submission_is_graded_and_listed_apart(tmp_path, fake_grading):
    pieces = "Loading tensors.py, these pieces did not run; each costs only the graded functions that need it:"
    export = small_export(tmp_path, {"submission_1": outcome(2, 1), "submission_2": outcome(2, 0),
                                     "submission_3": outcome(0, 1, status="partly_loaded", notes=[pieces])})
    regrade.regrade("tensors", export, tmp_path / "out", jobs=1, progress=False)
    rows = read_csv(tmp_path / "out" / "grades.csv")
    assert [r["status"] for r in rows] == ["graded", "graded", "graded", "partly loaded"]
    assert rows[3]["reason"] == pieces
    text = (tmp_path / "out" / "summary.md").read_text()
    assert "3 graded, 1 partly loaded" not in text and "2 graded, 1 partly loaded" in text
    assert "| f | 2 | 2/3 | 67% | 1.33 |" in text   # its tests count with the graded ones
    look = text[text.index("## Submissions that need a look"):]
    assert "### 3: Di (partly loaded, score 1, Gradescope 0)" in look and pieces in look


def test_needs_a_look_shows_the_error_first_and_whole(tmp_path, fake_grading):
    error = "NameError: name 'torch' is not defined, at line 12 of cell 3: `x = torch.zeros(3)` " * 3
    export = small_export(tmp_path, {"submission_1": outcome(0, 0, status="grader_error", reason=error,
                                                             notes=[LONG_SKIP_LIST, error])})
    regrade.regrade("tensors", export, tmp_path / "out", jobs=1, progress=False)
    text = (tmp_path / "out" / "summary.md").read_text()
    look = text[text.index("## Submissions that need a look"):]
    assert look.index(error.strip()) < look.index("Skipped 40 statements") and LONG_SKIP_LIST in look
    row = read_csv(tmp_path / "out" / "grades.csv")[0]
    assert row["reason"].startswith(error.strip()) and LONG_SKIP_LIST in row["reason"]


@pytest.mark.parametrize("only, again", [("failed", ["submission_2", "submission_3"]), ("crashed", ["submission_3"]),
                                         ("2,submission_1", ["submission_1", "submission_2"])])
def test_only_grades_part_again_and_merges_into_the_previous_run(tmp_path, fake_grading, only, again):
    export = small_export(tmp_path, {"submission_1": outcome(2, 1), "submission_2": outcome(2, 0),
                                     "submission_3": outcome(0, 0, status="grader_error", reason="boom")})
    out = tmp_path / "out"
    regrade.regrade("tensors", export, out, jobs=1, progress=False)
    first = {r["submission_id"]: r["score"] for r in read_csv(out / "grades.csv")}
    fake_grading.clear()
    for name in ("submission_1", "submission_2", "submission_3"):   # the fixed grader gives full marks
        (export / name / "outcome.json").write_text(json.dumps(outcome(2, 1)))
    summary = regrade.regrade("tensors", export, out, jobs=1, progress=False, only=only)
    assert sorted(fake_grading) == again
    scores = {r["submission_id"]: r["score"] for r in read_csv(out / "grades.csv")}
    assert len(summary.rows) == 3 and all(scores[name.split("_")[1]] == "3" for name in again)
    kept = {"submission_1", "submission_2", "submission_3"} - set(again)
    assert all(scores[name.split("_")[1]] == first[name.split("_")[1]] for name in kept)   # as graded the first time


def test_only_without_a_previous_run_says_so_and_a_missing_export_creates_nothing(tmp_path, capsys):
    assert regrade.run("tensors", tmp_path / "nope.zip", tmp_path / "out") == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "out").exists()
    (tmp_path / "export").mkdir()
    assert regrade.run("tensors", tmp_path / "export", tmp_path / "out", only="failed") == 2
    assert "previous run" in capsys.readouterr().err and not (tmp_path / "out").exists()
    assert regrade.run("tensors", tmp_path / "export", due="next friday") == 2
    assert "--due" in capsys.readouterr().err


def test_output_goes_next_to_the_export_by_default(tmp_path, fake_grading):
    export = small_export(tmp_path, {"submission_1": outcome(2, 1)})
    summary = regrade.regrade("tensors", export, jobs=1, progress=False)
    assert summary.out == tmp_path / "regrade-tensors" and (summary.out / "grades.csv").is_file()
    assert not str(summary.out).startswith(str(ROOT))
