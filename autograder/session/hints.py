"""How much a failing test's hint says: the instructor's choice, per assignment.

Three levels (`autograder.course.HINT_LEVELS` sets one per assignment; `autograder grade --hints`
overrides it for one grade):

- "solution": the fix, written as code where the grader has one;
- "mistake":  the likely mistake, named without writing a line of the reference solution;
- "outcome":  no hint: only what was expected and what came back.

A grader passes `hint=` a plain string (shown at "mistake" and "solution") or a `Hint`: its
`mistake` text, and the `key` of its fix in `hints.json` (`autograder/graders/<assignment>/hints.json`
and, for the checks every assignment shares, `autograder/graders/hints.json`). Those files go
into the Gradescope zip, never into the student bundle, whose checks therefore show at most the
"mistake" hint. `Hint.after(lead)` puts a sentence first at both levels (what a failure showed,
such as the learning rate a trajectory followed), so a fix in hints.json never repeats it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

LEVELS = ("solution", "mistake", "outcome")
DEFAULT = "mistake"
TABLE = "hints.json"


@dataclass(frozen=True)
class Hint:
    """A hint at two levels: `mistake` (shipped in graders students may read) and the key of the
    fix that writes the code (kept in hints.json, instructors only)."""

    mistake: str
    key: str
    lead: str = ""

    def after(self, lead: str) -> "Hint":
        """This hint with `lead` said first (at both levels)."""
        return Hint(self.mistake, self.key, lead + self.lead)


class UnknownLevel(ValueError):
    def __init__(self, level: str) -> None:
        super().__init__(f"unknown hint level {level!r}; choose one of: {', '.join(LEVELS)}")


def checked(level: str) -> str:
    if level not in LEVELS:
        raise UnknownLevel(level)
    return level


def solutions(graders: Path) -> dict[str, str]:
    """The fixes that `Hint.key`s name, from the shared table and then the assignment's own
    (`graders` is the assignment's folder); missing files give none."""
    table: dict[str, str] = {}
    for path in (graders.parent / TABLE, graders / TABLE):
        if path.is_file():
            table.update(json.loads(path.read_text(encoding="utf-8")))
    return table


def text(hint: str | Hint | None, level: str, fixes: dict[str, str]) -> str | None:
    """What the student reads after "Hint:" at `level`; None for no hint line."""
    if hint is None or level == "outcome":
        return None
    if isinstance(hint, Hint):
        return hint.lead + (fixes.get(hint.key, hint.mistake) if level == "solution" else hint.mistake)
    return hint
