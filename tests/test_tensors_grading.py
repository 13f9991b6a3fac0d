"""End to end: grade whole `tensors` submissions through the supervisor and read results.json."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from kit import ROOT, failing, grade_file, solution_source

pytestmark = pytest.mark.slow
HOSTILE = Path(__file__).parent / "hostile"


@pytest.fixture(scope="module")
def reference_outcome(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    return grade_file("tensors", ROOT / "solutions" / "tensors.py", out / "results.json")


def test_reference_scores_full_marks(reference_outcome):
    assert failing(reference_outcome) == [], [t["output"] for t in failing(reference_outcome)]
    total = sum(t["max_score"] for t in reference_outcome["tests"])
    assert reference_outcome["score"] == pytest.approx(total) and total >= 30
    assert all(t["tags"] and t["number"] for t in reference_outcome["tests"])


def test_every_spec_function_is_graded(reference_outcome):
    names = {"make_tensors", "describe", "shared_from_numpy", "copied_from_numpy", "to_numpy", "add", "matmul_2d",
             "batched_matmul", "matmul_shape", "flatten_batch", "add_inplace", "add_new", "first_row",
             "second_column", "last_column_first_two_rows", "count_negatives", "get_device", "to_device"}
    tagged = {tag for t in reference_outcome["tests"] if t["max_score"] > 0 for tag in t["tags"]}
    assert names <= tagged, names - tagged


def test_stub_scores_zero_with_every_test_present(tmp_path, reference_outcome):
    outcome = grade_file("tensors", ROOT / "assignments" / "tensors", tmp_path / "results.json")
    assert outcome["score"] == 0
    assert [t["name"] for t in outcome["tests"]] == [t["name"] for t in reference_outcome["tests"]]
    for test in outcome["tests"]:
        if test["max_score"]:
            assert "not implemented yet" in test["output"], test


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
    assert "Skipped" in outcome["output"] and "cell 4" in outcome["output"], outcome["output"]


@pytest.mark.parametrize("case,content,message", [
    ("missing", None, r"No tensors\.py or tensors\.ipynb was found"),
    ("empty", "", r"is empty"),
    ("syntax", "def first_row(x):\n    return x[0\n", r"could not be imported.*SyntaxError"),
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
    (folder / "tensors.py").write_text(solution_source("tensors") + "\n\n" + (source / "attack.py").read_text())
    outcome = grade_file("tensors", folder, tmp_path / "results.json", call_timeout=3)
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
