"""The `autograder` command (also `python -m autograder`): every command of the kit, one parser.

    autograder grade ASSIGNMENT SUBMISSION [--out results.json] [--details] [--public-only]
    autograder check ASSIGNMENT SUBMISSION                 grade --public-only --details (students)
    autograder gradescope [--root /autograder]             what Gradescope's run_autograder runs

For instructors (`autograder/instructor/`, which the student bundle leaves out):

    autograder regrade ASSIGNMENT EXPORT [--out DIR] [--jobs N]     make regrade
    autograder demo                                                 make demo
    autograder stubs [ASSIGNMENT ...] [--check]                     make stubs
    autograder build {autograder,student-bundle} [ASSIGNMENT ...]   make autograder, make student-bundle
    autograder bench [--quick | --regrade]                          make bench, make bench-regrade
    autograder points [ASSIGNMENT ...] [--write]                    every test's points and visibility

`autograder --help` lists the commands, `autograder COMMAND --help` each one's options. Each
command's work is a plain `run(...)` function in its module; this file only reads the command
line, and imports a command's module when that command runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

from autograder.course import NAMES, ROOT

NEEDS_POSIX = ("autograder: grading needs Linux or macOS: it runs the submission in a separate, limited "
               "process with tools Windows does not have. On Windows, use WSL (Ubuntu) or Google Colab, "
               "or submit to Gradescope and read its feedback.")
ON_WINDOWS = os.name == "nt"
RUN_NO_SUBMISSION = ("stubs", "build")   # commands that work on Windows too


def check_command(assignment: str, file: str) -> str:
    """The one command students check their work with, as the handouts, the student bundle's
    README and its notebook write it. It works in the bundle's folder (`python -m` finds the
    bundled `autograder/` there) and in a clone with the kit's environment active."""
    return f"python -m autograder check {assignment} {file}"


class Unavailable(Exception):
    """A command whose code is not in this copy of the kit, or cannot be imported here."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if ON_WINDOWS and args.command not in RUN_NO_SUBMISSION:
        print(NEEDS_POSIX, file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except Unavailable as error:
        print(f"autograder {args.command}: {error}", file=sys.stderr)
        return 2


# --- the parser ------------------------------------------------------------------------------

# One line per command, for `autograder --help` (argparse's own list wraps long names).
COMMANDS = {
    "grade": "grade one submission and write results.json",
    "check": "grade with the public tests only (what students run)",
    "gradescope": "what Gradescope's run_autograder runs (in /autograder)",
    "regrade": "(instructors) grade a Gradescope export in parallel",
    "demo": "(instructors) grade every reference solution and stub",
    "stubs": "(instructors) write the stubs and the handouts' generated text",
    "build": "(instructors) build the Gradescope zip or the student bundle",
    "bench": "(instructors) time a grade against a bare `import torch`",
    "points": "(instructors) list every test's points and visibility, and the totals for Gradescope",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder", usage="autograder COMMAND ...", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Grade PyTorch assignments, and build what students and Gradescope get.",
        epilog="commands:\n" + "".join(f"  {name:<12}{line}\n" for name, line in COMMANDS.items())
               + "\n`autograder COMMAND --help` tells more about each command.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help=argparse.SUPPRESS)

    def command(name: str, run, **settings) -> argparse.ArgumentParser:
        line = COMMANDS[name].removeprefix("(instructors) ")
        sub = commands.add_parser(name, prog=f"autograder {name}", description=line[0].upper() + line[1:] + ".",
                                  **settings)
        sub.set_defaults(run=run)
        return sub

    grade = command("grade", grade_command)
    submission_arguments(grade)
    grade.add_argument("--public-only", action="store_true", help="only the public tests (what students can run)")

    check = command("check", grade_command, epilog="The same as `autograder grade --public-only --details`.")
    submission_arguments(check)
    check.set_defaults(public_only=True, details=True)   # a student wants every failing test's message

    gradescope = command("gradescope", gradescope_command)
    gradescope.add_argument("--root", type=Path, default=None,
                            help="Gradescope's folder (default: $AUTOGRADER_ROOT or /autograder)")
    # No `choices`: an unknown name still gets a results.json that says so.
    gradescope.add_argument("--assignment", default=None,
                            help="the assignment to grade (default: the kit's ASSIGNMENT file, in each autograder zip)")
    gradescope.add_argument("--call-timeout", type=float, help="seconds allowed per call into the submission")

    regrade = command("regrade", regrade_command)
    assignment_argument(regrade)
    regrade.add_argument("export", type=Path, metavar="EXPORT",
                         help="Gradescope's 'Export Submissions' zip, or the folder unpacked from it")
    regrade.add_argument("--out", type=Path, default=None,
                         help="output folder (default: regrade-<assignment> next to the export)")
    regrade.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default or 0: CPU cores)")
    regrade.add_argument("--timeout", type=float, default=None,
                         help="wall-clock seconds allowed per submission (default: 600)")
    regrade.add_argument("--call-timeout", type=float, help="seconds allowed per call into a submission")
    regrade.add_argument("--due", help="due date, ISO 8601 (2026-01-31T23:59, local time, or with +00:00): "
                                       "grades.csv gets each submission's lateness")
    regrade.add_argument("--only", metavar="failed|crashed|ID,ID",
                         help="grade again only these submissions of the previous run in --out, and merge")

    command("demo", demo_command)

    stubs = command("stubs", stubs_command)
    stubs.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every solutions/*.py")
    stubs.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 if a stub or a handout differs from what would be written")
    stubs.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)   # another kit's folder, for tests

    build = command("build", build_command)
    build.add_argument("what", choices=("autograder", "student-bundle"), metavar="TARGET",
                       help="autograder: dist/<name>-autograder.zip, to upload to Gradescope; "
                            "student-bundle: dist/student/<name>/ and its .zip, what students download")
    build.add_argument("assignments", nargs="*", choices=[[], *NAMES], metavar="ASSIGNMENT",
                       help="default: every assignment that can be built")
    build.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/ in the kit)")

    bench = command("bench", bench_command)
    only = bench.add_mutually_exclusive_group()
    only.add_argument("--quick", action="store_true", help="leave out the regrade rate (the longest part)")
    only.add_argument("--regrade", action="store_true",
                      help="only the regrade rate: a parallel regrade vs one grade at a time")

    points_arguments(command("points", points_command))
    return parser


def points_arguments(points: argparse.ArgumentParser) -> None:
    points.add_argument("assignments", nargs="*", choices=[[], *NAMES], metavar="ASSIGNMENT",
                        help="default: every assignment with graders")
    points.add_argument("--write", action="store_true",
                        help="also store the public and hidden totals in autograder/points.json, which student "
                             "bundles ship so that a check can say what the hidden tests are worth")


def assignment_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", choices=NAMES, metavar="ASSIGNMENT", help=f"one of {', '.join(NAMES)}")


def submission_arguments(parser: argparse.ArgumentParser) -> None:
    """What `grade` and `check` share."""
    assignment_argument(parser)
    parser.add_argument("submission", type=Path, metavar="SUBMISSION",
                        help="the student's file (.py or .ipynb), or a folder containing it")
    parser.add_argument("--out", type=Path, default=Path("results.json"), help="where to write results.json")
    parser.add_argument("--call-timeout", type=float, help="seconds allowed per call into the submission")
    parser.add_argument("--require-cuda", action="store_true", help="fail CUDA tests instead of skipping them")
    parser.add_argument("-k", dest="select", action="append", default=[], help="only tests matching (pytest -k)")
    parser.add_argument("--function", dest="functions", action="append", default=[], metavar="NAME",
                        help="only the tests of this function or class (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="do not print the score table")
    parser.add_argument("--verbose", action="store_true", help="show the grading session's log")
    parser.add_argument("--details", action="store_true", help="print each failing test's message")


# --- the commands ----------------------------------------------------------------------------


def grade_command(args: argparse.Namespace) -> int:
    from autograder.course import Assignment
    from autograder.report import print_table
    from autograder.supervisor.grade import Options, ResultsNotWritten, grade

    unknown = Assignment.get(args.assignment).unknown_function(args.functions)
    wrong = f"{unknown}." if unknown else wrong_input(args.assignment, args.submission, args.command)
    if wrong is not None:
        print(f"autograder {args.command}: {wrong}", file=sys.stderr)
        return 2
    options = Options(call_timeout=args.call_timeout, require_cuda=args.require_cuda,
                      select=args.select, functions=args.functions, verbose=args.verbose,
                      public_only=args.public_only)
    try:
        outcome, error = grade(args.assignment, args.submission, args.out, options), None
    except ResultsNotWritten as failure:
        outcome, error = failure.outcomes[0], failure
    if not args.quiet:
        print_table(outcome, show_output=args.details)
    if error is not None:
        print(f"autograder: results were NOT written ({error})", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"results written to {args.out}")
    return 0


def wrong_input(assignment: str, submission: Path, command: str = "check") -> str | None:
    """Why `submission` is not worth grading as `assignment` here, or None: a path that does not
    exist, or another assignment's file. (On Gradescope such a submission is graded, with a
    note, since results.json must always be written.)"""
    import tempfile

    from autograder.course import Assignment
    from autograder.submission.prepare import SubmissionProblem, prepare

    if not os.path.lexists(submission):
        return (f"{submission} does not exist (looked from {Path.cwd()}). Give the path of your "
                f"{assignment}.py or {assignment}.ipynb, or of the folder that holds it.")
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as scratch:
        try:
            prepared = prepare(Assignment.get(assignment), submission, Path(scratch))
        except SubmissionProblem:
            return None   # the grade reports it, in the score table and results.json
    if prepared.looks_like is None:
        return None
    other, why = prepared.looks_like
    again = check_command(other, str(submission)) if command == "check" else f"autograder grade {other} {submission}"
    return f"{why} Give the file of {assignment}, or run `{again}`."


def gradescope_command(args: argparse.Namespace) -> int:
    from autograder.supervisor import gradescope

    return gradescope.run(args.root, args.assignment, args.call_timeout)


def regrade_command(args: argparse.Namespace) -> int:
    return instructor_tool("regrade").run(args.assignment, args.export, args.out, args.jobs, args.timeout,
                                          args.call_timeout, args.due, args.only)


def demo_command(args: argparse.Namespace) -> int:
    return instructor_tool("demo").run()


def stubs_command(args: argparse.Namespace) -> int:
    """The stubs, then the handouts: both are generated, both are checked with --check."""
    stubgen, handouts = instructor_tool("stubgen"), instructor_tool("handouts")
    code = stubgen.run(args.assignments, check=args.check, root=args.root)
    if code == 2:
        return code
    return max(code, handouts.run(check=args.check, root=args.root))


def build_command(args: argparse.Namespace) -> int:
    return instructor_tool("bundles").run(args.what, args.assignments, args.dist)


def bench_command(args: argparse.Namespace) -> int:
    return instructor_tool("bench").run(regrade_only=args.regrade, quick=args.quick)


def points_command(args: argparse.Namespace) -> int:
    return instructor_tool("points").run(args.assignments, write=args.write)


def instructor_tool(name: str) -> ModuleType:
    """`autograder.instructor.<name>`, or `Unavailable` with what to do about it."""
    try:
        return importlib.import_module(f"autograder.instructor.{name}")
    except ImportError as error:
        if (error.name or "").startswith("autograder.instructor"):
            raise Unavailable("this is an instructor's command, not in the student bundle") from error
        raise Unavailable(f"this instructor's command needs what is not installed here ({error}); "
                          "`make venv` installs it (pip install -e '.[instructor]')") from error
