"""Gradescope's entry point: grade `<root>/submission` into `<root>/results/results.json`.

    run_autograder  ->  python -I -c <bootstrap> ...  ->  autograder gradescope  ->  run()
    autograder gradescope [--root /autograder] [--assignment NAME]   (the same, from a clone)

The assignment comes from the one-line file `ASSIGNMENT` at the kit's root (written into each
autograder zip by `autograder.instructor.bundles`) unless `--assignment` is given. The root is `--root`,
else $AUTOGRADER_ROOT, else /autograder. `<root>/submission_metadata.json`, when present, is
read only to log who submitted. Grading goes through the same engine as `make grade`
(`autograder.supervisor.grade.grade`), which always writes a valid results.json; the score table, with
each failing test's message, goes to stdout, which Gradescope shows to instructors only.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from autograder.course import ROOT

DEFAULT_ROOT = "/autograder"
ASSIGNMENT_FILE = ROOT / "ASSIGNMENT"


def run(root: Path | None = None, assignment: str | None = None, call_timeout: float | None = None) -> int:
    """Grade `<root>/submission`: 0 when `<root>/results/results.json` was written, 1 when it could not be."""
    root = Path(root or os.environ.get("AUTOGRADER_ROOT") or DEFAULT_ROOT)
    out = root / "results" / "results.json"
    try:
        assignment = assignment or ASSIGNMENT_FILE.read_text(encoding="utf-8").strip()
    except OSError as error:
        return _fail(out, f"The autograder is not configured: {ASSIGNMENT_FILE} is missing ({error.strerror}). "
                          "Your submission was not graded; please tell your instructor.")
    from autograder.course import NAMES

    if assignment not in NAMES:
        return _fail(out, f"The autograder is configured for an unknown assignment {assignment!r}. "
                          "Your submission was not graded; please tell your instructor.")
    print(f"Assignment: {assignment}")
    print(describe_submitters(root / "submission_metadata.json"))
    sys.stdout.flush()

    try:
        from autograder.supervisor.grade import Options, ResultsNotWritten, grade
        from autograder.report import print_table
    except Exception as error:  # noqa: BLE001 - a broken environment still gets a results.json
        return _fail(out, f"The autograder could not start ({type(error).__name__}: {error}). "
                          "Your submission was not graded; please tell your instructor.")
    try:
        outcome = grade(assignment, root / "submission", out, Options(call_timeout=call_timeout))
    except ResultsNotWritten as error:
        print_table(error.outcomes[0], show_output=True)
        print(f"autograder: results were NOT written ({error})", file=sys.stderr)
        return 1
    print_table(outcome, show_output=True)
    print(f"results written to {out}")
    return 0


def describe_submitters(path: Path) -> str:
    """One line about the submission, from Gradescope's metadata (best effort, for the log)."""
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "Submitted by: (no submission_metadata.json)"
    except (OSError, ValueError) as error:
        return f"Submitted by: (unreadable submission_metadata.json: {error})"
    if not isinstance(metadata, dict):
        return "Submitted by: (unexpected submission_metadata.json)"
    users = metadata.get("users") if isinstance(metadata.get("users"), list) else []
    people = ", ".join(f"{u.get('name', '?')} <{u.get('email', '?')}>" for u in users if isinstance(u, dict))
    return (f"Submitted by: {people or '(unknown)'}; submission {metadata.get('id', '?')} "
            f"at {metadata.get('created_at', '?')}")


def _fail(out: Path, message: str) -> int:
    from autograder import results

    print(message)
    results.write_results(out, results.error_results(message))
    return 0
