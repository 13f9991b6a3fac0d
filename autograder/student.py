"""The submission as graders see it: call its functions, get plain data back.

    call = student.call("first_row", x)      # runs in the student's process
    call.value                               # plain data; raises GradingFailure if it raised
    student.first_row(x)                     # shorthand for student.call(...).value

Everything that can go wrong on the student's side (an exception, a missing function, an
import error, a timeout, a crash, garbage on the channel) arrives here as a `GradingFailure`
whose message says what happened in words a student can act on. Graders never see processes.
"""

from __future__ import annotations

import ast
import hashlib
import time
from dataclasses import dataclass, field

from autograder.sandbox import MEMORY_MB
from autograder.worker import ChildDied, ChildFailedToStart, ChildGarbled, ChildTimeout, Worker

CALL_TIMEOUT = 10.0
IMPORT_TIMEOUT = 15.0
TIME_BUDGET = 300.0


class GradingFailure(AssertionError):
    """A check failed. `message` and `hint` are always shown; `details` only in visible tests
    (they may contain the test's inputs or expected values)."""

    def __init__(self, message: str, *, hint: str | None = None, details: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.details = message, hint, details


class NotImplementedYet(GradingFailure):
    """The function still raises NotImplementedError."""


class GraderBroken(GradingFailure):
    """The student's process could not even start: nothing the submission did."""


@dataclass(frozen=True)
class StudentError:
    """An exception raised in the student's process, described as plain strings."""

    type: str
    message: str
    line: int | None = None
    code: str = ""
    not_implemented: bool = False

    @classmethod
    def from_reply(cls, error: object) -> "StudentError":
        error = error if isinstance(error, dict) else {}
        where = error.get("where") if isinstance(error.get("where"), dict) else {}
        line = where.get("line")
        return cls(type=str(error.get("type", "Error")), message=str(error.get("message", "")),
                   line=line if type(line) is int else None, code=str(where.get("code") or ""),
                   not_implemented=error.get("not_implemented") is True)

    def __str__(self) -> str:
        text = f"{self.type}: {self.message}" if self.message else self.type
        if self.line is not None:
            text += f" (line {self.line}" + (f": {self.code}" if self.code else "") + ")"
        return text


# What to tell a student about exceptions that are not ordinary bugs in their function.
EXCEPTION_HINTS = {
    "MissingName": "Keep every function and class of the stub, with its exact name.",
    "SystemExit": "A graded function must return its result; remove sys.exit()/exit()/quit().",
    "KeyboardInterrupt": "Your code raised KeyboardInterrupt; remove it.",
    "Skipped": "Graded code must not call pytest.skip() or other pytest functions.",
    "Exit": "Graded code must not call pytest.exit() or other pytest functions.",
    "Failed": "Graded code must not call pytest.fail() or other pytest functions.",
    "XFailed": "Graded code must not call pytest.xfail() or other pytest functions.",
    "ModuleNotFoundError": "Only torch, numpy and the standard library are available to your code.",
    "RecursionError": "A function calls itself without end; check the base case.",
    "MemoryError": "Your code ran out of memory: the process running it has a memory limit.",
    "BlockingIOError": "Your code started too many processes or threads: their number is limited.",
}
MEMORY_HINT = ("Your code ran out of memory: it may use about {mb} MB on top of what torch itself needs. "
               "Look for a tensor far larger than the task needs.")


@dataclass
class Call:
    """One call of a student function: what it returned (or raised) and what happened around it."""

    name: str
    raw: dict | None
    error: StudentError | None
    output: str = ""
    memory_mb: int = MEMORY_MB

    @property
    def value(self):
        if self.error is not None:
            raise failure_for(self.name, self.error, self.memory_mb)
        return self.raw["value"]

    @property
    def args_after(self) -> list:
        self.value  # noqa: B018 - raise if the call failed
        return self.raw["args_after"]

    def is_arg(self, i: int) -> bool:
        self.value  # noqa: B018
        return self.raw["is_arg"][i] is True

    def shares_memory_with_arg(self, i: int) -> bool:
        self.value  # noqa: B018
        return self.raw["shares_memory"][i] is True

    @property
    def rng_changed(self) -> bool:
        self.value  # noqa: B018
        return self.raw["rng_changed"] is True

    def raised(self) -> StudentError | None:
        """The exception the function raised, or None; NotImplementedError still fails the test."""
        if self.error is not None and self.error.not_implemented:
            raise failure_for(self.name, self.error)
        return self.error


def failure_for(name: str, error: StudentError, memory_mb: int = MEMORY_MB) -> GradingFailure:
    if "can't allocate memory" in error.message or error.type == "MemoryError":
        return GradingFailure(f"{name} raised {error}", hint=MEMORY_HINT.format(mb=memory_mb))
    if error.not_implemented:
        return NotImplementedYet(f"{name} is not implemented yet: it still raises NotImplementedError.")
    if error.type == "MissingName":
        return GradingFailure(f"Your file does not define `{name}`.", hint=EXCEPTION_HINTS["MissingName"])
    return GradingFailure(f"{name} raised {error}", hint=EXCEPTION_HINTS.get(error.type))


@dataclass
class Student:
    """A submission loaded in its own process. One per grading session."""

    worker: Worker
    path: str                # the file the child imports (inside its scratch directory)
    module_name: str         # e.g. "tensors"
    source: str              # its text, for structural checks (parsed, never executed here)
    call_timeout: float = CALL_TIMEOUT
    import_timeout: float = IMPORT_TIMEOUT
    budget: float = TIME_BUDGET
    import_failure: GradingFailure | None = None
    spent: float = 0.0
    _loaded_in: int = 0       # worker start count at the last successful import
    _seed: int = 0
    _calls: int = 0
    output_log: list[str] = field(default_factory=list)
    memory_mb: int = MEMORY_MB

    # -- called by the pytest plugin around each test
    def begin_test(self, test_id: str) -> None:
        self._seed = int.from_bytes(hashlib.sha256(test_id.encode()).digest()[:4], "little")
        self._calls = 0
        self.output_log = []
        self.worker.output.take()

    def printed(self) -> str:
        """What the student's code printed during the current test."""
        return "".join(self.output_log)

    # -- used by graders
    def call(self, name: str, *args, timeout: float | None = None, **kwargs) -> Call:
        reply = self._request("core:call", (name, args, kwargs), {}, name, timeout)
        if not reply["ok"]:
            self.worker.kill_strays()
        if reply["ok"]:
            return Call(name, reply["value"], None, self.output_log[-1], self.memory_mb)
        return Call(name, None, StudentError.from_reply(reply.get("error")), self.output_log[-1], self.memory_mb)

    def probe(self, probe: str, *args, what: str, timeout: float | None = None, **kwargs):
        """Run probe `module:function` from autograder.probes in the student's process.

        `what` names the student function or class being exercised, for messages."""
        reply = self._request(probe, args, kwargs, what, timeout)
        if not reply["ok"]:
            self.worker.kill_strays()
            raise failure_for(what, StudentError.from_reply(reply.get("error")), self.memory_mb)
        return reply["value"]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs).value

    def function_source(self, name: str) -> ast.AST | None:
        """The AST of the top-level function or class `name` in the submission, if any."""
        for node in self.tree().body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
                return node
        return None

    def tree(self) -> ast.Module:
        try:
            return ast.parse(self.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return ast.Module(body=[], type_ignores=[])

    # -- machinery
    def _request(self, probe, args, kwargs, what, timeout) -> dict:
        self._ensure_imported()
        self._calls += 1
        message = {"op": "call", "probe": probe, "args": list(args), "kwargs": kwargs,
                   "seed": self._seed + self._calls}
        return self._send(message, what, timeout or self.call_timeout)

    def _send(self, message: dict, what: str, timeout: float) -> dict:
        left = self.budget - self.spent
        if left <= 0:
            raise GradingFailure(f"{what} was not run: the time for grading your code is used up "
                                 "(earlier calls timed out).")
        timeout = min(timeout, left)
        started = time.monotonic()
        try:
            return self.worker.request(message, timeout)
        except ChildFailedToStart as error:
            raise GraderBroken(f"The grader could not start the process that runs your code ({error}). "
                               "This is a problem of the autograder's set-up, not of your code: "
                               "please tell your instructor.") from None
        except ChildTimeout as error:
            raise GradingFailure(f"{what} did not finish within {error.seconds:g} s.",
                                 hint="Look for an infinite loop, a very slow loop over elements, or "
                                      "code waiting for input.") from None
        except ChildDied as error:
            raise GradingFailure(f"The process running your code ended during {what}: {error}.",
                                 hint=_exit_hint(error.returncode)) from None
        except ChildGarbled as error:
            raise GradingFailure(f"{what}: the grader could not read what your code sent back ({error}).",
                                 hint="Do not write to file descriptors you did not open.") from None
        finally:
            self.spent += time.monotonic() - started
            self.output_log.append(self.worker.output.take())

    def _ensure_imported(self) -> None:
        if self.import_failure is not None:
            raise self.import_failure
        if self.worker.alive() and self._loaded_in == self.worker.starts:
            return
        what = f"importing {self.module_name}"
        try:
            reply = self._send({"op": "load", "path": self.path, "name": self.module_name},
                               what, self.import_timeout)
        except GraderBroken as failure:
            self.import_failure = failure
            raise
        except GradingFailure as failure:
            self.import_failure = GradingFailure(
                f"Your file could not be imported, so nothing in it could be graded. {failure.message}",
                hint=failure.hint)
            raise self.import_failure from None
        if not reply["ok"]:
            error = StudentError.from_reply(reply.get("error"))
            self.import_failure = GradingFailure(
                f"Your file could not be imported, so nothing in it could be graded: {error}",
                hint=EXCEPTION_HINTS.get(error.type,
                                         "Run your file with `python` to see the error, and keep "
                                         "demo code under `if __name__ == \"__main__\":`."))
            raise self.import_failure
        self._loaded_in = self.worker.starts


def _exit_hint(returncode: int | None) -> str:
    if returncode is not None and returncode >= 0:
        return "Do not call os._exit(), sys.exit() or exit() in graded code."
    if returncode == -9:
        return "It was killed, most likely for using too much memory or time."
    if returncode == -25:
        return "It wrote a file larger than the limit for files (64 MB)."
    if returncode == -11:
        return "It crashed (segmentation fault), e.g. from unbounded recursion."
    return "Check for code that ends or crashes the Python process."
