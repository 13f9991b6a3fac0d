"""The student bundle: what students download. It must run the public tests on the student's
own file (script or notebook) and hold nothing of the reference solutions or hidden graders."""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import environment, results
from autograder.cli import check_command

from autograder.instructor import bundles
from autograder.course import NAMES, ROOT, Assignment
from kit import solution_source

ASSIGNMENT = "tensors"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return bundles.build_student_bundle(ASSIGNMENT, tmp_path_factory.mktemp("dist"))


def bundle_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_bundle_has_what_students_need(bundle):
    names = {str(p.relative_to(bundle)) for p in bundle_files(bundle)}
    assert {"tensors.py", "tensors.ipynb", "handout.md", "README.md", "requirements.txt", "requirements-colab.txt",
            "requirements/student.txt", "autograder/__main__.py", "autograder/environment.py",
            "autograder/graders/pytest.ini", "autograder/graders/tensors/test_public.py"} <= names
    assert (bundle / "tensors.py").read_bytes() == Assignment.get(ASSIGNMENT).stub.read_bytes()
    readme = (bundle / "README.md").read_text()
    assert "```sh\npython -m autograder check tensors tensors.py\n```" in readme
    assert "To run the tests of one function only, add\n`--function make_tensors`." in readme
    requirements = [line for line in (bundle / "requirements.txt").read_text().splitlines()
                    if not line.startswith(("#", "--"))]
    assert all("==" in line for line in requirements) and "torch==2.13.0" in requirements
    # Python 3.10 (Gradescope's, and some students') gets its own numpy pin.
    assert {r for r in requirements if r.startswith("numpy")} == {
        'numpy==2.4.6; python_version >= "3.11"', 'numpy==2.2.6; python_version < "3.11"'}
    # What student code may import (but torch, installed first) and what the grader needs, from requirements/.
    installs = {bundles._normal(r.split("==")[0]) for r in requirements}
    declared = environment.student_distributions() + environment.grader_distributions()
    assert installs == {bundles._normal(n) for n in declared}
    assert not installs & {bundles._normal(n) for n in environment.instructor_distributions()}
    assert (bundle / "requirements" / "student.txt").read_bytes() == environment.requirements_file("student").read_bytes()
    # Colab has every student package already; reinstalling IPython there can break its kernel.
    colab = {bundles._normal(r.split("==")[0]) for r in (bundle / "requirements-colab.txt").read_text().splitlines()}
    assert colab == {bundles._normal(n) for n in environment.grader_distributions()}
    assert "!pip install -r requirements-colab.txt" in readme
    assert f"Your code may import {environment.available_text()}" in " ".join(readme.split())
    assert not [n for n in names if n.startswith("autograder/") and n.split("/")[1] in bundles.INSTRUCTOR_ONLY]
    assert "autograder/instructor/handouts.py" not in names and "autograder/instructor/bundles.py" not in names
    with zipfile.ZipFile(bundle.with_suffix(".zip")) as archive:
        assert sorted(archive.namelist()) == sorted(f"tensors/{n}" for n in names)


@pytest.mark.parametrize("name", [n for n in NAMES if bundles.handed_out(Assignment(n))])
def test_bundle_holds_no_solution_and_no_hidden_grader(name, tmp_path):
    folder = bundles.build_student_bundle(name, tmp_path)
    with zipfile.ZipFile(folder.with_suffix(".zip")) as archive:
        contents = {n: archive.read(n) for n in archive.namelist()}
    contents.update({str(p.relative_to(folder.parent)): p.read_bytes() for p in bundle_files(folder)})
    solution = Assignment.get(name).solution.read_bytes()
    for path, data in contents.items():
        parts = Path(path).parts
        assert "solutions" not in parts and "test_hidden.py" not in parts, path
        assert b"# BEGIN SOLUTION" not in data, path
        assert data != solution, path
        if "graders" in parts:
            inside = parts[parts.index("graders"):]
            assert inside in (("graders", "pytest.ini"), ("graders", name, "test_public.py")), path
    assert not [p for p in contents if "__pycache__" in p or p.endswith(".pyc")]


def test_the_requirements_are_one_file_for_every_bundle_with_torch_cpu_on_linux(tmp_path):
    texts = {name: (bundles.build_student_bundle(name, tmp_path) / "requirements.txt").read_text()
             for name in NAMES if bundles.handed_out(Assignment(name))}
    assert len(texts) == 5 and len(set(texts.values())) == 1
    text = texts[ASSIGNMENT]
    # pip prefers the CPU index's torch 2.13.0+cpu to PyPI's 2.13.0 with its GBs of CUDA libraries.
    assert "\n--extra-index-url https://download.pytorch.org/whl/cpu\ntorch==2.13.0\n" in text
    readme = " ".join((tmp_path / "student" / ASSIGNMENT / "README.md").read_text().split())
    assert ("```sh python -m venv ~/pytorch-course && . ~/pytorch-course/bin/activate "
            "pip install -r requirements.txt ```") in readme
    assert ("`requirements.txt` is the same in all five assignments' bundles, so this one environment serves "
            "them all") in readme
    assert "On Linux it installs the CPU build of torch" in readme
    assert "pip install torch" not in readme
    # Where PyTorch's index is blocked, the README's line installs the same pins from PyPI alone.
    assert f"```sh {bundles.PYPI_ONLY} ```" in readme
    folder = tmp_path / "student" / ASSIGNMENT
    pypi = subprocess.run(bundles.PYPI_ONLY.replace("pip install -r /dev/stdin", "cat"), shell=True, cwd=folder,
                          capture_output=True, text=True, check=True).stdout
    assert "--extra-index-url" not in pypi and "torch==2.13.0" in pypi.splitlines()
    assert pypi.splitlines() == [line for line in text.splitlines() if not line.startswith("--extra-index-url")]


def handout_check_command(name: str) -> str:
    """The one command line in the handout's "checking your work" block."""
    text = Assignment.get(name).handout.read_text(encoding="utf-8")
    found = re.search(r"<!-- BEGIN GENERATED: checking your work -->.*?```sh\n(.*?)\n```", text, re.S)
    assert found, f"{name}/handout.md has no check command"
    return found.group(1)


@pytest.mark.parametrize("name", [n for n in NAMES if bundles.handed_out(Assignment(n))])
def test_the_handouts_check_command_runs_in_a_fresh_bundle(name, tmp_path):
    command = handout_check_command(name)
    folder = bundles.build_student_bundle(name, tmp_path)
    assert command in (folder / "README.md").read_text()
    assert command.replace(name, ASSIGNMENT) in (ROOT / "README.md").read_text()   # "For students"
    notebook = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    assert command.replace(f"{name}.py", f"{name}.ipynb") in notebook.cells[0].source
    process = run_as_typed(command, folder)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "Traceback" not in process.stdout + process.stderr
    assert re.search(r"^Total: 0(\.0)? / \d", process.stdout, re.M), process.stdout
    assert "functions are not written yet: " in process.stdout   # the stub: said once, for every function
    results.validate(json.loads((folder / "results.json").read_text()))


def test_notebook_is_valid_and_its_cells_run(bundle):
    notebook = nbformat.read(bundle / "tensors.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[0].cell_type == "markdown" and "handout.md" in notebook.cells[0].source
    assert ("Grading runs your definitions and what they use, in notebook order (as Run All would); demo cells "
            "(prints, plots, training runs, `!pip` lines) may stay: they are not run during grading."
            ) in notebook.cells[0].source
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0].lstrip().startswith(("from __future__", "import", "from"))
    assert any(cell.startswith("def make_tensors(") for cell in code)
    namespace: dict = {}
    for source in code:  # what "Run all" does in Jupyter or Colab
        exec(compile(source, "<cell>", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["first_row"](None)


def run_as_typed(command: str, folder: Path) -> subprocess.CompletedProcess:
    """`command` as a student types it in `folder`, with this environment's `python` first on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PATH": path})


def check(bundle: Path, student_file: str) -> tuple[dict, str]:
    """The bundle's documented command, run from the bundle's folder."""
    out = bundle / "results.json"
    out.unlink(missing_ok=True)
    process = run_as_typed(check_command(ASSIGNMENT, student_file), bundle)
    assert process.returncode == 0, process.stdout + process.stderr
    outcome = json.loads(out.read_text())
    results.validate(outcome)
    return outcome, process.stdout


def test_the_command_uses_the_bundled_engine(bundle):
    where = subprocess.run([sys.executable, "-c", "import autograder; print(autograder.__file__)"],
                           cwd=bundle, capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).resolve().is_relative_to(bundle.resolve())


@pytest.mark.parametrize("argv", [["demo"], ["stubs", "--check"], ["build", "student-bundle"], ["bench"],
                                  ["regrade", ASSIGNMENT, "export.zip"]])
def test_instructor_commands_say_they_are_not_in_the_bundle(bundle, argv):
    # -S: no site-packages, where this checkout's editable install would supply autograder.instructor.
    command = [sys.executable, "-S", "-m", "autograder", *argv]
    process = subprocess.run(command, cwd=bundle, capture_output=True, text=True, timeout=60)
    assert process.returncode == 2
    assert process.stderr == f"autograder {argv[0]}: this is an instructor's command, not in the student bundle\n"


@pytest.mark.slow
def test_stub_scores_zero_with_not_implemented_messages(bundle):
    outcome, stdout = check(bundle, "tensors.py")
    assert outcome["score"] == 0 and outcome["tests"]
    assert all(t["visibility"] == "visible" for t in outcome["tests"])
    assert "functions are not written yet: make_tensors, " in stdout   # once, for every function
    assert any("not implemented yet" in t["output"] for t in outcome["tests"])   # and in its tests


@pytest.mark.slow
def test_reference_scores_full_public_marks_as_script_and_as_notebook(bundle):
    shutil.copy(bundle / "tensors.py", bundle / "stub.py.orig")
    try:
        (bundle / "tensors.py").write_text(solution_source(ASSIGNMENT))
        outcome, _ = check(bundle, "tensors.py")
        possible = sum(t["max_score"] for t in outcome["tests"])
        assert possible > 0 and outcome["score"] == pytest.approx(possible), outcome
    finally:
        shutil.move(bundle / "stub.py.orig", bundle / "tensors.py")
    notebook = bundles.stub_notebook(solution_source(ASSIGNMENT), ASSIGNMENT)
    nbformat.write(notebook, bundle / "solved.ipynb")
    graded, _ = check(bundle, "solved.ipynb")
    assert graded["score"] == pytest.approx(possible)
