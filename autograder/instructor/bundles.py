"""Build what leaves the repository: Gradescope autograder zips and student bundles.

    autograder build autograder [ASSIGNMENT ...] [--dist dist]       (make autograder)
    autograder build student-bundle [ASSIGNMENT ...] [--dist dist]   (make student-bundle)

`build_autograder_zip(assignment, dist)` writes `dist/<assignment>-autograder.zip`, the file to
upload to Gradescope. At the root of the archive: `setup.sh` and `run_autograder` (from
`autograder/gradescope/`, executable, LF endings), `ASSIGNMENT` (the assignment id, one line),
`constraints.txt`, `requirements/` (the declaration of the grading environment, which setup.sh
installs), `pyproject.toml`, `solutions/<assignment>.py` and the `autograder/` package with this
assignment's graders only (no other assignment's graders, no `__pycache__`).

`build_student_bundle(assignment, dist)` writes `dist/student/<assignment>/` and
`dist/student/<assignment>.zip`: the stub, a notebook version of it, the handout, the engine
with the public tests only, `requirements/student.txt` (the grader reads what student code may
import from it), `requirements.txt` (requirements/student.txt and
requirements/grader.txt, pinned from constraints.txt, with PyTorch's CPU index so that Linux
gets torch's CPU build; the same file in every bundle) and a README with the one command that
checks the student's file. Nothing of `solutions/` or of the
hidden graders goes in; the build fails if any file it would ship contains a solution marker.

Only instructors run this module (it imports pypa `packaging`); like everything under
`autograder/instructor/`, it never goes into a student bundle.
"""

from __future__ import annotations

import ast
import io
import os
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from autograder import environment
from autograder.cli import check_command
from autograder.course import NAMES, PACKAGE, ROOT, Assignment
from autograder.submission.program import first_line

TEMPLATES = PACKAGE / "gradescope"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so that two builds of the same tree are identical
SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store"}
SOLUTION_MARKER = "# BEGIN SOLUTION"

# Folders of the package that never go to students: the instructors' tools (stubgen documents
# the solution markers) and Gradescope's scripts.
INSTRUCTOR_ONLY = {"instructor", "gradescope"}


class PackagingError(RuntimeError):
    pass


# --- which assignments ---------------------------------------------------------------------


def gradable(assignment: Assignment) -> bool:
    """An autograder zip needs the graders and the reference solution."""
    return assignment.graders.is_dir() and assignment.solution.is_file()


def handed_out(assignment: Assignment) -> bool:
    """A student bundle needs the stub, the handout and the public tests."""
    return (assignment.stub.is_file() and assignment.handout.is_file()
            and (assignment.graders / "test_public.py").is_file())


# --- files ---------------------------------------------------------------------------------


def package_files(assignment: Assignment, *, student: bool) -> list[tuple[str, Path]]:
    """(path in the archive, source) for the `autograder/` package as shipped for `assignment`.

    Gradescope gets the whole engine and this assignment's graders; a student gets the engine
    without the instructors' modules and only `graders/<assignment>/test_public.py`."""
    files = []
    for here, dirs, names in os.walk(PACKAGE):
        folder = Path(here)
        relative = folder.relative_to(PACKAGE)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_NAMES and not d.startswith(".")
                         and not (relative == Path() and d == "gradescope")
                         and not (relative == Path("graders") and d != assignment.name))
        for name in sorted(names):
            if name in SKIPPED_NAMES or name.startswith(".") or name.endswith((".pyc", ".pyo")):
                continue
            inside = relative / name
            if student and not _student_may_have(assignment, inside):
                continue
            files.append((str(Path("autograder") / inside), folder / name))
    return files


def _student_may_have(assignment: Assignment, inside: Path) -> bool:
    if inside.parts[0] in INSTRUCTOR_ONLY:
        return False
    if inside.parts[0] == "graders":
        return inside in (Path("graders/pytest.ini"), Path("graders") / assignment.name / "test_public.py")
    return True


def student_requirements() -> tuple[str, ...]:
    """What a student installs to work and to run the public tests: the packages student code
    may import (torch first), then the grader's (requirements/). The same for every assignment."""
    return tuple(environment.student_distributions() + environment.grader_distributions())


# Where torch's CPU build comes from on Linux (setup.sh installs it from there too). As an extra
# index beside PyPI: on Linux pip prefers its `2.13.0+cpu` to PyPI's `2.13.0`, whose CUDA
# libraries weigh several GB; on macOS both hold the same build.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


# The install without PyTorch's index, for a network that blocks it (the README's fallback).
PYPI_ONLY = "sed '/^--extra-index-url/d' requirements.txt | pip install -r /dev/stdin"


def requirements_txt() -> str:
    """The bundle's requirements.txt: one file, identical in every bundle, so that one
    environment serves every assignment."""
    header = ["# The same file in every assignment's bundle: one environment serves them all.",
              "# On Linux, torch's CPU build (from PyTorch's index below), without GBs of CUDA libraries.",
              f"--extra-index-url {TORCH_CPU_INDEX}"]
    return "\n".join(header + pinned(student_requirements())) + "\n"


def constraints(path: Path = ROOT / "constraints.txt") -> list[Requirement]:
    """Every pin of constraints.txt, `name==version[; marker]` (some packages have one per Python)."""
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [Requirement(line) for line in lines if line]


def pinned(names: tuple[str, ...], path: Path = ROOT / "constraints.txt") -> list[str]:
    """The pins of constraints.txt for `names`, in that order, with their environment markers."""
    pins = constraints(path)
    missing = [n for n in names if not any(_normal(pin.name) == _normal(n) for pin in pins)]
    if missing:
        raise PackagingError(f"constraints.txt pins no version of {', '.join(missing)}")
    return [str(pin) for n in names for pin in pins if _normal(pin.name) == _normal(n)]


_normal = environment.normal


def _template(name: str) -> bytes:
    data = (TEMPLATES / name).read_bytes()
    if b"\r" in data:
        raise PackagingError(f"{TEMPLATES / name} has CR line endings; Gradescope needs LF")
    return data


class _Zip:
    """A deterministic zip: fixed timestamps, explicit Unix permissions."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.temporary = path.with_name(path.name + ".part")
        self.archive = zipfile.ZipFile(self.temporary, "w", zipfile.ZIP_DEFLATED)

    def add(self, name: str, data: bytes, executable: bool = False) -> None:
        info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = 3  # Unix, so that external_attr holds the mode
        info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
        self.archive.writestr(info, data)

    def close(self) -> Path:
        self.archive.close()
        os.replace(self.temporary, self.path)
        return self.path


# --- Gradescope ----------------------------------------------------------------------------


def autograder_entries(assignment: Assignment) -> list[tuple[str, bytes, bool]]:
    """(name, content, executable) of every file of the autograder zip."""
    if not gradable(assignment):
        raise PackagingError(f"{assignment.name}: an autograder needs {assignment.graders} and {assignment.solution}")
    entries = [(name, _template(name), True) for name in ("setup.sh", "run_autograder")]
    entries.append(("ASSIGNMENT", f"{assignment.name}\n".encode(), False))
    for name in ("constraints.txt", "pyproject.toml"):
        entries.append((name, (ROOT / name).read_bytes(), False))
    for kind in environment.KINDS:
        path = environment.requirements_file(kind)
        entries.append((f"requirements/{path.name}", path.read_bytes(), False))
    entries.append((f"solutions/{assignment.name}.py", assignment.solution.read_bytes(), False))
    entries += [(name, source.read_bytes(), False) for name, source in package_files(assignment, student=False)]
    return entries


def build_autograder_zip(assignment: str | Assignment, dist: Path = ROOT / "dist") -> Path:
    """Write `dist/<assignment>-autograder.zip` for Gradescope and return its path."""
    assignment = Assignment.get(assignment) if isinstance(assignment, str) else assignment
    archive = _Zip(Path(dist) / f"{assignment.name}-autograder.zip")
    for name, data, executable in autograder_entries(assignment):
        archive.add(name, data, executable)
    return archive.close()


# --- students ------------------------------------------------------------------------------


def stub_notebook(source: str, assignment: str):
    """The stub as a Jupyter notebook (nbformat v4): an introduction in Markdown, the imports
    (and anything else before the first definition) in one cell, then one code cell per
    top-level function or class, with its docstring and the comments just above it."""
    import nbformat
    from nbformat import v4

    tree = ast.parse(source)
    lines = source.splitlines()
    body = list(tree.body)
    docstring = ast.get_docstring(tree, clean=True)
    skip_to = 0
    if docstring is not None and body and isinstance(body[0], ast.Expr):
        skip_to = body[0].end_lineno
        body = body[1:]
    defined = [node.name for node in body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    starts = []  # 0-based first line of each definition, with its decorators and leading comments
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = first_line(node) - 1
            while start > skip_to and lines[start - 1].lstrip().startswith("#"):
                start -= 1
            starts.append(start)
    bounds = [skip_to, *starts, len(lines)]
    chunks = ["\n".join(lines[a:b]).strip("\n") for a, b in zip(bounds, bounds[1:])]

    intro = (f"# Assignment: `{assignment}`\n\n"
             + (f"{docstring}\n\n" if docstring else "")
             + "Read `handout.md` first. Replace every `raise NotImplementedError(...)` with your code, "
               "run the cells, and try your functions in new cells.\n\n"
               f"**Submit** this notebook as `{assignment}.ipynb` (or the Python file `{assignment}.py`). "
               "Grading runs your definitions and what they use, in notebook order (as Run All would); "
               "demo cells (prints, plots, training runs, `!pip` lines) may stay: they are not run "
               "during grading.\n\n"
               "**Check** your work with the public tests: save the notebook, then, in the folder of the "
               "student bundle (with its environment active, see its README.md), run\n\n"
               f"    {check_command(assignment, f'{assignment}.ipynb')}\n")
    cells = [v4.new_markdown_cell(intro)]
    cells += [v4.new_code_cell(chunk) for chunk in chunks if chunk.strip()]
    cells += [v4.new_markdown_cell(NOTEBOOK_CHECK_INTRO.format(
        name=assignment, function=defined[0] if defined else "your_function", colab=colab_setup(assignment))),
              v4.new_code_cell(notebook_check_cell(assignment))]
    notebook = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return notebook


NOTEBOOK_CHECK_INTRO = """\
## Check your work

Run the cell below: it runs the public tests on your functions as you last ran their cells (no
need to save first) and shows the score table and the messages Gradescope shows. To check one
function, give its name: `autograder.check("{name}", "{function}")`. Your code runs in a separate
process, never in this notebook.

The notebook must run in the bundle's folder (start Jupyter there). On Colab, upload
`{name}.zip` to the Files pane, then run once in a new cell:

```
{colab}
```
"""


def colab_setup(assignment: str) -> str:
    """What a student runs once in Colab, after uploading the bundle's zip to /content: unzip it,
    work in its folder, and install only what the check needs (Colab has torch, numpy and the
    rest of requirements/student.txt; reinstalling them can break its kernel)."""
    return (f"!unzip -q -o /content/{assignment}.zip -d /content\n"
            f"%cd /content/{assignment}\n"
            "!pip install -r requirements-colab.txt")


def notebook_check_cell(assignment: str) -> str:
    return f'import autograder\nautograder.check("{assignment}")'


STUDENT_README = """\
# {name}: your starter files

| file | what it is |
|---|---|
| `handout.md` | the assignment: read it first |
| `{name}.py` | the file you fill in (a plain Python file) |
| `{name}.ipynb` | the same starter code as a Jupyter / Colab notebook, if you prefer notebooks |
| `autograder/` | the grader, with the public tests (the ones you see on Gradescope) |
| `requirements.txt` | the exact versions of torch and the packages your code may import, and of the grader's |
| `requirements/student.txt` | the packages your code may import (the same as on Gradescope) |
| `requirements-colab.txt` | on Colab, which has the rest: only what the check needs |

## 1. Set up (once for the whole course)

Python 3.10 or newer, on Linux or macOS (on Windows, in WSL; or work on Colab):

```sh
python -m venv ~/pytorch-course && . ~/pytorch-course/bin/activate
pip install -r requirements.txt
```

`requirements.txt` is the same in all five assignments' bundles, so this one environment serves
them all: for the next assignment, unzip its bundle and activate the same environment there
(`. ~/pytorch-course/bin/activate`); nothing to install again. On Linux it installs the CPU build
of torch (from PyTorch's own index, which the file names), without several GB of GPU
libraries; to use an NVIDIA GPU, install `{torch}` with CUDA first, following pytorch.org, and
`requirements.txt` keeps it.

If your network blocks download.pytorch.org (pip then retries it for minutes and installs
nothing), stop pip with Ctrl-C and install from PyPI alone (on Linux that torch brings its GPU
libraries, several GB):

```sh
{pypi_only}
```

On Colab, everything your code may import is already installed (do not reinstall it: another
torch, numpy or IPython can break Colab's kernel). Upload `{name}.zip` to the Files pane (it
lands in `/content`), open `{name}.ipynb` (File > Upload notebook), and run once in a new cell:

```
{colab}
```

This unzips the bundle into `/content/{name}`, makes it the notebook's folder, and installs
only what the check needs (`requirements-colab.txt`: no torch, no numpy).

## 2. Work

Write your code in `{name}.py` (or in `{name}.ipynb`), replacing every
`raise NotImplementedError(...)`. Keep the function names and signatures.

Your code may import {available}: nothing else is installed where it is graded, and the
check below refuses other imports too, with a message that says so.

## 3. Check

From this folder, with the environment active:

```sh
{check}
```

(use `{name}.ipynb` if you work in the notebook; save it first). It runs the public tests on
your file and prints a score table and the messages Gradescope shows; a function you have not
written yet is reported as "not implemented yet". To run the tests of one function only, add
`--function {function}`.

In the notebook (Jupyter or Colab), run its last cell instead, `autograder.check("{name}")`,
or `autograder.check("{name}", "{function}")` for one function: it checks the cells as you last
ran them, without saving, with the same tests and messages; "cell N" in a message is the cell
marked `[N]`.

Gradescope also runs hidden tests on other inputs, so passing every public test does not
guarantee full marks: test your functions on your own examples too.

## 4. Submit

Upload `{name}.py` (or `{name}.ipynb`) to the assignment on Gradescope. Only that file is graded.
"""


def student_entries(assignment: Assignment) -> list[tuple[str, bytes]]:
    """(path inside the bundle folder, content) of every file of the student bundle."""
    import nbformat

    if not handed_out(assignment):
        raise PackagingError(f"{assignment.name}: a student bundle needs the stub, handout.md and test_public.py")
    name = assignment.name
    stub = assignment.stub.read_text(encoding="utf-8")
    notebook = io.StringIO()
    nbformat.write(stub_notebook(stub, name), notebook)
    readme = STUDENT_README.format(name=name, torch=pinned(("torch",))[0], available=environment.available_text(),
                                   check=check_command(name, f"{name}.py"), colab=colab_setup(name),
                                   function=assignment.api[0], pypi_only=PYPI_ONLY)
    entries = [
        (f"{name}.py", stub.encode("utf-8")),
        (f"{name}.ipynb", notebook.getvalue().encode("utf-8")),
        ("handout.md", assignment.handout.read_bytes()),
        ("requirements.txt", requirements_txt().encode()),
        ("requirements-colab.txt", ("\n".join(pinned(tuple(environment.grader_distributions()))) + "\n").encode()),
        ("requirements/student.txt", environment.requirements_file("student").read_bytes()),
        ("README.md", readme.encode("utf-8")),
    ]
    entries += [(path, source.read_bytes()) for path, source in package_files(assignment, student=True)]
    for path, data in entries:
        if SOLUTION_MARKER.encode() in data or path.startswith("solutions/") or path.endswith("test_hidden.py"):
            raise PackagingError(f"{assignment.name}: the student bundle would contain {path}, which must stay private")
    return entries


def build_student_bundle(assignment: str | Assignment, dist: Path = ROOT / "dist") -> Path:
    """Write `dist/student/<assignment>/` and `dist/student/<assignment>.zip`; return the folder."""
    assignment = Assignment.get(assignment) if isinstance(assignment, str) else assignment
    entries = student_entries(assignment)
    folder = Path(dist) / "student" / assignment.name
    if folder.exists():
        shutil.rmtree(folder)
    for path, data in entries:
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    archive = _Zip(folder.with_suffix(".zip"))
    for path, data in entries:
        archive.add(f"{assignment.name}/{path}", data)
    archive.close()
    return folder


# --- `autograder build` ----------------------------------------------------------------------


def run(what: str, names: list[str] | None = None, dist: Path = ROOT / "dist") -> int:
    """Build `what` ("autograder" zips or "student-bundle"s) for `names`, default every ready assignment.
    Autograder zips are built only when every chosen reference gets full marks and every stub 0."""
    ready = gradable if what == "autograder" else handed_out
    chosen = [Assignment.get(n) for n in names or ()] or [Assignment(n) for n in NAMES if ready(Assignment(n))]
    if what == "autograder" and not grades_as_expected(chosen):
        return 1
    for assignment in chosen:
        if what == "autograder":
            path = build_autograder_zip(assignment, dist)
        else:
            path = build_student_bundle(assignment, dist).with_suffix(".zip")
        print(f"{assignment.name:<20} {path}")
    skipped = [n for n in NAMES if not ready(Assignment(n)) and not names]
    if skipped:
        print(f"skipped (not ready): {', '.join(skipped)}")
    return 0


def grades_as_expected(chosen: list[Assignment]) -> bool:
    """Grade each reference (full marks expected) and stub (0 expected) and print the totals;
    False, after saying what is wrong, when one of them grades otherwise."""
    from autograder.instructor.demo import expectation_problems, grade_reference_and_stub, total

    problems = []
    for assignment in chosen:
        with tempfile.TemporaryDirectory(prefix="autograder-build-") as out:
            outcomes = grade_reference_and_stub(assignment, Path(out))
        totals = ", ".join(f"{kind} {score:g} / {possible:g}" for kind, (score, possible)
                           in ((kind, total(outcome)) for kind, outcome in outcomes.items()))
        print(f"{assignment.name:<20} {totals}")
        problems += expectation_problems(assignment, outcomes)
    if problems:
        print("autograder build: nothing was built:\n" + "\n".join(f"  {p}" for p in problems), file=sys.stderr)
    return not problems
