"""Where each assignment's pieces live. The assignment id is the file stem students submit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent            # the kit: a clone of the repository, or /autograder/source

# The course, as data: `course.json` lists the assignments in course order, each with
#   "name"        the assignment id (the file stem students submit),
#   "api"         the functions and classes of its stub, which it grades (a test checks that the
#                 stub and the solution define exactly these); loading a submission runs what they need,
#   "hint_level"  how much a failing test's hint says (autograder.session.hints): "solution" writes
#                 the fix, "mistake" (the default) names the mistake without a line of the solution,
#                 "outcome" gives no hint; it travels with the engine into the zip and the bundle,
#   "warm_up"     modules the student's process imports while the grader still collects tests
#                 (an optimizer's first step imports torch._dynamo, ~1.3 s); optional,
#   "statement"   the code the assignment's contract itself writes (`x[:2, -1]`, `pred = X @ w + b`):
#                 the only lines of its solution that the handout, the stub and the public graders
#                 may hold (tests/test_hints.py checks the student bundle); optional.
# Adding an assignment adds an entry there: no code here names one (README, "Adding an assignment").
DATA = PACKAGE / "course.json"
FIELDS = {"name", "api", "hint_level", "warm_up", "statement"}


class CourseDataError(ValueError):
    """course.json does not say what the kit needs."""


def _entry(index: int, entry: object) -> dict:
    """One assignment of course.json, checked: a clear error names the entry and the field."""
    where = f"{DATA.name}, assignment {index + 1}"
    if not isinstance(entry, dict):
        raise CourseDataError(f"{where}: expected an object with \"name\" and \"api\", got {entry!r}")
    unknown = sorted(set(entry) - FIELDS)
    if unknown:
        raise CourseDataError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(FIELDS))}")
    name = entry.get("name")
    if not (isinstance(name, str) and name.isidentifier()):
        raise CourseDataError(f"{where}: \"name\" must be a Python identifier (the submitted file's stem), "
                              f"got {name!r}")
    for field in ("api", "warm_up"):
        items = entry.get(field, [])
        if not (isinstance(items, list) and all(isinstance(i, str) and i for i in items)):
            raise CourseDataError(f"{where} ({name}): \"{field}\" must be a list of names, got {items!r}")
    if not entry.get("api"):
        raise CourseDataError(f"{where} ({name}): \"api\" must list the functions and classes it grades")
    statement = entry.get("statement", [])
    if not (isinstance(statement, list) and all(isinstance(line, str) and line.strip() for line in statement)):
        raise CourseDataError(f"{where} ({name}): \"statement\" must be a list of lines of code, got {statement!r}")
    if not isinstance(entry.get("hint_level", "mistake"), str):
        raise CourseDataError(f"{where} ({name}): \"hint_level\" must be a string")
    return entry


def _read(path: Path = DATA) -> list[dict]:
    """Every assignment of course.json, in course order, each name once."""
    entries = json.loads(path.read_text(encoding="utf-8")).get("assignments", [])
    checked = [_entry(i, e) for i, e in enumerate(entries)]
    names = [e["name"] for e in checked]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CourseDataError(f"{path.name}: assignment(s) listed twice: {', '.join(twice)}")
    return checked


_COURSE = _read()
NAMES = tuple(e["name"] for e in _COURSE)
API = {e["name"]: tuple(e["api"]) for e in _COURSE}
WARM_UP = {e["name"]: tuple(e["warm_up"]) for e in _COURSE if e.get("warm_up")}
HINT_LEVELS = {e["name"]: e.get("hint_level", "mistake") for e in _COURSE}
STATEMENTS = {e["name"]: tuple(e.get("statement", ())) for e in _COURSE}


class UnknownAssignment(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown assignment {name!r}; choose one of: {', '.join(NAMES)}")


@dataclass(frozen=True)
class Assignment:
    """Where one assignment's pieces live, in the kit at `root` (the instructors' tools are tested
    on a kit in a temporary folder)."""

    name: str
    root: Path = ROOT

    @classmethod
    def get(cls, name: str) -> "Assignment":
        if name not in NAMES:
            raise UnknownAssignment(name)
        return cls(name)

    @property
    def graders(self) -> Path:
        return graders_folder(self.root) / self.name

    @property
    def solution(self) -> Path:
        return solutions_folder(self.root) / f"{self.name}.py"

    @property
    def stub(self) -> Path:
        return self.root / "assignments" / self.name / f"{self.name}.py"

    @property
    def handout(self) -> Path:
        return self.stub.with_name("handout.md")

    @property
    def api(self) -> tuple[str, ...]:
        return API[self.name]

    @property
    def warm_up(self) -> tuple[str, ...]:
        return WARM_UP.get(self.name, ())

    @property
    def hint_level(self) -> str:
        return HINT_LEVELS.get(self.name, "mistake")

    @property
    def statement(self) -> tuple[str, ...]:
        """The code its contract writes: the only solution lines a student may be shown."""
        return STATEMENTS.get(self.name, ())

    def unknown_function(self, names: list[str]) -> str | None:
        """Why `names` (a student's choice of functions to check) are not all this assignment's, or None."""
        unknown = [name for name in names if name not in self.api]
        if not unknown:
            return None
        return f"{self.name} has no function or class {unknown[0]!r}; give one of: {', '.join(self.api)}"

    @property
    def accepted_files(self) -> tuple[str, str]:
        return f"{self.name}.py", f"{self.name}.ipynb"


def graders_folder(root: Path = ROOT) -> Path:
    """Every assignment's graders, and the session's pytest.ini."""
    return root / PACKAGE.name / "graders"


def solutions_folder(root: Path = ROOT) -> Path:
    """The reference solutions: instructors only."""
    return root / "solutions"


def available() -> list[Assignment]:
    """Assignments whose graders exist, in course order."""
    return [a for a in map(Assignment, NAMES) if a.graders.is_dir()]


def solution_names(root: Path = ROOT) -> list[str]:
    """The assignments that have a reference solution in `root`, sorted; `_`-prefixed files are not ones."""
    return sorted(p.stem for p in solutions_folder(root).glob("*.py") if not p.name.startswith("_"))


def handouts(root: Path = ROOT) -> list[Path]:
    """Every handout in `root` (also those of assignments without graders yet), sorted."""
    return sorted(root.glob("assignments/*/handout.md"))
