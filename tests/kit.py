"""Helpers for the kit's own tests: grade a submission end to end and look at the verdicts."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from autograder import results
from autograder.course import ROOT, Assignment  # noqa: F401 (tests import ROOT from here)
from autograder.submission.program import first_line
from autograder.supervisor.grade import Options, grade


def grade_file(assignment: str, path: Path, out: Path, **options) -> dict:
    """Grade `path` through the real supervisor and return results.json (validated)."""
    outcome = grade(assignment, path, out, Options(**options))
    results.validate(outcome)
    return outcome


def failing(outcome: dict) -> list[dict]:
    return [t for t in outcome["tests"] if t["score"] < t["max_score"]]


def lost_tags(outcome: dict) -> set[str]:
    return {tag for t in failing(outcome) for tag in t["tags"]}


@dataclass(frozen=True)
class Mutant:
    """A wrong submission: the reference solution with one top-level definition replaced.

    `loses`: the student functions whose tests must lose points (no other test may);
    `message`: a regex that the output of at least one failing test must match."""

    name: str
    replaces: str
    source: str
    message: str
    loses: tuple[str, ...] = ()

    @property
    def functions(self) -> tuple[str, ...]:
        return self.loses or (self.replaces,)

    def apply(self, solution: str) -> str:
        return replace_definition(solution, self.replaces, self.source)


def replace_definition(source: str, name: str, replacement: str) -> str:
    """`source` with the top-level def/class `name` (and its decorators) replaced."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            lines = source.splitlines(keepends=True)
            start = first_line(node) - 1
            return "".join(lines[:start]) + replacement.strip("\n") + "\n" + "".join(lines[node.end_lineno:])
    raise KeyError(f"no top-level definition {name!r}")


def check_mutant(mutant: Mutant, outcome: dict) -> None:
    lost = failing(outcome)
    assert lost, f"{mutant.name}: no test lost points"
    for test in lost:
        assert set(test["tags"]) & set(mutant.functions), (
            f"{mutant.name}: {test['name']} {test['tags']} lost points but only "
            f"{mutant.functions} should: {test['output']}")
    outputs = "\n---\n".join(t["output"] for t in lost)
    assert re.search(mutant.message, outputs), f"{mutant.name}: no failure says /{mutant.message}/:\n{outputs}"
    assert any(f in t["output"] for t in lost for f in mutant.functions), (
        f"{mutant.name}: no failure message names {mutant.functions}")


def solution_source(assignment: str) -> str:
    return Assignment.get(assignment).solution.read_text(encoding="utf-8")


_CACHE: dict[tuple[str, str], dict] = {}


def graded(assignment: str, which: str) -> dict:
    """results.json of the reference ("solution") or the stub ("stub"), graded once per test run."""
    key = (assignment, which)
    if key not in _CACHE:
        import tempfile

        target = Assignment.get(assignment).solution if which == "solution" else Assignment.get(assignment).stub
        _CACHE[key] = grade_file(assignment, target, Path(tempfile.mkdtemp()) / "results.json")
    return _CACHE[key]
