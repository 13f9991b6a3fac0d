"""Find the student's file for an assignment and prepare the one file the child will import.

A submission is a file or a folder. From a folder we take `<assignment>.py`, else
`<assignment>.ipynb`; nothing else in it is used (a `conftest.py`, `torch.py` or `numpy.py`
next to it is never copied, so it can neither shadow a module nor configure pytest). Only
regular files are read (no symlinks, FIFOs or devices) and their size is capped. The file, a
script or a notebook, becomes parseable Python with the student's positions
(`autograder.submission.source`) and a plan of which statements run (`autograder.submission.program`); the Python is
written into a fresh scratch folder. Every problem becomes a `SubmissionProblem` with a message
for the student. A file that looks like another assignment's (it defines none of this
assignment's functions but some of another's, or is named after another) is still graded, with
a note that says so; the local commands refuse it (`autograder.cli`).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import API, Assignment
from autograder.submission.program import Program, TooManyStatements, plan
from autograder.submission.source import from_notebook, from_script

MAX_SOURCE_BYTES = 2 * 2**20
MAX_NOTEBOOK_BYTES = 20 * 2**20


class SubmissionProblem(Exception):
    """The submission cannot be graded; the message says why, for the student."""


@dataclass
class Prepared:
    path: Path               # the .py file the child loads, `<assignment>.py`
    graded: str              # what we graded, as the student named it
    program: Program         # which of its statements run, and where each line came from
    notes: list[str] = field(default_factory=list)
    looks_like: tuple[str, str] | None = None   # (another assignment, why its file is that one's), if so


SKIPPED_FOLDERS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git"}
MAX_DEPTH = 3


def find(assignment: Assignment, submission: Path) -> tuple[Path, list[str]]:
    """The file to grade, and notes about the choice for the student."""
    submission = Path(submission)
    if not os.path.lexists(submission):
        raise SubmissionProblem(f"Nothing was submitted at {submission.name}.")
    if submission.is_dir() and not submission.is_symlink():
        return _find_in_folder(assignment, submission)
    if submission.suffix not in (".py", ".ipynb"):
        raise SubmissionProblem(f"{submission.name} is not a Python file or a Jupyter notebook; "
                                f"submit {' or '.join(assignment.accepted_files)}.")
    notes = []
    if submission.name not in assignment.accepted_files:
        notes.append(f"Graded {submission.name} as {assignment.name}{submission.suffix}.")
    return submission, notes


def files_in(folder: Path) -> list[Path]:
    """Every file in a submission folder, a few levels deep, without following links."""
    found = []
    for here, dirs, files in os.walk(folder):
        depth = len(Path(here).relative_to(folder).parts)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS and not d.startswith(".")
                         and depth < MAX_DEPTH)
        found += [Path(here) / f for f in sorted(files) if not f.startswith(".")]
    return found


def rank(assignment: Assignment, path: Path, folder: Path) -> tuple | None:
    """How good a candidate `path` is (lower is better), or None if it is not one.

    Exact names beat browser duplicates such as "tensors (1).py"; shallower beats deeper;
    .py beats .ipynb."""
    match = re.fullmatch(rf"{re.escape(assignment.name)}(?: ?\((\d+)\)|[-_ ](\d+))?(\.py|\.ipynb)", path.name)
    if match is None:
        return None
    duplicate = match.group(1) or match.group(2)
    return (duplicate is not None, len(path.relative_to(folder).parts), match.group(3) != ".py",
            -int(duplicate or 0))


def _find_in_folder(assignment: Assignment, folder: Path) -> tuple[Path, list[str]]:
    files = files_in(folder)
    ranked = sorted((r, p) for p in files if (r := rank(assignment, p, folder)) is not None)
    notes = []
    if ranked:
        chosen = ranked[0][1]
    else:
        python = [p for p in files if p.suffix in (".py", ".ipynb")]
        if len(python) != 1:
            listing = ", ".join(str(p.relative_to(folder)) for p in files[:10]) or "nothing"
            raise SubmissionProblem(
                f"No {' or '.join(assignment.accepted_files)} was found in the submission (it contains: "
                f"{listing}). Submit the file with exactly that name.")
        chosen = python[0]
        notes.append(f"No file is named {assignment.accepted_files[0]}; graded {chosen.relative_to(folder)}, "
                     "the only Python file submitted.")
    ignored = [str(p.relative_to(folder)) for p in files if p != chosen]
    if ignored:
        shown = ", ".join(ignored[:15]) + (f" and {len(ignored) - 15} more" if len(ignored) > 15 else "")
        notes.append(f"Only {chosen.relative_to(folder)} is graded; ignored: {shown}.")
    return chosen, notes


def looks_like_another(assignment: Assignment, path: Path, program: Program) -> tuple[str, str] | None:
    """(another assignment, why) when `path` looks like that assignment's file: it defines none of
    `assignment`'s graded names and some of another's (the most), or it defines none of
    either and is named after another."""
    defined = {name for statement in program.statements for name in statement.binds}
    defined |= {name for removed in program.source.removed for name in removed.names}
    if defined & set(assignment.api):
        return None
    ours = f"none of the functions of {assignment.name} ({', '.join(assignment.api[:3])}, ...)"
    theirs = {other: [n for n in api if n in defined] for other, api in API.items() if other != assignment.name}
    other, names = max(theirs.items(), key=lambda item: len(item[1]))
    if names:
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        return other, (f"This looks like {other}.py, not {assignment.name}.py: {path.name} defines {shown} "
                       f"from {other} and {ours}.")
    for other in theirs:
        if rank(Assignment(other, assignment.root), path, path.parent) is not None:
            return other, (f"This looks like {other}.py, not {assignment.name}.py: {path.name} is named after "
                           f"{other} and defines {ours}.")
    return None


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, refusing links, devices, FIFOs and oversized files."""
    if path.is_symlink():
        raise SubmissionProblem(f"{path.name} is a symbolic link, not a regular file; submit the file itself.")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise SubmissionProblem(f"{path.name} could not be read ({error.strerror}); submit a regular file.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionProblem(f"{path.name} is not a regular file; submit the file itself.")
        if info.st_size > limit:
            raise SubmissionProblem(f"{path.name} is {info.st_size} bytes; the limit is {limit} bytes.")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)
    finally:
        os.close(fd)


def prepare(assignment: Assignment, submission: Path, scratch: Path) -> Prepared:
    """Copy the graded file into `scratch` as `<assignment>.py`, converting a notebook."""
    path, notes = find(assignment, submission)
    notebook = path.suffix == ".ipynb"
    data = read_regular_file(path, MAX_NOTEBOOK_BYTES if notebook else MAX_SOURCE_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionProblem(f"{path.name} is not UTF-8 text.") from None
    if notebook:
        from autograder.submission.notebook import NotebookError, code_cells

        try:
            cells = code_cells(text, path.name)
        except NotebookError as error:
            raise SubmissionProblem(str(error)) from None
        code = sum(len(cell.encode("utf-8")) for _, cell in cells)
        if code > MAX_SOURCE_BYTES:
            raise SubmissionProblem(f"The code cells of {path.name} hold {code} bytes; the limit is {MAX_SOURCE_BYTES} "
                                    "bytes (outputs do not count).")
        source = from_notebook(cells, path.name)
    else:
        source = from_script(text, path.name)
    try:
        program = plan(source, assignment.api)
    except TooManyStatements as error:
        raise SubmissionProblem(str(error)) from None
    if not program.statements and not source.removed:
        raise SubmissionProblem(f"{path.name} is empty." if not text.strip() else f"{path.name} holds no Python code.")
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / f"{assignment.name}.py"
    target.write_text(source.text, encoding="utf-8")
    graded = str(path.relative_to(submission)) if Path(submission).is_dir() else path.name
    other = looks_like_another(assignment, path, program)
    return Prepared(path=target, graded=graded, program=program, notes=notes + ([other[1]] if other else []),
                    looks_like=other)
