"""The pytest plugin that turns grader tests into verdicts.

Loaded with `-p autograder.plugin` by `autograder.session`. A few hooks over one settings
object, `Grading`:

* configure: start the student's process at once, so it imports torch while pytest collects;
* collection: build the closed-world manifest from each test's gradescope-utils decorators
  (`weight`, `number`, `visibility`, `tags`) and write it out; CUDA tests are skipped, and do
  not count, where no GPU exists (unless `--require-cuda`); tests run in the order in which
  students get to see them (visible first, hidden last), so nothing a test sends to the
  student's process can reach the feedback of a test shown earlier or to more people;
* each test: seed the student's calls from the test id, and turn the outcome into a verdict
  with a message for the student (hidden tests never show inputs, expected values or output);
* finish: stop the student's process.

Verdicts go to a JSON-lines file that only the grading supervisor reads. Scoring happens
there, from this file alone: a test the supervisor never saw pass scores nothing.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback
from pathlib import Path

import pytest

from autograder.assignments import Assignment
from autograder.program import Program
from autograder.results import VISIBILITIES
from autograder.sandbox import MEMORY_MB
from autograder.student import GraderBroken, GradingFailure, NotImplementedYet, Student
from autograder.worker import Worker

# The order tests run in: a test's inputs stay in the student's process (it can record them and
# show them in a later failure), so no test may run after one whose feedback is less private.
DISCLOSURE_ORDER = ("visible", "after_due_date", "after_published", "hidden")
PRINTED_LIMIT = 2000


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder")
    group.addoption("--assignment", help="assignment id, e.g. tensors")
    group.addoption("--submission", help="the prepared .py file to grade")
    group.addoption("--program", help="JSON: which statements of the submission run (autograder.program)")
    group.addoption("--problem", help="why there is nothing to grade (shown in every test)")
    group.addoption("--verdicts", help="JSON-lines file for the manifest and verdicts")
    group.addoption("--require-cuda", action="store_true",
                    help="run cuda-marked tests even without a GPU, so that they fail instead of skipping")
    group.addoption("--call-timeout", type=float, default=None, help="seconds per call into the submission")
    group.addoption("--sandbox", default="{}", help="JSON: how to confine the student's process")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cuda: needs a CUDA GPU; skipped (and not counted) without one")
    if config.getoption("--assignment"):
        grading = Grading(config)
        config.stash[GRADING] = grading
        config.pluginmanager.register(grading, "autograder-grading")


GRADING = pytest.StashKey["Grading"]()
ZYGOTE = pytest.StashKey[object]()   # set by autograder.session when grading a batch


class Grading:
    """Settings and state of one grading session; its methods are the plugin's hooks."""

    def __init__(self, config: pytest.Config) -> None:
        self.assignment = Assignment.get(config.getoption("--assignment"))
        self.problem = config.getoption("--problem")
        self.require_cuda = config.getoption("--require-cuda")
        verdicts = config.getoption("--verdicts")
        self.out = open(verdicts, "a", encoding="utf-8") if verdicts else None
        self.manifest: dict[str, dict] = {}
        self.student: Student | None = None
        submission = config.getoption("--submission")
        if submission and not self.problem:
            path = Path(submission)
            sandbox = json.loads(config.getoption("--sandbox"))
            worker = Worker(cwd=path.parent, sandbox=sandbox, zygote=config.stash.get(ZYGOTE, None),
                            warm_up=self.assignment.warm_up)
            worker.start()
            planned = config.getoption("--program")
            program = Program.from_dict(json.loads(Path(planned).read_text())) if planned else None
            # The prepared file is the plan's source text: read it again only without a plan.
            source = program.source.text if program else path.read_text(encoding="utf-8")
            self.student = Student(worker=worker, path=str(path), module_name=path.stem, source=source,
                                   program=program, memory_mb=sandbox.get("memory_mb", MEMORY_MB))
            timeout = config.getoption("--call-timeout")
            if timeout:
                self.student.call_timeout = timeout

    def emit(self, event: str, **fields) -> None:
        if self.out is not None:
            self.out.write(json.dumps({"event": event, **fields}) + "\n")
            self.out.flush()

    # -- collection: the closed-world manifest
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items) -> None:
        cuda_missing = any(i.get_closest_marker("cuda") for i in items) and not _cuda_available()
        infos = {item.nodeid: test_info(item) for item in items}
        items.sort(key=lambda item: DISCLOSURE_ORDER.index(infos[item.nodeid]["visibility"]))
        tests = []
        for item in items:
            info = infos[item.nodeid]
            if item.get_closest_marker("cuda") and cuda_missing and not self.require_cuda:
                item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU, and this grader has none"))
                info["counts"] = False
            self.manifest[item.nodeid] = info
            tests.append(info)
        self.emit("manifest", tests=tests)

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
        report.autograder_output = ""
        if report.failed:
            report.autograder_output = self.failure_text(call.excinfo, visible)
            if visible and self.student is not None and report.when == "call":
                printed = self.student.printed().strip()
                if printed:
                    report.autograder_output += "\n\nYour code printed:\n" + printed[:PRINTED_LIMIT]
        elif report.skipped and call.excinfo is not None:
            report.autograder_output = f"Skipped: {_skip_reason(call.excinfo)}"

    def pytest_runtest_logreport(self, report) -> None:
        info = self.manifest.get(report.nodeid)
        if info is None:
            return
        if report.when == "call" or report.failed or report.skipped:
            outcome = "failed" if report.failed else report.outcome
            self.emit("verdict", id=report.nodeid, outcome=outcome,
                      output=getattr(report, "autograder_output", ""), counts=info.get("counts", True))

    def failure_text(self, excinfo, visible: bool) -> str:
        if self.problem:
            return self.problem
        error = excinfo.value if excinfo is not None else None
        if isinstance(error, GraderBroken):   # the supervisor retries, or reports "not graded"
            self.emit("grader_error", reason=error.message)
        if isinstance(error, GradingFailure):
            parts = [error.message]
            if error.hint and not isinstance(error, NotImplementedYet):
                parts.append(f"Hint: {error.hint}")
            if error.details and visible:
                parts.append(f"Details: {error.details}")
            return "\n".join(parts)
        if isinstance(error, AssertionError):
            return f"A check failed: {error}" if visible else "A check failed."
        print(f"autograder: grader error in a test:\n{''.join(traceback.format_exception(error))}",
              file=sys.stderr)
        return ("The grader could not finish this test because of a problem in the grader itself "
                f"({type(error).__name__}). This is not your fault: please tell your instructor.")

    # -- finish
    def pytest_sessionfinish(self, session, exitstatus) -> None:
        if self.student is not None:
            report = self.student.load_report()
            if report:
                self.emit("note", text=report)
            if self.student.import_failure is not None:
                self.emit("note", text=self.student.import_failure.message)
            if self.student.tampered:   # for the instructor (results.json extra_data) and the student
                self.emit("tampered", changes=[{"name": name, "when": when}
                                               for name, when in self.student.tampered.items()])
                self.emit("note", text=self.student.tamper_report())
            self.student.worker.stop()
        self.emit("finished", exitstatus=int(exitstatus))
        if self.out is not None:
            self.out.close()


# ---------------------------------------------------------------- fixtures for graders

@pytest.fixture(scope="session")
def student(request) -> Student:
    """The submission, running in its own process."""
    grading = request.config.stash[GRADING]
    if grading.student is None:
        raise GradingFailure(grading.problem or "There is no submission to grade.")
    return grading.student


@pytest.fixture(scope="session")
def reference(request):
    """The reference solution (hidden graders only; public graders never need it)."""
    return load_reference(request.config.stash[GRADING].assignment)


def test_info(item: pytest.Item) -> dict:
    """One manifest entry from a test's gradescope-utils decorators."""
    function = getattr(item, "obj", None)
    weight = getattr(function, "__weight__", None)
    if weight is None:
        raise pytest.UsageError(f"grader test {item.nodeid} has no @weight(...)")
    visibility = getattr(function, "__visibility__", "visible")
    if visibility not in VISIBILITIES:
        raise pytest.UsageError(f"grader test {item.nodeid} has visibility {visibility!r}")
    doc = (getattr(function, "__doc__", None) or "").strip().splitlines()
    name = doc[0].strip() if doc else item.name
    if "[" in item.name:
        name += " " + item.name[item.name.index("["):]
    return {"id": item.nodeid, "name": name, "number": getattr(function, "__number__", None),
            "max_score": float(weight), "visibility": visibility,
            "tags": list(getattr(function, "__tags__", ())), "counts": True}


def load_reference(assignment: Assignment):
    """The reference solution, imported in this (trusted) process only."""
    spec = importlib.util.spec_from_file_location(f"reference_{assignment.name}", assignment.solution)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _skip_reason(excinfo) -> str:
    message = getattr(excinfo.value, "msg", None) or str(excinfo.value)
    return message.removeprefix("Skipped: ")
