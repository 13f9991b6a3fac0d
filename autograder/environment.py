"""The grading environment, declared once: what student code may import.

`requirements/student.txt` is THE list of packages student code may import besides the Python
standard library; `requirements/grader.txt` is what the grader itself runs with, and
`requirements/instructor.txt` the instructors' tools and the kit's tests (names only;
constraints.txt pins the versions). pyproject.toml, the Makefile, Gradescope's setup.sh, the
student bundle (autograder/instructor/bundles.py) and the handouts (autograder/instructor/handouts.py) all read
them. This module reads the declaration for the grader and keeps student code to it:

Grader side (trusted; reads files, imports pypa `packaging`):
  * `student_distributions()`, `grader_distributions()`, `instructor_distributions()`: the
    names declared in requirements/<kind>.txt, in file order;
  * `student_imports()`: the same packages as students import them (`IPython.display`);
  * `allowed_modules()`: the top-level import names the declared student packages provide
    where they are installed (`mpl_toolkits` from matplotlib, `IPython` from ipython), from
    the installed metadata; once per grading session;
  * `available_text()`: "the Python standard library, torch, numpy, ..., IPython and ipywidgets".

Student side (the sandboxed child, right before the submission's code runs):
  * `install_import_guard(allowed, student_files, available)`: from then on, an import made by
    student code of a top-level name that is neither in the standard library nor in `allowed`
    raises ModuleNotFoundError, even when the module is already in sys.modules (torch imports
    typing_extensions and sympy itself), so that a file gets the same answer on a laptop, on
    Colab and on Gradescope. Imports made by library code are never affected. It is not a
    security boundary (the process is sandboxed separately), and costs no filesystem work.
"""

from __future__ import annotations

import builtins
import importlib
import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements"
KINDS = ("student", "grader", "instructor")
# A comment `# import X` on a line of requirements/student.txt: how students import the package.
SHOWN_AS = re.compile(r"#\s*import\s+([A-Za-z_][\w.]*)")
# Never importable by student code, whatever `allowed` says: the grader itself, and the child's
# `__main__` (which is autograder.child.main).
NEVER = frozenset({"autograder", "__main__"})


# --- the declaration (grader side) ---------------------------------------------------------


def requirements_file(kind: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"no such declaration: {kind!r} (one of {', '.join(KINDS)})")
    return REQUIREMENTS / f"{kind}.txt"


@lru_cache(maxsize=None)
def _declared(kind: str) -> tuple[tuple[str, str], ...]:
    """(distribution name, name as students import it) for each line of requirements/<kind>.txt."""
    from packaging.requirements import Requirement

    path = requirements_file(kind)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing: it declares the grading environment "
                                f"(requirements/ ships with the kit)") from None
    entries = []
    for line in text.splitlines():
        requirement, _, comment = line.partition("#")
        if requirement.strip():
            name = Requirement(requirement.strip()).name
            shown = SHOWN_AS.match("#" + comment) if comment else None
            entries.append((name, shown.group(1) if shown else name))
    return tuple(entries)


def student_distributions() -> list[str]:
    """The packages student code may import besides the standard library (requirements/student.txt)."""
    return [name for name, _ in _declared("student")]


def grader_distributions() -> list[str]:
    """What the grader needs at run time besides the student packages (requirements/grader.txt)."""
    return [name for name, _ in _declared("grader")]


def instructor_distributions() -> list[str]:
    """Instructors' tools and the kit's tests, never installed for grading (requirements/instructor.txt)."""
    return [name for name, _ in _declared("instructor")]


def student_imports() -> list[str]:
    """The student packages as students import them: torch, ..., IPython.display, ipywidgets."""
    return [shown for _, shown in _declared("student")]


def available_text() -> str:
    """What student code may import, for messages: "the Python standard library, torch, ... and ipywidgets"."""
    names = list(dict.fromkeys(shown.split(".")[0] for shown in student_imports()))
    return "the Python standard library, " + (", ".join(names[:-1]) + " and " if len(names) > 1 else "") + names[-1]


def normal(name: str) -> str:
    """A distribution name as PyPI compares them (PEP 503): `PyYAML` -> `pyyaml`, `a_b.c` -> `a-b-c`."""
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=None)
def allowed_modules() -> tuple[str, ...]:
    """The top-level import names that the installed student packages provide, sorted.

    From each declared package's installed metadata (its top_level.txt, else the first part of
    each .py file it installed, as `importlib.metadata.packages_distributions()` infers them), so
    a package with several top-level names (matplotlib: `matplotlib`, `mpl_toolkits`, `pylab`) or
    another import name (ipython: `IPython`) is covered. Only the declared packages are read:
    reading every installed package's metadata cost a grade 0.15 s on one CPU. A declared
    package that is not installed adds nothing: importing it fails anyway."""
    found: set[str] = set()
    for name in student_distributions():
        found |= _top_level_names(name)
    return tuple(sorted(module for module in found - NEVER if module.isidentifier()))


def _top_level_names(distribution: str) -> set[str]:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import distribution as installed

    try:
        found = installed(distribution)
    except PackageNotFoundError:
        return set()
    declared = found.read_text("top_level.txt")
    if declared:
        return {line.strip() for line in declared.splitlines() if line.strip()}
    return {f.parts[0] if len(f.parts) > 1 else f.with_suffix("").name
            for f in found.files or () if f.suffix == ".py"}


# --- the guard (student side) --------------------------------------------------------------


_ORIGINALS: dict[str, object] = {}


def install_import_guard(allowed: Iterable[str], student_files: Iterable[str], available: str) -> None:
    """Refuse imports of packages outside the grading environment by code from `student_files`.

    Code counts as the student's when it was compiled from one of `student_files` or runs in a
    module whose `__file__` is one of them; `import x`, `__import__("x")`,
    `importlib.import_module("x")` and `importlib.__import__("x")` are all checked. A refused
    import raises ModuleNotFoundError (an ImportError, so `try: import google.colab / except
    ImportError:` works) with `.name` set and a message that names `available`. Installing it
    again replaces the previous guard."""
    permitted = (frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)
                 | frozenset(allowed)) - NEVER
    files = frozenset(f for f in student_files if isinstance(f, str))
    where = f", which has {available}" if available else ""
    original_import = _ORIGINALS.setdefault("__import__", builtins.__import__)
    original_import_module = _ORIGINALS.setdefault("import_module", importlib.import_module)
    original_importlib_import = _ORIGINALS.setdefault("importlib.__import__", importlib.__import__)

    def is_student(namespace) -> bool:
        if not isinstance(namespace, dict):
            return False
        file = namespace.get("__file__")
        return isinstance(file, str) and file in files

    def check(top: str, namespace, depth: int) -> None:
        """Raise if `top` is outside the environment and the import comes from student code."""
        if top in permitted:
            return
        caller = sys._getframe(depth + 1)  # noqa: SLF001 - the frame that asked for the import
        if is_student(namespace) or is_student(caller.f_globals) or caller.f_code.co_filename in files:
            error = ModuleNotFoundError(f"No module named {top!r}: {top} is not in the grading environment{where}",
                                        name=top)
            raise error

    def guarded(original):
        """`original` (builtins.__import__ or importlib.__import__), behind `check`."""
        def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002 - __import__'s names
            if level == 0 and isinstance(name, str):
                check(name.partition(".")[0], globals, 1)
            return original(name, globals, locals, fromlist, level)
        return guarded_import

    def guarded_import_module(name, package=None):
        if isinstance(name, str):
            absolute = name if not name.startswith(".") else (package or "")
            if absolute:
                check(absolute.partition(".")[0], None, 1)
        return original_import_module(name, package)

    guarded_import_module.__doc__ = original_import_module.__doc__
    guarded_import_module.__wrapped__ = original_import_module
    builtins.__import__ = guarded(original_import)
    importlib.import_module = guarded_import_module
    importlib.__import__ = guarded(original_importlib_import)
