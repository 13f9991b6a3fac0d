"""Grade one submission: the supervisor that always writes results.json.

    results = grade("tensors", Path("my_folder"), Path("results.json"))

The supervisor never imports torch or student code. It prepares the submission in a private
work folder, runs the grading session (`autograder.session`) as a subprocess, reads the
manifest and verdicts the session recorded, kills every process the submission left behind,
and only then builds, validates and atomically writes results.json. Whatever fails — the
submission, the session, this code — a valid results.json with a clear message is written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import reaper, results, sandbox
from autograder.assignments import Assignment
from autograder.launch import python_command
from autograder.submission import SubmissionProblem, prepare

SESSION_TIMEOUT = 20 * 60.0


@dataclass
class Options:
    call_timeout: float | None = None
    require_cuda: bool = False
    session_timeout: float = SESSION_TIMEOUT
    select: list[str] = field(default_factory=list)
    verbose: bool = False
    public_only: bool = False
    memory_mb: int = sandbox.MEMORY_MB


@dataclass
class SessionRecord:
    """What a grading session wrote: its manifest, verdicts and notes."""

    manifest: list[results.TestInfo] = field(default_factory=list)
    verdicts: list[results.Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    finished: bool = False

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
                    max_score=test["max_score"], visibility=test["visibility"], tags=tuple(test["tags"])))
        elif kind == "verdict":
            self.verdicts.append(results.Verdict(id=event["id"], outcome=event["outcome"],
                                                 output=event.get("output", ""),
                                                 counts=event.get("counts", True)))
        elif kind == "note":
            self.notes.append(event["text"])
        elif kind == "finished":
            self.finished = True


def grade(assignment_name: str, submission: Path, out: Path | None = None,
          options: Options | None = None) -> dict:
    """Grade `submission`, write results.json to `out` (if given) and return it."""
    options = options or Options()
    started = time.monotonic()
    reaper.become_subreaper()
    ids = sandbox.identity()
    sandbox.protect_kit()
    print(f"autograder: {sandbox.describe_identity(ids)}", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="autograder-"))
    scratch = sandbox.scratch_folder(ids)
    try:
        outcome = _grade_in(work, scratch, ids, Assignment.get(assignment_name), Path(submission), options)
    except Exception as error:  # noqa: BLE001 - whatever happens, results.json gets written
        outcome = results.error_results(f"The autograder hit an internal error ({type(error).__name__}: "
                                        f"{error}). Your submission was not graded; please tell your instructor.")
    finally:
        reaper.kill_descendants()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    outcome["execution_time"] = round(time.monotonic() - started, 2)
    if out is not None:
        write(out, outcome)
    return outcome


def _grade_in(work: Path, scratch: Path, ids, assignment: Assignment, submission: Path,
              options: Options) -> dict:
    notes: list[str] = []
    confinement = sandbox.Settings(uid=ids and ids[0], gid=ids and ids[1], memory_mb=options.memory_mb,
                                   isolate=True)
    settings = {"assignment": assignment.name, "verdicts": str(work / "verdicts.jsonl"),
                "call_timeout": options.call_timeout, "require_cuda": options.require_cuda,
                "select": options.select, "public_only": options.public_only,
                "sandbox": confinement.to_dict()}
    try:
        prepared = prepare(assignment, submission, scratch)
        sandbox.hand_over(prepared.path, ids)
        settings.update(submission=str(prepared.path))
        notes.append(f"Graded {prepared.graded}.")
        notes += prepared.notes
    except SubmissionProblem as problem:
        settings["problem"] = str(problem)
        notes.append(str(problem))
    (work / "session.json").write_text(json.dumps(settings), encoding="utf-8")
    status = run_session(work, options.session_timeout, options.verbose)
    record = SessionRecord.read(work / "verdicts.jsonl")
    notes += record.notes
    if not record.manifest:
        return results.error_results(
            "The autograder could not collect its tests" + (f" ({status})" if status else "")
            + ". Your submission was not graded; please tell your instructor.")
    if not record.finished:
        notes.append(f"Grading stopped early ({status or 'the grader process ended unexpectedly'}); "
                     "tests that did not run score 0.")
    return results.build_results(record.manifest, record.verdicts, output="\n".join(notes))


def run_session(work: Path, timeout: float, verbose: bool = False) -> str:
    """Run the grading session; return "" on a normal end, else what went wrong.

    Its output (pytest's progress, tracebacks of grader bugs) goes to session.log, and to
    stderr when something went wrong or `verbose` is set."""
    command = python_command("autograder.session", str(work / "session.json"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
                "PYTHONDONTWRITEBYTECODE": "1"})
    log = work / "session.log"
    with open(log, "wb") as handle:
        try:
            process = subprocess.run(command, cwd=work, env=env, timeout=timeout,
                                     stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT)
            status = ""
            if process.returncode < 0:
                status = f"the grader process was killed by signal {-process.returncode}, possibly for lack of memory"
            elif process.returncode not in (0, 1):
                status = f"the grader process exited with status {process.returncode}"
        except subprocess.TimeoutExpired:
            status = f"the whole grading run took longer than {timeout:g} s"
    text = log.read_text(encoding="utf-8", errors="replace")
    if verbose or status or "autograder: grader error" in text:
        sys.stderr.write(text[-20000:])
    return status


def write(out: Path, outcome: dict) -> None:
    try:
        results.write_results(out, outcome)
    except results.ResultsError as error:
        results.write_results(out, results.error_results(
            f"The autograder produced invalid results ({error}). Please tell your instructor."))
