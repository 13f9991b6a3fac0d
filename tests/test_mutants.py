"""Every wrong submission in tests/mutants/ loses points exactly on the function it breaks.

Each assignment's mutants are graded together with `grade_batch` (torch imported once per
session), then checked one by one."""

import importlib
import tempfile
from pathlib import Path

import pytest

from autograder import results
from autograder.course import available
from autograder.supervisor.grade import Options, grade_batch
from kit import check_mutant, solution_source

pytestmark = pytest.mark.slow

MUTANTS = {}
for assignment in available():
    try:
        MUTANTS[assignment.name] = importlib.import_module(f"mutants.{assignment.name}").MUTANTS
    except ModuleNotFoundError:
        continue
CASES = [pytest.param(name, m, id=f"{name}-{m.name}") for name, mutants in MUTANTS.items() for m in mutants]
_GRADED: dict[str, dict] = {}


def graded_mutants(assignment: str) -> dict:
    if assignment not in _GRADED:
        folder = Path(tempfile.mkdtemp(prefix=f"mutants-{assignment}-"))
        solution = solution_source(assignment)
        items = []
        for mutant in MUTANTS[assignment]:
            path = folder / mutant.name / f"{assignment}.py"
            path.parent.mkdir()
            path.write_text(mutant.apply(solution), encoding="utf-8")
            items.append((path, path.parent / "results.json"))
        outcomes = grade_batch(assignment, items, Options(call_timeout=5), sessions=2)
        _GRADED[assignment] = {m.name: o for m, o in zip(MUTANTS[assignment], outcomes)}
    return _GRADED[assignment]


@pytest.mark.parametrize("assignment,mutant", CASES)
def test_mutant_loses_points_on_its_function(assignment, mutant):
    outcome = graded_mutants(assignment)[mutant.name]
    results.validate(outcome)
    check_mutant(mutant, outcome)
