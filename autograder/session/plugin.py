"""The pytest plugin that turns grader tests into verdicts.

`autograder.session.main` hands pytest a `GraderPlugin` built from the session's settings
(`autograder.settings.SessionSettings`), and this module for the graders' fixtures (`student`,
`reference`). Its hooks:

* configure: start the student's process at once (forked from the zygote), while pytest collects;
* collection: build the closed-world manifest from each test's gradescope-utils decorators
  (`weight` or `partial_credit`, `number`, `visibility`, `tags`, `hide_errors`; any other,
  such as `leaderboard`, is refused) and write it out; CUDA tests are skipped, and do not
  count, where no GPU exists (unless `--require-cuda`); tests run in the order in which
  students get to see them (visible first, hidden last), so nothing a test sends to the
  student's process can reach the feedback of a test shown earlier or to more people;
* each test: seed the student's calls from the test id, and turn the outcome into a verdict
  with a message for the student (hidden tests never show inputs, expected values or output;
  `@hide_errors(message)` shows only that message) and, for a `@partial_credit` test, the
  score it gave `set_score`;
* finish: stop the student's process.

Verdicts go to a JSON-lines file that only the grading supervisor reads. Scoring happens
there, from this file alone: a test the supervisor never saw pass scores nothing.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import numbers
import sys
import traceback
from pathlib import Path

import pytest
from gradescope_utils.autograder_utils.decorators import partial_credit

from autograder.course import Assignment
from autograder.record import Recorder
from autograder.results import VISIBILITIES
from autograder.session import hints
from autograder.session.child_process import ChildProcess
from autograder.session.student import GraderBroken, GradingFailure, NotImplementedYet, Student
from autograder.session.zygote import Zygote
from autograder.settings import SessionSettings
from autograder.submission.program import Program

# The order tests run in: a test's inputs stay in the student's process (it can record them and
# show them in a later failure), so no test may run after one whose feedback is less private.
DISCLOSURE_ORDER = ("visible", "after_due_date", "after_published", "hidden")
PRINTED_LIMIT = 2000
# Every wrapper that @partial_credit makes runs this code: how a partial-credit test is told
# from a plain one (gradescope-utils marks it no other way).
PARTIAL_CREDIT_CODE = partial_credit(0)(lambda set_score=None: None).__code__


PLUGIN = pytest.StashKey["GraderPlugin"]()


class GraderPlugin:
    """One grading session's settings and state; its methods are pytest hooks. It is handed to
    `pytest.main` as an object (with this module, for the fixtures) by `autograder.session.main`."""

    def __init__(self, settings: SessionSettings, zygote: Zygote) -> None:
        self.settings = settings
        self.zygote = zygote
        self.assignment = Assignment.get(settings.assignment)
        self.problem = settings.problem
        self.require_cuda = settings.require_cuda
        self.hint_level = hints.checked(settings.hints or self.assignment.hint_level)
        self.fixes = hints.solutions(self.assignment.graders) if self.hint_level == "solution" else {}
        self.record = Recorder(settings.verdicts)
        self.manifest: dict[str, dict] = {}
        self.scores: dict[str, float] = {}   # what each @partial_credit test gave set_score
        self.grader_bugs = 0                  # tests whose grader raised (tracebacks in session.log)
        self.student: Student | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        """Start the student's process at once: it is forked and confined while pytest collects."""
        config.addinivalue_line("markers", "cuda: needs a CUDA GPU; skipped (and not counted) without one")
        config.stash[PLUGIN] = self
        settings = self.settings
        if settings.submission and not self.problem:
            path = Path(settings.submission)
            process = ChildProcess(cwd=path.parent, sandbox=settings.sandbox, zygote=self.zygote)
            process.start()
            program = Program.from_dict(json.loads(Path(settings.program).read_text())) if settings.program else None
            # The prepared file is the plan's source text: read it again only without a plan.
            source = program.source.text if program else path.read_text(encoding="utf-8")
            self.student = Student(process=process, path=str(path), module_name=path.stem, source=source,
                                   program=program, memory_mb=settings.sandbox.memory_mb)
            if settings.call_timeout:
                self.student.call_timeout = settings.call_timeout

    # -- collection: the closed-world manifest
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items) -> None:
        infos = {item.nodeid: test_info(item) for item in items}
        if self.settings.functions:   # a check of some functions only: the others' tests are not run
            wanted = set(self.settings.functions)
            kept = [item for item in items if wanted & set(infos[item.nodeid]["tags"])]
            config.hook.pytest_deselected(items=[item for item in items if item not in kept])
            items[:] = kept
        cuda_missing = any(i.get_closest_marker("cuda") for i in items) and not _cuda_available()
        items.sort(key=lambda item: DISCLOSURE_ORDER.index(infos[item.nodeid]["visibility"]))
        tests = []
        for item in items:
            info = infos[item.nodeid]
            if item.get_closest_marker("cuda") and cuda_missing and not self.require_cuda:
                item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU, and this grader has none"))
                info["counts"] = False
            self.manifest[item.nodeid] = info
            tests.append(info)
        self.record.emit("manifest", tests=tests)

    # -- each test
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item) -> None:
        if self.student is not None:
            self.student.begin_test(item.nodeid)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        info = self.manifest.get(item.nodeid, {})
        visible = info.get("visibility", "visible") == "visible"
        bad_score = self.take_score(item) if report.when == "call" else None
        report.autograder_score = self.scores.get(item.nodeid)
        report.autograder_output = ""
        error = call.excinfo.value if call.excinfo is not None else None
        not_written = report.failed and bad_score is None and isinstance(error, NotImplementedYet)
        report.autograder_not_implemented = not_written
        report.autograder_unwritten = error.function if not_written else None
        if bad_score is not None:
            report.outcome, report.longrepr, report.autograder_output = "failed", bad_score, bad_score
        elif report.failed:
            hidden_by = info.get("hide_errors")
            report.autograder_output = self.failure_text(call.excinfo, visible, hidden_by)
            if visible and hidden_by is None and self.student is not None and report.when == "call":
                printed = self.student.printed().strip()
                if printed:
                    report.autograder_output += "\n\nYour code printed:\n" + _printed(printed)
        elif report.skipped and call.excinfo is not None:
            report.autograder_output = f"Skipped: {_skip_reason(call.excinfo)}"

    def take_score(self, item) -> str | None:
        """Keep what a @partial_credit test gave set_score. A score that is not a finite number
        is a grader bug: the instructor is told, and the test's failure text is returned."""
        wrapper = partial_credit_wrapper(getattr(item, "obj", None))
        if wrapper is None or "__score__" not in vars(wrapper):
            return None
        score = vars(wrapper).pop("__score__")   # kept on the function: the next case must not see it
        if _is_finite_number(score):
            self.scores[item.nodeid] = float(score)
            return None
        self.grader_bug(f"{item.nodeid} called set_score({score!r:.100}), but set_score takes a finite number "
                        "of points, such as 2.5")
        return _grader_problem("set_score was given something other than a number")

    def pytest_runtest_logreport(self, report) -> None:
        info = self.manifest.get(report.nodeid)
        if info is None:
            return
        if report.when == "call" or report.failed or report.skipped:
            outcome = "failed" if report.failed else report.outcome
            score = getattr(report, "autograder_score", None)
            unwritten = getattr(report, "autograder_unwritten", None)
            self.record.emit("verdict", id=report.nodeid, outcome=outcome,
                      output=getattr(report, "autograder_output", ""), counts=info.get("counts", True),
                      **({"score": score} if score is not None else {}),
                      **({"not_implemented": True} if getattr(report, "autograder_not_implemented", False) else {}),
                      **({"unwritten": unwritten} if unwritten else {}))

    def failure_text(self, excinfo, visible: bool, hidden_by: str | None = None) -> str:
        """What the student reads for a failure; `hidden_by` (a @hide_errors message) replaces
        what the student's code got wrong, never a problem of the submission or of the grader."""
        if self.problem:
            return self.problem
        error = excinfo.value if excinfo is not None else None
        if isinstance(error, GraderBroken):   # the supervisor retries, or reports "not graded"
            self.record.emit("grader_error", reason=error.message)
        elif hidden_by is not None and isinstance(error, AssertionError):
            return hidden_by
        if isinstance(error, GradingFailure):
            parts = [error.message]
            hint = hints.text(error.hint, self.hint_level, self.fixes)
            if hint and not isinstance(error, NotImplementedYet):
                parts.append(f"Hint: {hint}")
            if error.details and visible:
                parts.append(f"Details: {error.details}")
            return "\n".join(parts)
        if isinstance(error, AssertionError):
            return f"A check failed: {error}" if visible else "A check failed."
        self.grader_bug("\n" + "".join(traceback.format_exception(error)))
        return _grader_problem(type(error).__name__)

    def grader_bug(self, what: str) -> None:
        """A grader itself went wrong: its traceback goes to session.log, and the count tells the
        supervisor to show that log (`autograder.session.main` reports it with each "done")."""
        print(f"autograder: grader error in a test: {what}", file=sys.stderr)
        self.grader_bugs += 1

    # -- finish
    def pytest_sessionfinish(self, session, exitstatus) -> None:
        if self.student is not None:
            report = self.student.load_report()
            if report:
                self.record.emit("note", text=report)
            failure = self.student.import_failure
            if failure is not None:
                self.record.emit("note", text=failure.message)
            if failure is not None or self.student.loaded:   # how the file loaded, as data (regrade's status)
                self.record.emit("load", unloaded=self.student.unloaded(),
                                 failed=failure.message if failure is not None else None)
            if self.student.tampered:   # for the instructor (results.json extra_data) and the student
                self.record.emit("tampered", changes=[{"name": name, "when": when}
                                               for name, when in self.student.tampered.items()])
                self.record.emit("note", text=self.student.tamper_report())
            if self.student.process.confinement:   # for session.log (shown with --verbose), never the student
                print("autograder: the student's process: " + "; ".join(self.student.process.confinement),
                      file=sys.stderr)
            self.student.process.stop()
        self.record.emit("finished", exitstatus=int(exitstatus))
        self.record.close()


# ---------------------------------------------------------------- fixtures for graders

@pytest.fixture(scope="session")
def student(request) -> Student:
    """The submission, running in its own process."""
    plugin = request.config.stash[PLUGIN]
    if plugin.student is None:
        raise GradingFailure(plugin.problem or "There is no submission to grade.")
    return plugin.student


@pytest.fixture(scope="session")
def reference(request):
    """The reference solution (hidden graders only; public graders never need it)."""
    return load_reference(request.config.stash[PLUGIN].assignment)


@pytest.fixture
def set_score():
    """Lets a @partial_credit test take `set_score` with no default: the decorator passes the
    real one (this value is never used; a test without @partial_credit may not take it)."""
    return None


def test_info(item: pytest.Item) -> dict:
    """One manifest entry from a test's gradescope-utils decorators; a decorator or value this
    kit does not support is a pytest.UsageError naming the test and the decorator."""
    function = getattr(item, "obj", None)
    partial = partial_credit_wrapper(function) is not None
    _refuse_leaderboard(item, function)
    _check_set_score(item, function, partial)
    doc = (getattr(function, "__doc__", None) or "").strip().splitlines()
    name = doc[0].strip() if doc else item.originalname
    if "[" in item.name:
        name += " " + item.name[item.name.index("["):]
    return {"id": item.nodeid, "name": name, "number": getattr(function, "__number__", None),
            "max_score": _weight(item, function, partial), "visibility": _visibility(item, function),
            "tags": _tags(item, function), "counts": True,
            "partial_credit": partial, "hide_errors": _hide_errors(item, function)}


def _refused(item: pytest.Item, problem: str) -> pytest.UsageError:
    return pytest.UsageError(f"grader test {item.nodeid}: {problem}")


def _refuse_leaderboard(item: pytest.Item, function) -> None:
    if hasattr(function, "__leaderboard_column__"):
        raise _refused(item, "@leaderboard is not supported (this autograder writes no leaderboard); remove it")


def _weight(item: pytest.Item, function, partial: bool) -> float:
    weight = getattr(function, "__weight__", None)
    decorator = "@partial_credit" if partial else "@weight"
    if weight is None:
        raise _refused(item, "needs @weight(points) or @partial_credit(points)")
    if not _is_finite_number(weight) or weight < 0:
        raise _refused(item, f"{decorator}({weight!r}): the points must be a finite number, 0 or more")
    return float(weight)


def _visibility(item: pytest.Item, function) -> str:
    visibility = getattr(function, "__visibility__", "visible")
    if visibility not in VISIBILITIES:
        raise _refused(item, f"@visibility({visibility!r}) is not one of {', '.join(VISIBILITIES)}")
    return visibility


def _tags(item: pytest.Item, function) -> list[str]:
    tags = list(getattr(function, "__tags__", ()))
    if not all(isinstance(tag, str) for tag in tags):
        raise _refused(item, f"@tags{tuple(tags)!r}: every tag must be a string")
    return tags


def _hide_errors(item: pytest.Item, function) -> str | None:
    message = getattr(function, "__hide_errors__", None)
    if message is not None and not (isinstance(message, str) and message.strip()):
        raise _refused(item, f"@hide_errors({message!r}): the message shown instead of the failure must be non-empty text")
    return message


def _check_set_score(item: pytest.Item, function, partial: bool) -> None:
    """A @partial_credit test takes set_score (the decorator passes it), and no other test does."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    named = any(p.name == "set_score" for p in parameters)
    if partial and not (named or any(p.kind is p.VAR_KEYWORD for p in parameters)):
        raise _refused(item, "@partial_credit needs a set_score parameter to receive the function that sets "
                             "the score, e.g. def test_x(student, set_score=None)")
    if named and not partial:
        raise _refused(item, "takes set_score but has no @partial_credit(points): only a partial-credit test is given one")


def partial_credit_wrapper(function):
    """The function @partial_credit made of a test (set_score keeps the score on it), or None;
    found under any decorators that wrap it with functools.wraps."""
    for _ in range(100):   # a chain of __wrapped__ could loop (a method reads its function's attributes)
        if getattr(function, "__code__", None) == PARTIAL_CREDIT_CODE:
            return function
        function = getattr(function, "__wrapped__", None)
        if function is None:
            return None
    return None


def _is_finite_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _grader_problem(what: str) -> str:
    return ("The grader could not finish this test because of a problem in the grader itself "
            f"({what}). This is not your fault: please tell your instructor.")


def load_reference(assignment: Assignment):
    """The reference solution, imported in this (trusted) process only."""
    spec = importlib.util.spec_from_file_location(f"reference_{assignment.name}", assignment.solution)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _printed(text: str) -> str:
    """What the student's code printed, its first PRINTED_LIMIT characters, with the cut said."""
    if len(text) <= PRINTED_LIMIT:
        return text
    return text[:PRINTED_LIMIT] + f"\n[... {len(text) - PRINTED_LIMIT} more characters not shown]"


def _skip_reason(excinfo) -> str:
    message = getattr(excinfo.value, "msg", None) or str(excinfo.value)
    return message.removeprefix("Skipped: ")
