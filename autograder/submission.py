"""Find the student's file for an assignment and prepare the one file the child will import.

A submission is a file or a folder. From a folder we take `<assignment>.py`, else
`<assignment>.ipynb`; nothing else in it is used (a `conftest.py`, `torch.py` or `numpy.py`
next to it is never copied, so it can neither shadow a module nor configure pytest). Only
regular files are read (no symlinks, FIFOs or devices) and their size is capped. A notebook is
turned into plain Python (`autograder.notebook`). The result is copied into a fresh scratch
folder; every problem becomes a `SubmissionProblem` with a message for the student.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignments import Assignment
from autograder.notebook import NotebookError, notebook_source

MAX_SOURCE_BYTES = 2 * 2**20
MAX_NOTEBOOK_BYTES = 20 * 2**20


class SubmissionProblem(Exception):
    """The submission cannot be graded; the message says why, for the student."""


@dataclass
class Prepared:
    path: Path               # the .py file the child imports
    module_name: str         # the name it is imported under
    graded: str              # what we graded, as the student named it
    notes: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


def find(assignment: Assignment, submission: Path) -> tuple[Path, list[str]]:
    """The file to grade, and notes about the choice."""
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


def _find_in_folder(assignment: Assignment, folder: Path) -> tuple[Path, list[str]]:
    py, ipynb = (folder / name for name in assignment.accepted_files)
    if os.path.lexists(py):
        notes = [f"Graded {py.name}; {ipynb.name} was ignored."] if os.path.lexists(ipynb) else []
        return py, notes
    if os.path.lexists(ipynb):
        return ipynb, []
    present = sorted(p.name for p in folder.iterdir())[:10]
    listing = ", ".join(present) if present else "nothing"
    raise SubmissionProblem(f"No {' or '.join(assignment.accepted_files)} was found in the submission "
                            f"(it contains: {listing}). Submit the file with exactly that name.")


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, refusing links, devices, FIFOs and oversized files."""
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
        try:
            extracted = notebook_source(text)
        except NotebookError as error:
            raise SubmissionProblem(str(error)) from None
        text = extracted.source
        if extracted.summary():
            notes.append(extracted.summary())
    if not text.strip():
        raise SubmissionProblem(f"{path.name} is empty.")
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / f"{assignment.name}.py"
    target.write_text(text, encoding="utf-8")
    return Prepared(path=target, module_name=assignment.name, graded=path.name, notes=notes)
