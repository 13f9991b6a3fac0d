"""Every wrong submission in tests/mutants/ loses points exactly on the function it breaks."""

import importlib

import pytest

from autograder.assignments import available
from kit import check_mutant, grade_file, solution_source

CASES = []
for assignment in available():
    try:
        module = importlib.import_module(f"mutants.{assignment.name}")
    except ModuleNotFoundError:
        continue
    CASES += [pytest.param(assignment.name, m, id=f"{assignment.name}-{m.name}") for m in module.MUTANTS]


@pytest.mark.slow
@pytest.mark.parametrize("assignment,mutant", CASES)
def test_mutant_loses_points_on_its_function(tmp_path, assignment, mutant):
    path = tmp_path / f"{assignment}.py"
    path.write_text(mutant.apply(solution_source(assignment)), encoding="utf-8")
    outcome = grade_file(assignment, path, tmp_path / "results.json", call_timeout=5)
    check_mutant(mutant, outcome)
