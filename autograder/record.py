"""The record of one grading session: JSON lines that the session writes and the supervisor reads.

The session (`autograder.session.plugin`) appends one event per line with `Recorder`, flushed at
once, so whatever it wrote before a crash is kept. The supervisor reads the file back with
`SessionRecord.read` and scores from it alone. The events:

    {"event": "manifest", "tests": [{id, name, number, max_score, visibility, tags, counts, ...}]}
    {"event": "verdict", "id": ..., "outcome": "passed" | "failed" | "skipped", "output": ...,
     "counts": bool, "score": number or absent (partial credit),
     "not_implemented": true or absent (a function the test calls still raises NotImplementedError),
     "unwritten": the name of that function of the student's, or absent}
    {"event": "note", "text": ...}                    shown to the student, at the top
    {"event": "tampered", "changes": [{"name", "when"}]}   kit code the submission changed
    {"event": "grader_error", "reason": ...}          the student's process could not start
    {"event": "load", "unloaded": [{"where", "text", "problem"}], "failed": message or null}
                                                      how the student's file loaded
    {"event": "finished", "exitstatus": ...}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder import results


class Recorder:
    """The session's side: one event per line."""

    def __init__(self, path: str | None) -> None:
        self.out = open(path, "a", encoding="utf-8") if path else None

    def emit(self, event: str, **fields) -> None:
        if self.out is not None:
            self.out.write(json.dumps({"event": event, **fields}) + "\n")
            self.out.flush()

    def close(self) -> None:
        if self.out is not None:
            self.out.close()


@dataclass
class SessionRecord:
    """What a grading session wrote: its manifest, verdicts and notes."""

    manifest: list[results.TestInfo] = field(default_factory=list)
    verdicts: list[results.Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tampered: list[dict] = field(default_factory=list)   # kit code the submission changed in its process
    finished: bool = False
    grader_error: str | None = None   # the student's process could not start
    unloaded: list[dict] = field(default_factory=list)   # pieces of the file that did not run
    load_failed: str | None = None    # why nothing of the file could be loaded

    @classmethod
    def read(cls, path: Path) -> "SessionRecord":
        record = cls()
        if not path.exists():
            return record
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            record.add(event)
        return record

    def add(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "manifest":
            for test in event["tests"]:
                self.manifest.append(results.TestInfo(
                    id=test["id"], name=test["name"], number=test["number"],
                    max_score=test["max_score"], visibility=test["visibility"], tags=tuple(test["tags"]),
                    counts=test.get("counts", True) is not False))
        elif kind == "verdict":
            self.verdicts.append(results.Verdict(id=event["id"], outcome=event["outcome"],
                                                 output=event.get("output", ""),
                                                 counts=event.get("counts", True),
                                                 score=event.get("score"),
                                                 not_implemented=event.get("not_implemented") is True,
                                                 unwritten=str(event.get("unwritten") or "")[:200] or None))
        elif kind == "note":
            self.notes.append(event["text"])
        elif kind == "tampered":
            self.tampered += [{"name": str(c.get("name")), "when": str(c.get("when"))}
                              for c in event.get("changes", []) if isinstance(c, dict)]
        elif kind == "finished":
            self.finished = True
        elif kind == "load":
            self.unloaded = [{key: str(piece.get(key, "")) for key in ("where", "text", "problem")}
                             for piece in event.get("unloaded", []) if isinstance(piece, dict)]
            self.load_failed = None if event.get("failed") is None else str(event["failed"])
        elif kind == "grader_error" and self.grader_error is None:
            self.grader_error = str(event.get("reason", ""))
