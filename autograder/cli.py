"""Command line:

    autograder grade ASSIGNMENT SUBMISSION [--out results.json]   grade one submission
    autograder gradescope [--root /autograder]                     what Gradescope's run_autograder runs
    autograder regrade ASSIGNMENT EXPORT [--out DIR] [--jobs N]    grade a Gradescope export in parallel
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from autograder.course import NAMES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser("grade", help="grade one submission and write results.json")
    grade.add_argument("assignment", choices=NAMES)
    grade.add_argument("submission", type=Path, help="the student's file, or a folder containing it")
    grade.add_argument("--out", type=Path, default=Path("results.json"), help="where to write results.json")
    grade.add_argument("--call-timeout", type=float, help="seconds allowed per call into the submission")
    grade.add_argument("--require-cuda", action="store_true", help="fail CUDA tests instead of skipping them")
    grade.add_argument("-k", dest="select", action="append", default=[], help="only tests matching (pytest -k)")
    grade.add_argument("--public-only", action="store_true", help="only the public tests (what students can run)")
    grade.add_argument("--quiet", action="store_true", help="do not print the score table")
    grade.add_argument("--verbose", action="store_true", help="show the grading session's log")
    grade.add_argument("--details", action="store_true", help="print each failing test's message")

    gradescope = commands.add_parser(
        "gradescope", help="grade <root>/submission into <root>/results/results.json (Gradescope's layout)")
    gradescope.add_argument("--root", type=Path, default=None,
                            help="Gradescope's folder (default: $AUTOGRADER_ROOT or /autograder)")
    gradescope.add_argument("--assignment", choices=NAMES, default=None,
                            help="default: the kit's ASSIGNMENT file (written into each autograder zip)")
    gradescope.add_argument("--call-timeout", type=float, help="seconds allowed per call into the submission")

    regrade = commands.add_parser(
        "regrade", help="grade every submission of a Gradescope export (zip or folder) in parallel")
    regrade.add_argument("assignment", choices=NAMES)
    regrade.add_argument("export", type=Path, help="Gradescope's 'Export Submissions' zip, or the folder unpacked from it")
    regrade.add_argument("--out", type=Path, default=None, help="output folder (default: regrade-<assignment>)")
    regrade.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: CPU cores)")
    regrade.add_argument("--timeout", type=float, default=None,
                         help="wall-clock seconds allowed per submission (default: 600)")
    regrade.add_argument("--call-timeout", type=float, help="seconds allowed per call into a submission")
    return parser


NEEDS_POSIX = ("autograder: grading needs Linux or macOS: it runs the submission in a separate, limited "
               "process with tools Windows does not have. On Windows, use WSL (Ubuntu) or Google Colab, "
               "or submit to Gradescope and read its feedback.")
ON_WINDOWS = os.name == "nt"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if ON_WINDOWS:
        print(NEEDS_POSIX, file=sys.stderr)
        return 2
    if args.command == "grade":
        return grade_command(args)
    if args.command in ("gradescope", "regrade"):
        try:
            name = "autograder.supervisor.gradescope" if args.command == "gradescope" else "autograder.instructor.regrade"
            module = importlib.import_module(name)
        except ImportError as error:
            print(f"autograder {args.command} is not available here ({error}); it is an instructor's command.",
                  file=sys.stderr)
            return 2
        return module.run(args)
    return 2


def grade_command(args: argparse.Namespace) -> int:
    from autograder.supervisor.grade import Options, ResultsNotWritten, grade
    from autograder.report import print_table

    options = Options(call_timeout=args.call_timeout, require_cuda=args.require_cuda,
                      select=args.select, verbose=args.verbose, public_only=args.public_only)
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


if __name__ == "__main__":
    sys.exit(main())
