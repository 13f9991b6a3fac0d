"""`make demo`, that is `autograder demo`: grade the reference solution and the student stub of each
finished assignment, then one summary line per assignment (the reference must score full marks,
the stub 0)."""

from __future__ import annotations

from autograder.course import ROOT, available
from autograder.supervisor.grade import grade
from autograder.report import print_table

OUT = ROOT / "build" / "demo"
LABELS = ("reference solution", "student stub")
SHORT = {"reference solution": "reference", "student stub": "stub"}


def run() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    scores: dict[str, dict[str, dict]] = {}
    for assignment in available():
        for label, path in zip(LABELS, (assignment.solution, assignment.stub)):
            if not path.exists():
                continue
            out = OUT / f"{assignment.name}-{label.split()[1]}.json"
            print(f"\n=== {assignment.name}: {label} ({path.relative_to(ROOT)}) ===")
            outcome = grade(assignment.name, path, out)
            print_table(outcome)
            print(f"results.json: {out.relative_to(ROOT)}")
            scores.setdefault(assignment.name, {})[label] = outcome
    print("\n=== summary (every test, hidden ones included) ===")
    for name, outcomes in scores.items():
        print(summary_line(name, outcomes))
    return 0


def summary_line(name: str, outcomes: dict[str, dict]) -> str:
    """`name`'s reference and stub scores on one line, flagged when they are not full marks and 0."""
    parts = []
    for label, expected in zip(LABELS, ("full marks", "0")):
        outcome = outcomes.get(label)
        if outcome is None:
            parts.append(f"{SHORT[label]} (none)")
            continue
        score, possible = outcome.get("score") or 0, sum(t.get("max_score") or 0 for t in outcome.get("tests", ()))
        right = score == possible if expected == "full marks" else score == 0
        parts.append(f"{SHORT[label]} {score:g} / {possible:g}" + ("" if right else f" (expected {expected})"))
    return f"{name:<20} " + "   ".join(parts)
