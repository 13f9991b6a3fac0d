"""Visibility: public tests are shown to students, hidden tests are not (for every assignment).

The engine reads each test's gradescope-utils `@visibility`; a hidden test without one would
default to "visible", so every test in a test_hidden.py must say it explicitly.
"""

import importlib.util
import inspect

import pytest

from autograder.course import available
from autograder.results import VISIBILITIES

GRADER_FILES = [(a.name, path) for a in available() for path in sorted(a.graders.glob("test_*.py"))]


def grader_tests(path):
    spec = importlib.util.spec_from_file_location(f"visibility_check_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = []
    for name, value in vars(module).items():
        if name.startswith("test") and inspect.isfunction(value):
            found.append((name, value))
        elif name.startswith("Test") and inspect.isclass(value):
            found += [(f"{name}.{n}", f) for n, f in vars(value).items() if n.startswith("test") and callable(f)]
    return found


def test_every_assignment_has_public_graders():
    assert {name for name, path in GRADER_FILES if path.name == "test_public.py"} == {a.name for a in available()}


@pytest.fixture(autouse=True)
def grader_markers(request):
    """Graders use the `cuda` marker, which the grading plugin registers; register it here too."""
    request.config.addinivalue_line("markers", "cuda: needs a CUDA GPU")


@pytest.mark.parametrize("assignment,path", GRADER_FILES, ids=[f"{a}/{p.name}" for a, p in GRADER_FILES])
def test_visibility_of_every_test(assignment, path):
    tests = grader_tests(path)
    assert tests, f"{path} has no tests"
    for name, function in tests:
        visibility = getattr(function, "__visibility__", None)
        if path.name == "test_public.py":
            assert visibility in (None, "visible"), f"{assignment}: public test {name} is {visibility!r}"
        elif path.name == "test_hidden.py":
            assert visibility in VISIBILITIES and visibility != "visible", (
                f"{assignment}: hidden test {name} must set @visibility (after_due_date by default), "
                f"not {visibility!r}")
        else:
            pytest.fail(f"{path}: grader files are test_public.py or test_hidden.py")


RECORDER = '''
SEEN = []
_matmul_shape = matmul_shape


def matmul_shape(a_shape, b_shape):
    SEEN.append((a_shape, b_shape))
    return _matmul_shape(a_shape, b_shape)


def count_negatives(x):
    raise ValueError(f"inputs seen so far: {SEEN}")
'''


@pytest.mark.slow
def test_hidden_inputs_never_reach_visible_feedback(tmp_path):
    """A submission records every input and shows them in a visible test's failure: only the
    visible tests' own inputs may appear there, exactly as when the hidden tests do not run."""
    from kit import grade_file, solution_source

    path = tmp_path / "tensors.py"
    path.write_text(solution_source("tensors") + RECORDER)

    def visible_outputs(**options):
        outcome = grade_file("tensors", path, tmp_path / "results.json", **options)
        return {t["name"]: t["output"] for t in outcome["tests"] if t["visibility"] == "visible"}

    everything, public = visible_outputs(), visible_outputs(public_only=True)
    shown = [output for name, output in everything.items() if "count_negatives" in name]
    assert shown and all("inputs seen so far" in output for output in shown)
    assert everything == public
