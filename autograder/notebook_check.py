"""Check your work from inside a Jupyter or Colab notebook, with the public tests:

    import autograder
    autograder.check("tensors")                 # every function
    autograder.check("tensors", "first_row")    # only the tests of `first_row`

It grades what the notebook holds now: the cells as you last ran them (saving is not needed),
not the file on disk. Their text is taken from IPython's history (`In [n]`), written to a
temporary `<assignment>.ipynb` whose cell n is the run numbered `[n]`, and graded by
`autograder check` in a separate process, as on the command line: your code never runs in the
notebook's process, only in the grader's own child process. The score table and the messages
are those Gradescope shows.

Which runs are graded: every run in the order it happened, as the kernel ran them, but a cell
run again unchanged only once (its latest run), and never the cells that call the check or
import the autograder. A later definition of a function replaces an earlier one, as in the kernel.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.course import NAMES, Assignment

STOP_GRACE = 10.0   # seconds the check gets to clean up after an interrupt before it is killed
CELLS_NOTE = ("Graded the cells as this notebook last ran them (not the file on disk); "
              "\"cell N\" in a message is the cell marked [N].")


def check(assignment: str, function: str | None = None) -> None:
    """Run the public tests on the cells this notebook has run and print the score table with
    each failure's message; with `function`, only the tests of that function or class."""
    problem = _wrong_arguments(assignment, function)
    if problem is not None:
        print(problem)
        return
    shell = _shell()
    if shell is None:
        print(outside_notebook(assignment))
        return
    with tempfile.TemporaryDirectory(prefix="autograder-notebook-") as folder:
        submission = Path(folder) / f"{assignment}.ipynb"
        submission.write_text(submission_notebook(shell.history_manager.input_hist_raw, checker_names(shell.user_ns)),
                              encoding="utf-8")
        print(f"Checking {assignment} with the public tests" + (f", {function} only" if function else "")
              + " (this takes a few seconds)...", flush=True)
        code, outcome, errors = run_check(assignment, submission, Path(folder) / "results.json", function)
    show(code, outcome, errors.replace(str(submission), "this notebook"))


def _wrong_arguments(assignment: str, function: str | None) -> str | None:
    if assignment not in NAMES:
        return f"autograder.check: unknown assignment {assignment!r}; give one of: {', '.join(NAMES)}."
    unknown = Assignment.get(assignment).unknown_function([function] if function is not None else [])
    return f"autograder.check: {unknown} (or nothing, to check them all)." if unknown else None


def _shell():
    """The running IPython shell (Jupyter, Colab, IPython), or None."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if shell is not None and hasattr(shell, "history_manager") else None


def outside_notebook(assignment: str) -> str:
    from autograder.cli import check_command

    return (f"autograder.check works inside a Jupyter or Colab notebook: it grades the cells you have run. "
            f"Outside a notebook, check your file from a terminal, in the folder of the student bundle:\n\n"
            f"    {check_command(assignment, f'{assignment}.py')}\n")


# --- the cells that are graded ------------------------------------------------------------------


def submission_cells(runs: list[str], checker: tuple[str, ...] = ()) -> list[str]:
    """The code of each cell of the submission, from `runs` (IPython's raw input history: runs[n]
    is the text of the run numbered [n], runs[0] is empty): cell n is run n, or "" when run n is
    left out: a run that calls the check or imports the autograder (`checker` names what the
    notebook binds to either), and a run whose text is run again later unchanged (its latest run
    is kept). IPython syntax (`%time`, `!pip`) stays as it is: the grader handles it."""
    latest = {text: number for number, text in enumerate(runs)}
    calls = _checker_pattern(checker)
    return ["" if latest[text] != number or calls.search(text) else text
            for number, text in enumerate(runs) if number > 0]


def _checker_pattern(checker: tuple[str, ...]) -> re.Pattern:
    """Text that uses the autograder: imports it, or uses a name bound to it or to `check`."""
    names = "|".join(re.escape(name) for name in sorted({"autograder", *checker}))
    return re.compile(rf"^\s*(from|import)\s+autograder\b|\b(?<!\.)({names})\s*[.(]", re.MULTILINE)


def submission_notebook(runs: list[str], checker: tuple[str, ...] = ()) -> str:
    """The graded notebook (nbformat v4 JSON): one code cell per run, cell n for the run [n]."""
    cells = [{"cell_type": "code", "id": f"run-{number}", "metadata": {}, "execution_count": None,
              "outputs": [], "source": text}
             for number, text in enumerate(submission_cells(runs, checker), start=1)]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
                "metadata": {"language_info": {"name": "python"}}}
    return json.dumps(notebook, indent=1, ensure_ascii=False)


def checker_names(namespace: dict) -> tuple[str, ...]:
    """The names the notebook binds to the autograder module or to `check`."""
    import autograder

    return tuple(sorted(name for name, value in namespace.items()
                        if not name.startswith("_") and (value is autograder or value is check)))


# --- grading and showing ----------------------------------------------------------------------


def run_check(assignment: str, submission: Path, out: Path,
              function: str | None = None) -> tuple[int, dict | None, str]:
    """`autograder check` on `submission` in a new process (only `function`'s tests, if given):
    (exit status, results, its stderr). An interrupt (the notebook's stop button) stops it, and
    it kills what it started."""
    from autograder.isolation.launch import python_command

    command = python_command("autograder", "check", assignment, str(submission), "--out", str(out), "--quiet",
                             *(["--function", function] if function else []))
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, errors="replace", cwd=submission.parent) as process:
        try:
            _, errors = process.communicate()
        except KeyboardInterrupt:
            _stop(process)
            raise
    outcome = None
    if process.returncode in (0, 1) and out.is_file():
        try:
            outcome = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome = None
    return process.returncode, outcome, errors


def _stop(process: subprocess.Popen) -> None:
    """Interrupt the check as Ctrl-C would: the supervisor then kills every process it started."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def show(code: int, outcome: dict | None, errors: str) -> None:
    """Print what the check found: the score table and the failures, or why there is none."""
    from autograder.report import format_table

    if outcome is None:
        print(errors.strip() or f"The check stopped (status {code}) without results; run it again, "
                                "or check from a terminal (see the bundle's README.md).")
        return
    print(CELLS_NOTE + "\n")
    # What the supervisor wrote on stderr is for whoever runs the grader (who it runs as, the
    # session's log); the results hold all Gradescope would show the student.
    print(format_table(outcome, show_output=True), end="")
