"""`autograder.check(...)` in a notebook: the cells it grades, and a real check from an IPython shell."""

from __future__ import annotations

import builtins
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import notebook_check
from autograder.course import ROOT, Assignment
from autograder.notebook_check import submission_cells, submission_notebook
from autograder.submission.notebook import code_cells
from kit import solution_source

# --- which runs are graded (pure) --------------------------------------------------------------


def test_cell_n_is_the_run_numbered_n():
    assert submission_cells(["", "import torch", "def f():\n    return 1", "f()"]) == [
        "import torch", "def f():\n    return 1", "f()"]


def test_a_cell_run_again_unchanged_counts_once_at_its_latest_run():
    runs = ["", "x = 1", "def f():\n    return x", "x = 1"]
    assert submission_cells(runs) == ["", "def f():\n    return x", "x = 1"]


def test_an_edited_cell_keeps_both_runs_in_order_so_the_latest_definition_wins():
    runs = ["", "def f():\n    return 0", "def f():\n    return 1"]
    assert submission_cells(runs) == runs[1:]


@pytest.mark.parametrize("cell", [
    "import autograder\nautograder.check('tensors')",
    "from autograder import check\ncheck('tensors', 'first_row')",
    "autograder.check('tensors')",
    "  import autograder as ag",
])
def test_cells_that_use_the_autograder_are_left_out(cell):
    assert submission_cells(["", "x = 1", cell]) == ["x = 1", ""]


def test_names_the_notebook_binds_to_the_check_are_left_out_too():
    assert submission_cells(["", "ag.check('tensors')", "c('tensors')"], ("ag", "c")) == ["", ""]


@pytest.mark.parametrize("cell", [
    "def check(x):\n    return x",            # a student's own function named check is code
    "result = model.check(x)",                 # a method called check
    "# checked with the autograder later",     # a comment
])
def test_student_code_that_only_looks_alike_is_kept(cell):
    assert submission_cells(["", cell]) == [cell]


def test_ipython_syntax_is_kept_as_written_for_the_grader_to_handle():
    runs = ["", "%%time\ndef f():\n    return 1", "!pip install tqdm", "%matplotlib inline"]
    assert submission_cells(runs) == runs[1:]


def test_the_notebook_numbers_its_cells_as_the_runs():
    runs = ["", "import torch", "autograder.check('tensors')", "def f():\n    return torch.ones(2)"]
    cells = code_cells(submission_notebook(runs), "tensors.ipynb")
    assert cells == [(1, "import torch"), (2, ""), (3, "def f():\n    return torch.ones(2)")]


def test_checker_names_are_what_the_namespace_binds_to_the_module_or_the_check():
    import autograder

    namespace = {"ag": autograder, "c": notebook_check.check, "x": 1, "_": autograder}
    assert notebook_check.checker_names(namespace) == ("ag", "c")


# --- what is shown ------------------------------------------------------------------------------


def results(*tests: tuple[str, float, float]) -> dict:
    return {"score": sum(t[1] for t in tests), "output": "Graded tensors.ipynb.",
            "extra_data": {"hidden_points": 16.0},
            "tests": [{"name": name, "tags": [tag], "score": score, "max_score": 1.0, "number": str(i)}
                      for i, (tag, score, _) in enumerate(tests, 1) for name in [f"{tag} test"]]}


def test_show_prints_the_table_with_the_failures(capsys):
    notebook_check.show(0, results(("first_row", 0, 1)), "stderr of the grader")
    shown = capsys.readouterr().out
    assert "Total: 0.0 / 1.0" in shown and "first_row test" in shown
    assert "stderr of the grader" not in shown
    assert notebook_check.CELLS_NOTE in shown


def test_show_without_results_says_why(capsys):
    notebook_check.show(2, None, "autograder check: something is wrong\n")
    assert capsys.readouterr().out == "autograder check: something is wrong\n"


def test_outside_a_notebook_it_gives_the_command_line_check(capsys):
    notebook_check.check("tensors")
    shown = capsys.readouterr().out
    assert "inside a Jupyter or Colab notebook" in shown
    assert "python -m autograder check tensors tensors.py" in shown


def test_a_function_the_assignment_does_not_have_is_named_with_the_choices(capsys):
    notebook_check.check("tensors", "frist_row")
    shown = capsys.readouterr().out
    assert "'frist_row'" in shown and "first_row" in shown


def test_an_unknown_assignment_is_named_with_the_choices(capsys):
    notebook_check.check("tensor")
    assert "unknown assignment 'tensor'" in capsys.readouterr().out


def test_importing_the_package_imports_nothing_heavy():
    code = ("import sys, autograder\n"
            "assert callable(autograder.check)\n"
            "from autograder import check\n"
            "print(sorted(m for m in ('torch', 'pytest', 'numpy', 'rich') if m in sys.modules))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert shown.stdout.strip() == "[]"


# --- a real check from an IPython shell -----------------------------------------------------------

MARKER = "_autograder_test_student_code_ran"
FIXED_FIRST_ROW = f"""\
def first_row(x):
    import builtins
    setattr(builtins, {MARKER!r}, True)   # would show if the check ran this in the notebook's process
    return x[0]
"""


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    instance = InteractiveShell.instance(config=config)
    yield instance
    InteractiveShell.clear_instance()


def run(shell, *cells: str) -> None:
    for cell in cells:
        assert shell.run_cell(cell, store_history=True).success


def total(shown: str) -> tuple[float, float]:
    score, possible = re.search(r"Total: (\S+) / (\S+)", shown).groups()
    return float(score), float(possible)


def public_points() -> float:
    from autograder.report import POINTS_FILE
    import json

    return float(json.loads(POINTS_FILE.read_text())["tensors"]["public"])


@pytest.mark.slow
def test_the_reference_cells_get_full_marks_and_never_run_in_the_notebooks_process(shell, capsys):
    solution = solution_source("tensors")
    run(shell, solution, "def first_row(x):\n    return x[1]", FIXED_FIRST_ROW, "%time y = first_row([1, 2])")
    delattr(builtins, MARKER)   # the cell above ran it here, as a student trying it does
    capsys.readouterr()
    run(shell, "import autograder\nautograder.check('tensors')")
    shown = capsys.readouterr().out
    assert total(shown) == (public_points(), public_points()), shown
    assert not hasattr(builtins, MARKER)


@pytest.mark.slow
def test_one_function_of_what_the_notebook_holds_now(shell, capsys):
    solution = solution_source("tensors")
    run(shell, solution, "def first_row(x):\n    return x[1]")   # the latest run is wrong
    capsys.readouterr()
    run(shell, "from autograder import check", "check('tensors', 'first_row')")
    shown = capsys.readouterr().out
    assert total(shown) == (0.0, 1.0), shown
    assert "first_row returned the wrong values" in shown
    assert "second_column" not in shown and "Hidden tests" not in shown   # the whole assignment's, not first_row's


@pytest.mark.slow
def test_the_stub_scores_nothing(shell, capsys):
    run(shell, Assignment.get("tensors").stub.read_text(encoding="utf-8"))
    capsys.readouterr()
    run(shell, "import autograder as ag\nag.check('tensors')")
    shown = capsys.readouterr().out
    assert total(shown) == (0.0, public_points()), shown
    assert "functions are not written yet: " in shown


# --- the student bundle ----------------------------------------------------------------------------

BUNDLE_CHECK = """\
import json, sys
import nbformat
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

config = Config()
config.HistoryManager.hist_file = ":memory:"
shell = InteractiveShell.instance(config=config)
for cell in nbformat.read("tensors.ipynb", as_version=4).cells:   # Run All, as a student does
    if cell.cell_type == "code":
        shell.run_cell(cell.source, store_history=True)
import autograder
print("engine:", autograder.__file__)
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    from autograder.instructor import bundles

    return bundles.build_student_bundle("tensors", tmp_path_factory.mktemp("dist"))


def test_the_bundles_notebook_ends_with_the_check_and_the_colab_steps(bundle):
    import nbformat

    cells = nbformat.read(bundle / "tensors.ipynb", as_version=4).cells
    assert cells[-1].cell_type == "code" and cells[-1].source == 'import autograder\nautograder.check("tensors")'
    assert cells[-2].cell_type == "markdown" and 'autograder.check("tensors", "make_tensors")' in cells[-2].source
    readme = (bundle / "README.md").read_text()
    colab = "!unzip -q -o /content/tensors.zip -d /content\n%cd /content/tensors\n!pip install -r requirements-colab.txt"
    assert colab in cells[-2].source and colab in readme
    assert 'autograder.check("tensors")' in readme


def test_colab_installs_only_what_it_lacks(bundle):
    from autograder import environment

    installed = {line.split("==")[0] for line in (bundle / "requirements-colab.txt").read_text().splitlines()}
    assert installed.isdisjoint(environment.student_distributions())   # Colab's own torch, numpy, IPython stay
    assert {"nbformat", "gradescope-utils", "rich", "jsonschema"} <= installed


@pytest.mark.slow
def test_the_bundles_check_cell_grades_the_stub_with_the_bundled_engine(bundle):
    process = subprocess.run([sys.executable, "-c", BUNDLE_CHECK], cwd=bundle, capture_output=True, text=True,
                             timeout=600)
    assert process.returncode == 0, process.stderr
    assert re.search(r"^Total: 0(\.0)? / \d", process.stdout, re.M), process.stdout + process.stderr
    assert "functions are not written yet: " in process.stdout
    engine = Path(re.search(r"^engine: (.*)$", process.stdout, re.M).group(1))
    assert engine.resolve().is_relative_to(bundle.resolve())


def test_the_kits_readme_tells_students_the_notebook_check_and_colab_steps():
    from autograder.instructor.bundles import colab_setup

    readme = " ".join((ROOT / "README.md").read_text().split())
    assert 'autograder.check("tensors", "first_row")' in readme
    assert all(f"`{line}`" in readme for line in colab_setup("tensors").splitlines())
