"""`make demo`, that is `autograder demo`: grade the reference solution and the student stub of each
finished assignment."""

from __future__ import annotations

from autograder.course import ROOT, available
from autograder.supervisor.grade import grade
from autograder.report import print_table

OUT = ROOT / "build" / "demo"


def run() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for assignment in available():
        for label, path in (("reference solution", assignment.solution), ("student stub", assignment.stub)):
            if not path.exists():
                continue
            out = OUT / f"{assignment.name}-{label.split()[1]}.json"
            print(f"\n=== {assignment.name}: {label} ({path.relative_to(ROOT)}) ===")
            outcome = grade(assignment.name, path, out)
            print_table(outcome)
            print(f"results.json: {out.relative_to(ROOT)}")
    return 0
