"""The generated blocks of each handout: how to check your work, what student code may import,
and how grading loads a file.

Every `assignments/<name>/handout.md` holds two blocks, each between its markers:

    <!-- BEGIN GENERATED: checking your work -->
    <!-- END GENERATED: checking your work -->
    <!-- BEGIN GENERATED: grading environment -->
    <!-- END GENERATED: grading environment -->

whose text this module writes: the one check command (`autograder.cli.check_command`, the same
as in the student bundle's README and notebook), the packages of requirements/student.txt as
students import them (through `autograder.environment`), and how a file or notebook is loaded
for grading. The rest of the handout is written by hand. `make stubs` (`autograder stubs`)
rewrites the blocks after the stubs; `--check` writes nothing and exits 1 when a committed
handout differs from what it would write (a test does the same). Exit status 2: a handout
without one of its blocks. Instructors only: not shipped to students.
"""

from __future__ import annotations

import difflib
import sys
import textwrap
from pathlib import Path

from autograder import environment
from autograder.cli import check_command
from autograder.course import ROOT, handouts

ENVIRONMENT = "grading environment"
CHECKING = "checking your work"


def markers(title: str) -> tuple[str, str]:
    return f"<!-- BEGIN GENERATED: {title} -->", f"<!-- END GENERATED: {title} -->"


BEGIN, END = markers(ENVIRONMENT)
WIDTH = 95

LOADING = ("Grading loads your file the way Jupyter's *Run All* would, but runs only your definitions and "
           "what they use: imports, functions, classes, and the module-level objects and constants your "
           "functions use (a loss such as `criterion = nn.MSELoss()`, a list of sizes). Demo code — prints, "
           "plots, training runs, `!pip` and `%magic` lines — may stay: it is not run during grading. A "
           "statement that fails (say, `from google.colab import drive` outside Colab) costs only the "
           "functions that need it, and the feedback names its cell and line.")


class HandoutError(Exception):
    pass


def imports_sentence() -> str:
    names = [f"`{name}`" for name in environment.student_imports()]
    return (f"Your file may import {', '.join(names)} and the Python standard library. Nothing else is "
            "installed where it is graded: an import of another package (even one your computer or Colab "
            "has) fails there, and in the public tests, with a message that says so.")


def checking(assignment: str) -> list[str]:
    """How to check your work, with the one command (paragraphs, in markdown)."""
    return ["Check your work: in the folder of your student bundle (with its "
            "environment active, see its README.md), run",
            f"```sh\n{check_command(assignment, f'{assignment}.py')}\n```",
            f"(with `{assignment}.ipynb` if you work in the notebook). It runs the public tests on your file "
            "and prints the messages Gradescope shows."]


def block(title: str = ENVIRONMENT, assignment: str = "") -> str:
    """The generated block `title` for `assignment`, markers included, without a final newline."""
    paragraphs = checking(assignment) if title == CHECKING else [imports_sentence(), LOADING]
    wrapped = [p if p.startswith("```") else
               "\n".join(textwrap.wrap(p, WIDTH, break_long_words=False, break_on_hyphens=False))
               for p in paragraphs]
    begin, end = markers(title)
    return "\n".join([begin, "\n\n".join(wrapped), end])


def render(handout: str, filename: str = "handout.md", assignment: str = "") -> str:
    """`handout` with each of its generated blocks rewritten for `assignment`."""
    for title in (CHECKING, ENVIRONMENT):
        begin, end = markers(title)
        start, stop = handout.find(begin), handout.find(end)
        if start < 0 or stop < start or handout.count(begin) != 1 or handout.count(end) != 1:
            raise HandoutError(f"{filename}: needs exactly one block between {begin} and {end}")
        handout = handout[:start] + block(title, assignment) + handout[stop + len(end):]
    return handout


def run(*, check: bool = False, root: Path = ROOT) -> int:
    """Rewrite every handout's generated blocks; with `check`, write nothing and report drift.

    Exit status: 0 done or up to date, 1 a handout differs (`check`), 2 a handout without one of its blocks.
    """
    drifted = False
    for path in handouts(root):
        shown = path.relative_to(root).as_posix()
        text = path.read_bytes().decode("utf-8")
        try:
            generated = render(text, shown, path.parent.name)
        except HandoutError as error:
            print(error, file=sys.stderr)
            return 2
        if generated == text:
            if check:
                print(f"{shown} is up to date")
            continue
        if check:
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(keepends=True),
                                                       generated.splitlines(keepends=True),
                                                       fromfile=f"{shown} (on disk)", tofile=f"{shown} (generated)"))
            print(f"{shown} is out of date: run `make stubs`")
            drifted = True
        else:
            path.write_bytes(generated.encode("utf-8"))
            print(f"wrote {shown}")
    return 1 if drifted else 0
