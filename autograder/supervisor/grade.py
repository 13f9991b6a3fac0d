"""Grade one submission: the supervisor that always writes results.json.

    results = grade("tensors", Path("my_folder"), Path("results.json"))

The supervisor never imports torch or student code. It prepares the submission in a private
work folder, runs the grading session (`autograder.session.main`) as a subprocess, reads the
manifest and verdicts the session recorded, kills every process the submission left behind,
and only then builds, validates and atomically writes results.json. Whatever fails — the
submission, the session, this code — a valid results.json with a clear message is written.

A session that could not start the student's process at all (a problem of the grader, not of
the submission) is run once more; if it fails again, results.json says "not graded" and
carries {"status": "grader_error"} in `extra_data`, which `autograder.instructor.regrade` reads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from autograder.isolation import cgroup, processes, sandbox

from autograder import results
from autograder.course import Assignment
from autograder.isolation.launch import python_command
from autograder.record import SessionRecord
from autograder.report import hidden_points
from autograder.settings import SessionSettings, write as write_settings
from autograder.submission.prepare import SubmissionProblem, prepare

# The wall clock of one submission's session: below Gradescope's 10-minute timeout (README),
# leaving a retry's start and the writing of results.json. The student's own time is bounded
# first (`student.TIME_BUDGET`, `student.LOAD_BUDGET`).
SESSION_TIMEOUT = 8 * 60.0
GRADER_ERROR = "grader_error"
NOT_LOADED = "not_loaded"   # the submission gave no code to grade (no file, not Python, nothing parsed)
STOPPED = "stopped"         # the session ended before every test ran (timeout, killed)
PARTLY_LOADED = "partly_loaded"   # graded, but pieces of the file did not run (a syntax error, a failed import)
# What the session prints on its stdout as each submission is done (autograder.session.main).
DONE = re.compile(r"done (?P<index>\d+) (?P<bugs>\d+)")


@dataclass
class Options:
    call_timeout: float | None = None
    require_cuda: bool = False
    session_timeout: float = SESSION_TIMEOUT
    select: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)   # only these functions' tests (their tags)
    verbose: bool = False
    public_only: bool = False
    memory_mb: int = sandbox.MEMORY_MB
    hints: str | None = None   # hint level; None: the assignment's (course.HINT_LEVELS)


def grade(assignment_name: str, submission: Path, out: Path | None = None,
          options: Options | None = None) -> dict:
    """Grade `submission`, write results.json to `out` (if given) and return it.

    Raises ResultsNotWritten, with the results in its `outcomes`, if `out` could not be written."""
    return grade_batch(assignment_name, [(Path(submission), out)], options, sessions=1)[0]


@dataclass
class Submission:
    """One submission of a batch: where it is, where its results go, its private folders."""

    path: Path
    out: Path | None
    work: Path
    scratch: Path
    notes: list[str] = field(default_factory=list)   # for the student, under the banner
    graded: str = ""                                  # the file graded, as the student named it (the banner)
    settings: SessionSettings | None = None
    started: float = field(default_factory=time.monotonic)
    retried: bool = False
    unparsed: bool = False   # no statement of the file could be parsed (syntax errors only)


def grade_batch(assignment_name: str, items: list[tuple[Path, Path | None]], options: Options | None = None,
                sessions: int | None = None, on_done: Callable[[int, dict], None] | None = None) -> list[dict]:
    """Grade many submissions of one assignment; `sessions` sessions run in parallel.

    Every session (`run_sessions`) imports torch once and forks the student's processes from
    its zygote; with one submission this is a plain grade, with more each session grades its
    share one after the other. Each results.json is written as soon as its submission is
    done (and `on_done(index, results)` called), after every process it started was killed and
    its files removed. Raises ResultsNotWritten at the end if some results.json could not be
    written (a full disk that even the space claimed beforehand could not absorb)."""
    options = options or Options()
    processes.become_subreaper()
    ids = sandbox.identity()
    sandbox.protect_kit()
    if options.verbose or os.geteuid() == 0:   # for Gradescope's log; a student's check needs none of it
        print(f"autograder: {sandbox.describe_identity(ids)}", file=sys.stderr)
    assignment = Assignment.get(assignment_name)
    batch = [Submission(Path(s), o, Path(tempfile.mkdtemp(prefix="autograder-")), sandbox.scratch_folder(ids))
             for s, o in items]
    outcomes: list[dict | None] = [None] * len(batch)

    unwritten: list[str] = []

    def finish(index: int, status: str) -> None:
        submission = batch[index]
        record: SessionRecord | None = SessionRecord.read(submission.work / "verdicts.jsonl")
        if _needs_retry(submission, record):
            submission.retried = True
            (submission.work / "verdicts.jsonl").unlink(missing_ok=True)
            status = run_session(submission, options)
            if len(batch) == 1:   # in a batch, other sessions are descendants too
                processes.kill_descendants()
            record = None   # the second session's, read by _conclude
        outcomes[index] = _conclude(submission, status, record)
        # The submission's files go first: they may be what filled the disk.
        shutil.rmtree(submission.work, ignore_errors=True)
        shutil.rmtree(submission.scratch, ignore_errors=True)
        if submission.out is not None:
            try:
                write(submission.out, outcomes[index])
            except OSError as error:
                unwritten.append(f"{submission.out}: {error.strerror or error}")
                print(f"autograder: could not write {submission.out}: {error.strerror or error}", file=sys.stderr)
        if on_done is not None:
            on_done(index, outcomes[index])

    try:
        for submission in batch:
            _reserve(submission.out)
            _prepare(submission, assignment, ids, options)
        if len(batch) == 1:
            status = run_session(batch[0], options)
            processes.kill_descendants()
            finish(0, status)
        else:
            _run_in_parallel(batch, options, sessions or os.cpu_count() or 1, finish)
    except Exception as error:  # noqa: BLE001 - a bug of ours still ends in a valid results.json
        print(f"autograder: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        stopped = f"the autograder hit an internal error ({type(error).__name__})"
    else:
        stopped = "the grader stopped before reaching this submission"
    finally:
        processes.kill_descendants()
        cgroup.sweep()
    for index in range(len(batch)):
        if outcomes[index] is None:
            finish(index, stopped)
    if unwritten:
        raise ResultsNotWritten(unwritten, outcomes)
    return outcomes


class ResultsNotWritten(OSError):
    """Some results.json files could not be written (a full or read-only disk); `outcomes`
    holds every submission's results all the same."""

    def __init__(self, failures: list[str], outcomes: list[dict]) -> None:
        super().__init__("could not write " + "; ".join(failures))
        self.outcomes = outcomes


def _reserve(out: Path | None) -> None:
    """Claim the space of results.json before any student code runs (see results.reserve)."""
    if out is not None:
        try:
            results.reserve(out)
        except OSError as error:
            print(f"autograder: could not reserve {out} ({error.strerror or error}); "
                  "it will be written at the end", file=sys.stderr)


def _prepare(submission: Submission, assignment: Assignment, ids, options: Options) -> None:
    settings = SessionSettings(
        assignment=assignment.name, verdicts=str(submission.work / "verdicts.jsonl"),
        call_timeout=options.call_timeout, require_cuda=options.require_cuda, public_only=options.public_only,
        select=tuple(options.select), functions=tuple(options.functions), hints=options.hints,
        sandbox=sandbox.Settings(uid=ids and ids[0], gid=ids and ids[1], memory_mb=options.memory_mb, isolate=True))
    try:
        prepared = prepare(assignment, submission.path, submission.scratch)
        sandbox.hand_over(prepared.path, ids)
        program = submission.work / "program.json"   # the grader's private folder: the child never sees it
        program.write_text(json.dumps(prepared.program.to_dict()), encoding="utf-8")
        submission.settings = replace(settings, submission=str(prepared.path), program=str(program))
        submission.graded = prepared.graded
        submission.notes += prepared.notes
        submission.unparsed = not prepared.program.statements
    except SubmissionProblem as problem:
        submission.settings = replace(settings, problem=str(problem))
        submission.notes.append(str(problem))


def _needs_retry(submission: Submission, record: SessionRecord) -> bool:
    """Once, when the grader could not start the student's process."""
    return not submission.retried and record.grader_error is not None


def _conclude(submission: Submission, status: str, record: SessionRecord | None = None) -> dict:
    """results.json for one finished submission, from what its session recorded (`record`, read
    here when not given)."""
    try:
        if record is None:
            record = SessionRecord.read(submission.work / "verdicts.jsonl")
        notes = submission.notes + record.notes
        if record.grader_error is not None:
            tries = "twice" if submission.retried else "once"
            outcome = results.error_results(
                f"{record.grader_error}\nYour submission was not graded (the grader tried {tries}).",
                record.manifest)
            outcome["extra_data"] = {"status": GRADER_ERROR, "reason": results.shorten(record.grader_error, 500)}
        elif not record.manifest:
            outcome = results.error_results(
                "The autograder could not collect its tests" + (f" ({status})" if status else "")
                + ". Your submission was not graded; please tell your instructor.")
            outcome["extra_data"] = {"status": GRADER_ERROR, "reason": "the grader could not collect its tests"}
        else:
            if not record.finished:
                notes.append(f"Grading stopped early ({status or 'the grader process ended unexpectedly'}); "
                             "tests that did not run score 0.")
            banner = [f"Graded {submission.graded}."] if submission.graded else []
            outcome = results.build_results(record.manifest, record.verdicts, output="\n".join(banner + notes))
            settings = submission.settings or SessionSettings(assignment="", verdicts="")   # None: never prepared
            extra: dict = {"tampered": record.tampered} if record.tampered else {}
            if notes:   # what the student was told, as data for the regrade
                extra["notes"] = notes
            if settings.problem or submission.unparsed or record.load_failed:
                extra.update(status=NOT_LOADED, reason=settings.problem or record.load_failed
                             or "no statement of the file could be parsed (syntax errors)")
            elif not record.finished:
                extra.update(status=STOPPED, reason=status or "the grader process ended unexpectedly")
            elif record.unloaded:   # graded; the notes say which pieces did not run
                extra.update(status=PARTLY_LOADED, unloaded=record.unloaded)
            if settings.public_only and not settings.functions:   # a student's check: what the hidden tests are worth
                extra["hidden_points"] = hidden_points(settings.assignment)
            if extra:
                outcome["extra_data"] = extra
    except Exception as error:  # noqa: BLE001 - whatever happens, results.json gets written
        outcome = results.error_results(f"The autograder hit an internal error ({type(error).__name__}: "
                                        f"{error}). Your submission was not graded; please tell your instructor.")
        outcome["extra_data"] = {"status": GRADER_ERROR, "reason": f"internal error ({type(error).__name__})"}
    outcome["execution_time"] = round(time.monotonic() - submission.started, 2)
    return outcome


def _run_in_parallel(batch: list[Submission], options: Options, sessions: int, finish) -> None:
    """`sessions` batch sessions, each grading every N-th submission, in parallel. A session that
    spends more than `options.session_timeout` on one submission is killed: that submission is
    finished as stopped, and a new session grades the rest of its share."""
    def run_share(indices: list[int]) -> None:
        while indices:
            folder = Path(tempfile.mkdtemp(prefix="autograder-batch-"))
            try:
                done, stopped = run_sessions(folder, [batch[i].settings for i in indices], options,
                                             lambda position: finish(indices[position], ""))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            if done < len(indices):
                finish(indices[done], stopped)
                done += 1
            indices = indices[done:]

    shares = [list(range(start, len(batch), sessions)) for start in range(min(sessions, len(batch)))]
    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        for future in [pool.submit(run_share, share) for share in shares]:
            future.result()


def run_session(submission: Submission, options: Options) -> str:
    """One session for one submission: "" when it finished, else what went wrong."""
    return run_sessions(submission.work, [submission.settings], options, lambda _: None)[1]


def run_sessions(folder: Path, settings: list[SessionSettings], options: Options,
                 on_done: Callable[[int], None]) -> tuple[int, str]:
    """One grading session over `settings`, in `folder`: how many it finished (`on_done(i)` is
    called as each is), and why it stopped before the rest. Each submission has
    `options.session_timeout` seconds, after which the session is killed.

    Its output (pytest's progress, tracebacks of grader bugs) goes to session.log, and to
    stderr when something went wrong or `options.verbose` is set."""
    done, bugs, fired = 0, 0, threading.Event()
    timeout = options.session_timeout

    def kill(process: subprocess.Popen) -> None:
        fired.set()
        process.kill()

    log = folder / "session.log"
    with open(log, "w", encoding="utf-8") as handle, subprocess.Popen(
            session_command(folder, settings), cwd=folder, env=session_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=handle, text=True, errors="replace") as process:
        watchdog = threading.Timer(timeout, kill, (process,))
        watchdog.start()
        try:
            for line in process.stdout:
                finished = DONE.fullmatch(line.rstrip("\n"))
                if finished:
                    watchdog.cancel()
                    on_done(int(finished["index"]))
                    done, bugs = done + 1, bugs + int(finished["bugs"])
                    watchdog = threading.Timer(timeout, kill, (process,))
                    watchdog.start()
                else:
                    handle.write(line)
        finally:
            watchdog.cancel()
    status = ""
    if fired.is_set():
        status = f"the grading of this submission took longer than {timeout:g} s"
    elif process.returncode < 0:
        status = f"the grader process was killed by signal {-process.returncode}, possibly for lack of memory"
    elif process.returncode not in (0, 1) or done < len(settings):
        status = f"the grader process ended with status {process.returncode}"
    if options.verbose or status or bugs:
        sys.stderr.write(log.read_text(encoding="utf-8", errors="replace")[-20000:])
    return done, status


def session_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
                "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def session_command(folder: Path, settings: list[SessionSettings]) -> list[str]:
    """The command of a grading session over `settings` (one assignment), kept in `folder`."""
    write_settings(folder / "session.json", settings)
    return python_command("autograder.session.main", settings[0].assignment, str(folder / "session.json"))


def write(out: Path, outcome: dict) -> None:
    """Write results.json; OSError if the disk refuses even the reserved space."""
    try:
        results.write_results(out, outcome)
    except results.ResultsError as error:
        results.write_results(out, results.error_results(
            f"The autograder produced invalid results ({error}). Please tell your instructor."))
