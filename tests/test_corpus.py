"""Realistic submissions (tests/corpus/<case>/): correct work scores full marks whatever shape it
arrives in, and a case where one statement really fails loses exactly what depends on it.

Each case folder holds `files/` (what the student submits, graded as a folder) and
`expected.json`: {"assignment", "about", "lose": [graded names that must lose points; [] for
full marks], "output": [regexes the feedback's top-level output must match], "messages":
[regexes that must each match a failing test's output]}. The corpus is graded twice: with this
environment, and in the environment Gradescope's setup.sh builds (tests/gradescope_env.py).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from autograder import results
from autograder.supervisor.grade import Options, grade_batch
from kit import failing

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").is_file()) if CORPUS.is_dir() else []
CALL_TIMEOUT = 3.0


def expected(case: str) -> dict:
    return json.loads((CORPUS / case / "expected.json").read_text(encoding="utf-8"))


def by_assignment() -> dict[str, list[str]]:
    groups = defaultdict(list)
    for case in CASES:
        groups[expected(case)["assignment"]].append(case)
    return groups


def grade_corpus(grade, out: Path) -> dict[str, dict]:
    """results.json of every case, graded as one batch per assignment by `grade(assignment, items)`."""
    outcomes = {}
    for assignment, cases in by_assignment().items():
        items = [(CORPUS / case / "files", out / f"{case}.json") for case in cases]
        for case, outcome in zip(cases, grade(assignment, items)):
            results.validate(outcome)
            outcomes[case] = outcome
    return outcomes


def check(case: str, outcome: dict) -> None:
    want = expected(case)
    lost = failing(outcome)
    texts = "\n---\n".join(t["output"] for t in lost)
    for test in lost:
        assert set(test["tags"]) & set(want["lose"]), f"{case}: {test['name']} lost points:\n{test['output']}\n" \
                                                       f"{outcome['output']}"
    for name in want["lose"]:
        assert any(name in t["tags"] for t in lost), f"{case}: {name} should lose points\n{outcome['output']}"
    for pattern in want["output"]:
        assert re.search(pattern, outcome["output"]), f"{case}: output does not match /{pattern}/:\n{outcome['output']}"
    for pattern in want["messages"]:
        assert re.search(pattern, texts), f"{case}: no failing test says /{pattern}/:\n{texts}\n{outcome['output']}"


@pytest.fixture(scope="module")
def here(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("corpus")
    return grade_corpus(lambda assignment, items: grade_batch(
        assignment, items, Options(call_timeout=CALL_TIMEOUT), sessions=2), out)


@pytest.mark.parametrize("case", CASES)
def test_case_gets_what_it_expects(here, case):
    check(case, here[case])


def test_the_corpus_covers_every_assignment_and_both_outcomes():
    groups = by_assignment()
    assert set(groups) == {"tensors", "manual_gradients", "autograd_function", "linear_regression", "nn_module"}
    assert sum(not expected(c)["lose"] for c in CASES) >= 10, "correct work in many shapes"
    assert sum(bool(expected(c)["lose"]) for c in CASES) >= 5, "cases that lose exactly what depends on a failure"
    files = [p for case in CASES for p in (CORPUS / case / "files").rglob("*") if p.is_file()]
    assert sum(p.suffix == ".ipynb" for p in files) >= 10 and sum(p.suffix == ".py" for p in files) >= 4


@pytest.fixture(scope="module")
def in_gradescope(gradescope_env, tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("corpus-gradescope")
    return grade_corpus(lambda assignment, items: gradescope_env.grade_batch(
        assignment, items, call_timeout=CALL_TIMEOUT), out)


@pytest.mark.network
@pytest.mark.parametrize("case", CASES)
def test_case_gets_the_same_in_gradescopes_environment(in_gradescope, here, case):
    check(case, in_gradescope[case])
    strip = lambda outcome: {k: v for k, v in outcome.items() if k != "execution_time"}  # noqa: E731
    assert strip(in_gradescope[case]) == strip(here[case]), f"{case}: Gradescope's environment grades it differently"
