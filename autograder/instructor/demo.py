"""`make demo`, that is `autograder demo`: grade the reference solution and the student stub of each
finished assignment, then one summary line per assignment (the reference must score full marks,
the stub 0); it exits with 1 when one of them grades otherwise. `grade_reference_and_stub` and `expectation_problems` are shared with
`autograder build autograder`, which refuses to build a zip whose reference or stub grades wrong."""

from __future__ import annotations

import sys
from pathlib import Path

from autograder import results
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
    return float(outcome.get("score", 0)), results.total(outcome.get("tests", []), key="max_score")


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
    """Grade, print the tables and the summary; 1 when a reference or a stub grades otherwise than expected."""
    summary, problems = [], []
    for assignment in available():
        outcomes = grade_reference_and_stub(assignment, OUT)
        for kind, outcome in outcomes.items():
            path = assignment.solution if kind == "reference" else assignment.stub
            print(f"\n=== {assignment.name}: {LABELS[kind]} ({path.relative_to(ROOT)}) ===")
            print_table(outcome)
            print(f"results.json: {(OUT / f'{assignment.name}-{kind}.json').relative_to(ROOT)}")
        summary.append(summary_line(assignment.name, outcomes))
        problems += expectation_problems(assignment, outcomes)
    print("\n=== summary (every test, hidden ones included) ===")
    print("\n".join(summary))
    if problems:
        print("autograder demo: the kit does not grade as expected:\n" + "\n".join(f"  {p}" for p in problems),
              file=sys.stderr)
    return 1 if problems else 0


def summary_line(name: str, outcomes: dict[str, dict]) -> str:
    """`name`'s reference and stub scores on one line, flagged when they are not full marks and 0."""
    parts = []
    for kind, expected in (("reference", "full marks"), ("stub", "0")):
        if kind not in outcomes:
            parts.append(f"{kind} (none)")
            continue
        score, possible = total(outcomes[kind])
        right = score == possible if kind == "reference" else score == 0
        parts.append(f"{kind} {score:g} / {possible:g}" + ("" if right else f" (expected {expected})"))
    return f"{name:<20} " + "   ".join(parts)
