"""Every assignment: the reference scores full marks, the stub zero, and every name of the spec is graded."""

import ast
import re

import pytest

from autograder.course import API, Assignment, available
from kit import failing, graded

ASSIGNMENTS = [a.name for a in available()]
SPEC_NAMES = API  # the course-spec's names; loading a submission runs what they need


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_scores_full_marks(assignment):
    outcome = graded(assignment, "solution")
    assert failing(outcome) == [], [(t["name"], t["output"]) for t in failing(outcome)]
    total = sum(t["max_score"] for t in outcome["tests"])
    assert total > 0 and outcome["score"] == pytest.approx(total)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stub_scores_zero_with_every_test_present(assignment):
    stub, reference = graded(assignment, "stub"), graded(assignment, "solution")
    assert stub["score"] == 0
    assert [t["name"] for t in stub["tests"]] == [t["name"] for t in reference["tests"]]
    for test in stub["tests"]:
        if test["max_score"]:
            assert "not implemented yet" in test["output"], (test["name"], test["output"])


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_spec_name_is_graded_and_every_test_names_one(assignment):
    outcome = graded(assignment, "solution")
    names = set(SPEC_NAMES[assignment])
    tagged = {tag for t in outcome["tests"] if t["max_score"] > 0 for tag in t["tags"]}
    assert names <= tagged, names - tagged
    for test in outcome["tests"]:
        assert set(test["tags"]) & names, (test["name"], test["tags"])
        assert re.fullmatch(r"\d+(\.\d+)+", test["number"]), test


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_public_graders_do_not_need_the_reference(assignment):
    from autograder.course import Assignment

    source = (Assignment.get(assignment).graders / "test_public.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            assert "reference" not in [a.arg for a in node.args.args], node.name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_stub_and_the_solution_define_exactly_the_graded_names(assignment):
    for path in (Assignment.get(assignment).stub, Assignment.get(assignment).solution):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        public = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                  and not n.name.startswith("_")]
        assert public == list(API[assignment]), path
