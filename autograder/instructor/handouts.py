"""The generated block of each handout: what student code may import and how grading loads it.

Every `assignments/<name>/handout.md` holds one block between

    <!-- BEGIN GENERATED: grading environment -->
    <!-- END GENERATED: grading environment -->

whose text this module writes: the packages of requirements/student.txt as students import
them (through `autograder.environment`), and how a file or notebook is loaded for grading. The
rest of the handout is written by hand. `make stubs` (`autograder stubs`) rewrites the blocks
after the stubs; `--check` writes nothing and exits 1 when a committed handout differs from
what it would write (a test does the same). Exit status 2: a handout without its block.
Instructors only: not shipped to students.
"""

from __future__ import annotations

import difflib
import sys
import textwrap
from pathlib import Path

from autograder import environment
from autograder.course import ROOT, handouts

BEGIN = "<!-- BEGIN GENERATED: grading environment -->"
END = "<!-- END GENERATED: grading environment -->"
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


def block() -> str:
    """The generated block, markers included, without a final newline."""
    paragraphs = [imports_sentence(), LOADING]
    wrapped = ["\n".join(textwrap.wrap(p, WIDTH, break_long_words=False, break_on_hyphens=False))
               for p in paragraphs]
    return "\n".join([BEGIN, "\n\n".join(wrapped), END])


def render(handout: str, filename: str = "handout.md") -> str:
    """`handout` with its generated block rewritten."""
    start, end = handout.find(BEGIN), handout.find(END)
    if start < 0 or end < start or handout.count(BEGIN) != 1 or handout.count(END) != 1:
        raise HandoutError(f"{filename}: needs exactly one block between {BEGIN} and {END}")
    return handout[:start] + block() + handout[end + len(END):]


def run(*, check: bool = False, root: Path = ROOT) -> int:
    """Rewrite every handout's generated block; with `check`, write nothing and report drift.

    Exit status: 0 done or up to date, 1 a handout differs (`check`), 2 a handout without its block.
    """
    drifted = False
    for path in handouts(root):
        shown = path.relative_to(root).as_posix()
        text = path.read_bytes().decode("utf-8")
        try:
            generated = render(text, shown)
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
