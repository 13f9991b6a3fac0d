"""`make demo`, that is `autograder demo`: grade the reference solution and the student stub of each
finished assignment. `grade_reference_and_stub` and `expectation_problems` are shared with
`autograder build autograder`, which refuses to build a zip whose reference or stub grades wrong."""

from __future__ import annotations

from pathlib import Path

from autograder.course import ROOT, Assignment, available
from autograder.supervisor.grade import grade_batch
from autograder.report import print_table

OUT = ROOT / "build" / "demo"
LABELS = {"reference": "reference solution", "stub": "student stub"}


def grade_reference_and_stub(assignment: Assignment, out: Path) -> dict[str, dict]:
    """Grade the reference and the stub (each that exists), in parallel; their results.json go to
    `out/<assignment>-<reference|stub>.json`. Returns {"reference": results, "stub": results}."""
    paths = {kind: path for kind, path in (("reference", assignment.solution), ("stub", assignment.stub))
             if path.exists()}
    out.mkdir(parents=True, exist_ok=True)
    items = [(path, out / f"{assignment.name}-{kind}.json") for kind, path in paths.items()]
    return dict(zip(paths, grade_batch(assignment.name, items, sessions=len(items)))) if items else {}


def total(outcome: dict) -> tuple[float, float]:
    """(score, points possible) of one results.json; tests not counted have max_score 0."""
    return float(outcome.get("score", 0)), sum(float(t.get("max_score", 0)) for t in outcome.get("tests", []))


def expectation_problems(assignment: Assignment, outcomes: dict[str, dict]) -> list[str]:
    """What is wrong with a kit whose reference does not get full marks or whose stub scores."""
    if "reference" not in outcomes:
        return [f"{assignment.name}: there is no reference solution at {assignment.solution}"]
    problems = []
    score, possible = total(outcomes["reference"])
    if possible <= 0 or score != possible:
        problems.append(f"{assignment.name}: the reference solution ({assignment.solution}) scores "
                        f"{score:g} / {possible:g}; it must get full marks. A grader or the solution is wrong "
                        f"(`autograder grade {assignment.name} {assignment.solution} --details` shows which test).")
    if "stub" in outcomes and (stub := total(outcomes["stub"])[0]) != 0:
        problems.append(f"{assignment.name}: the student stub ({assignment.stub}) scores {stub:g}; it must score 0. "
                        "A test passes without any student code (or the stub holds a solution).")
    return problems


def run() -> int:
    for assignment in available():
        for kind, outcome in grade_reference_and_stub(assignment, OUT).items():
            path = assignment.solution if kind == "reference" else assignment.stub
            print(f"\n=== {assignment.name}: {LABELS[kind]} ({path.relative_to(ROOT)}) ===")
            print_table(outcome)
            print(f"results.json: {(OUT / f'{assignment.name}-{kind}.json').relative_to(ROOT)}")
    return 0
