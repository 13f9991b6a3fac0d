"""What one grading session is asked to do: one typed object, shared by every tier.

The supervisor builds a `SessionSettings` per submission and writes the list once, as JSON
(`write`); the session reads it back (`read`) and hands each one, as it is, to the pytest
plugin. The part the student's process needs, `sandbox.Settings`, travels on to it inside the
zygote's fork request. Nothing else carries settings: no pytest command-line options, no
side channels.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.isolation.sandbox import Settings as Sandbox


@dataclass(frozen=True)
class SessionSettings:
    assignment: str
    verdicts: str                      # the JSON-lines file the supervisor reads
    submission: str | None = None      # the prepared .py file to grade
    program: str | None = None         # JSON: which statements of it run (autograder.submission.program)
    problem: str | None = None         # why there is nothing to grade (shown in every test)
    call_timeout: float | None = None  # seconds per call into the submission (None: the default)
    require_cuda: bool = False         # CUDA tests run (and fail) even without a GPU
    public_only: bool = False          # only test_public.py, as a student's own check
    select: tuple[str, ...] = ()       # pytest -k expressions, any of which selects a test
    functions: tuple[str, ...] = ()    # only the tests tagged with one of these functions or classes
    hints: str | None = None           # hint level (autograder.session.hints); None: the assignment's
    sandbox: Sandbox = field(default_factory=Sandbox)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SessionSettings":
        return cls(**{**data, "select": tuple(data.get("select", ())), "functions": tuple(data.get("functions", ())),
                      "sandbox": Sandbox(**data.get("sandbox", {}))})


def write(path: Path, sessions: list[SessionSettings]) -> None:
    path.write_text(json.dumps([s.to_dict() for s in sessions]), encoding="utf-8")


def read(path: Path) -> list[SessionSettings]:
    return [SessionSettings.from_dict(item) for item in json.loads(path.read_text(encoding="utf-8"))]
