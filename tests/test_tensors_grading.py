"""End to end: grade whole `tensors` submissions through the supervisor and read results.json."""

import json
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from autograder.supervisor import grade

from autograder.isolation import processes
from kit import failing, grade_file, graded, solution_source

pytestmark = pytest.mark.slow
HOSTILE = Path(__file__).parent / "hostile"
ROOT_SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "tensors.py"


@pytest.fixture(scope="module")
def reference_outcome():
    return graded("tensors", "solution")


def test_notebook_submission_is_graded_without_running_demo_cells(tmp_path, reference_outcome):
    marker = tmp_path / "demo-ran"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# My tensors"),
        nbformat.v4.new_code_cell("%matplotlib inline\n!pip install something"),
        nbformat.v4.new_code_cell(solution_source("tensors")),
        nbformat.v4.new_code_cell(f"print(make_tensors())\nopen({str(marker)!r}, 'w').write('ran')"),
        nbformat.v4.new_code_cell(f"get_ipython().system('touch {marker}')"),
    ]
    path = tmp_path / "tensors.ipynb"
    nbformat.write(notebook, path)
    outcome = grade_file("tensors", path, tmp_path / "results.json")
    assert outcome["score"] == reference_outcome["score"]
    assert not marker.exists()
    assert "Not run during grading: 2 statements of demo code (cell 4, line 1: `print(make_tensors())`; cell 4, " \
        "line 2: `open(" \
        in outcome["output"], outcome["output"]
    assert "3 IPython lines" in outcome["output"]


@pytest.mark.parametrize("case,content,message", [
    ("missing", None, r"No tensors\.py or tensors\.ipynb was found"),
    ("empty", "", r"is empty"),
    ("syntax", "def first_row(x):\n    return x[0\n", r"line 1: `def first_row\(x\):` has a syntax error "
                                                      r"\(SyntaxError at line 2: '\[' was never closed\)"),
    ("not-a-notebook", "{not json", r"not a valid Jupyter notebook|could not be read"),
])
def test_broken_submissions_get_a_clear_message_and_every_test(tmp_path, reference_outcome, case, content, message):
    folder = tmp_path / "submission"
    folder.mkdir()
    if content is not None:
        name = "tensors.ipynb" if case == "not-a-notebook" else "tensors.py"
        (folder / name).write_text(content)
    outcome = grade_file("tensors", folder, tmp_path / "results.json")
    assert outcome["score"] == 0
    assert len(outcome["tests"]) == len(reference_outcome["tests"])
    assert re.search(message, outcome["output"] + outcome["tests"][0]["output"], re.S), outcome


@pytest.mark.parametrize("case", sorted(p.name for p in HOSTILE.iterdir() if p.is_dir()))
def test_hostile_submission_gets_no_forged_points(tmp_path, reference_outcome, case):
    source = HOSTILE / case
    expected = json.loads((source / "expected.json").read_text())
    folder = tmp_path / "submission"
    shutil.copytree(source / "files", folder) if (source / "files").exists() else folder.mkdir()
    prelude = (HOSTILE / expected["prelude"]).read_text() if "prelude" in expected else ""  # helpers cases share
    (folder / "tensors.py").write_text(solution_source("tensors") + "\n\n" + prelude + "\n\n"
                                       + (source / "attack.py").read_text())
    started = time.monotonic()
    outcome = grade_file("tensors", folder, tmp_path / "results.json", call_timeout=3)
    assert time.monotonic() - started < 180, "grading must stay well inside Gradescope's time limit"
    assert processes.descendants(os.getpid()) == [], "a process of the submission survived grading"
    lost = failing(outcome)
    if expected["lose"] == ["*"]:
        assert outcome["score"] == 0 and len(lost) == len([t for t in outcome["tests"] if t["max_score"]])
    else:
        for test in lost:
            assert set(test["tags"]) & set(expected["lose"]), (case, test)
        for function in expected["lose"]:
            assert any(function in t["tags"] for t in lost), (case, function, "should lose points")
    texts = outcome["output"] + "\n".join(t["output"] for t in lost)
    assert re.search(expected["message"], texts), (case, texts[:2000])
    assert outcome["score"] <= reference_outcome["score"]
    assert not Path("/tmp/sitecustomize-ran").exists()


def test_forged_probes_lose_exactly_the_wrong_functions_and_are_reported(tmp_path, reference_outcome):
    """The attack of issue 10: probe helpers replaced at import, three wrong functions. The grader
    decides from measurements, the child puts its code back, and the instructor is told."""
    path = tmp_path / "tensors.py"
    path.write_text(solution_source("tensors") + "\n\n" + (HOSTILE / "forged_probes" / "attack.py").read_text())
    outcome = grade_file("tensors", path, tmp_path / "results.json")
    lost = failing(outcome)
    assert {tag for t in lost for tag in t["tags"]} == {"flatten_batch", "add_inplace", "add_new"}
    assert outcome["score"] == reference_outcome["score"] - sum(t["max_score"] - t["score"] for t in lost) < 48
    assert outcome["extra_data"]["tampered"] == [{"name": "autograder.child.probes.core.call",
                                                  "when": "loading tensors.py"}]
    told = "Your code changed code the grader relies on (`autograder.child.probes.core.call`). The grader put it back"
    assert told in outcome["output"] and any(told in note for note in outcome["extra_data"]["notes"])
    assert set(outcome["extra_data"]) == {"tampered", "notes"}   # graded: no status
    assert "extra_data" not in reference_outcome


def test_hidden_tests_show_no_details_and_no_printed_output(tmp_path):
    path = tmp_path / "tensors.py"
    path.write_text(solution_source("tensors") + "\n\ndef first_row(x):\n    print('MARKER', x.tolist())\n"
                    "    return x[-1]\n")
    outcome = grade_file("tensors", path, tmp_path / "results.json")
    lost = failing(outcome)
    visible = [t for t in lost if t["visibility"] == "visible"]
    hidden = [t for t in lost if t["visibility"] != "visible"]
    assert visible and hidden
    assert any("Your code printed" in t["output"] and "MARKER" in t["output"] for t in visible)
    assert any("Details:" in t["output"] for t in visible)
    for test in hidden:
        assert "MARKER" not in test["output"] and "Details:" not in test["output"], test["output"]
        assert "first_row" in test["output"]


def test_an_internal_error_still_writes_valid_results(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug in the engine")

    monkeypatch.setattr(grade, "run_session", broken)
    out = tmp_path / "results.json"
    outcome = grade_file("tensors", ROOT_SOLUTION, out)
    assert outcome["score"] == 0 and json.loads(out.read_text()) == outcome
    assert "internal error" in outcome["output"] + outcome["tests"][0]["output"]
    assert "simulated bug" in capsys.readouterr().err
