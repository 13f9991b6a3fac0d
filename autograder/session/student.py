"""The submission as graders see it: call its functions, get plain data back.

    call = student.call("first_row", x)      # runs in the student's process
    call.value                               # plain data; raises GradingFailure if it raised
    student.first_row(x)                     # shorthand for student.call(...).value

Everything that can go wrong on the student's side (an exception, a missing function, an
import error, a timeout, a crash, garbage on the channel) arrives here as a `GradingFailure`
whose message says what happened in words a student can act on. Graders never see processes.

Before the first call the submission is loaded statement by statement, as `autograder.submission.program`
planned it: each needed top-level statement runs on its own, so one that raises is recorded and
the rest still loads; when the request hangs or ends the process, the statements are run again
one request each in a new process, and the one that did it is recorded and left out. A function that later misses a
name gets a message that says which statement should have set it and why it did not run;
positions are the student's ("cell 3, line 4" in a notebook).
"""

from __future__ import annotations

import ast
import hashlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from autograder import environment, memory
from autograder.isolation.sandbox import MEMORY_MB
from autograder.results import SHORT_LIMIT, clean_text, shorten
from autograder.session.child_process import (ChildDied, ChildError, ChildFailedToStart, ChildGarbled,
                                              ChildProcess, ChildTimeout)
from autograder.submission.program import Outcome, Program, Statement, plan
from autograder.submission.reach import Reach
from autograder.submission.source import from_script

CALL_TIMEOUT = 10.0      # one call into the submission; also one top-level statement as it loads
IMPORT_TIMEOUT = 15.0    # reading and parsing the file in the student's process
LOAD_BUDGET = 60.0       # all of the submission's top-level statements together
MAX_RESTARTS = 5         # statements that hang or end the process before loading gives up
TIME_BUDGET = 300.0
MAX_LISTED = 20
MAX_DEMO_LISTED = 5


class GradingFailure(AssertionError):
    """A check failed. `message` and `hint` are always shown; `details` only in visible tests
    (they may contain the test's inputs or expected values)."""

    def __init__(self, message: str, *, hint: str | None = None, details: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.details = message, hint, details


class NotImplementedYet(GradingFailure):
    """The function, or a function of the student's that it calls, still raises NotImplementedError."""

    def __init__(self, message: str, function: str | None = None) -> None:
        super().__init__(message)
        self.function = function   # the one not written yet, for the "not written yet" line


class GraderBroken(GradingFailure):
    """The student's process could not even start: nothing the submission did."""


@dataclass(frozen=True)
class StudentError:
    """An exception raised in the student's process, described as plain strings."""

    type: str
    message: str
    line: int | None = None       # in the graded text
    code: str = ""
    not_implemented: bool = False
    raised_in: str | None = None  # for NotImplementedError: the top-level definition it was raised in
    missing: str | None = None    # the name a NameError did not find
    where: str | None = None      # the line as the student sees it: "cell 3, line 4"

    @classmethod
    def from_reply(cls, error: object, locate=None) -> "StudentError":
        error = error if isinstance(error, dict) else {}
        where = error.get("where") if isinstance(error.get("where"), dict) else {}
        line = where.get("line") if type(where.get("line")) is int else None
        missing = error.get("name")
        position = locate(line) if locate is not None and line is not None else None
        return cls(type=str(error.get("type", "Error")), message=str(error.get("message", "")),
                   line=line, code=str(where.get("code") or ""),
                   not_implemented=error.get("not_implemented") is True,
                   missing=missing if isinstance(missing, str) else None,
                   where=str(position) if position is not None else None)

    def __str__(self) -> str:
        text = self.headline()
        where = self.where or (f"line {self.line}" if self.line is not None else None)
        if where is not None:
            text += f" ({where}" + (f": {self.code}" if self.code else "") + ")"
        return text

    def headline(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


# What to tell a student about exceptions that are not ordinary bugs in their function.
EXCEPTION_HINTS = {
    "MissingName": "Keep every function and class of the stub, with its exact name.",
    "SystemExit": "A graded function must return its result; remove sys.exit()/exit()/quit().",
    "KeyboardInterrupt": "Your code raised KeyboardInterrupt; remove it.",
    "Skipped": "Graded code must not call pytest.skip() or other pytest functions.",
    "Exit": "Graded code must not call pytest.exit() or other pytest functions.",
    "Failed": "Graded code must not call pytest.fail() or other pytest functions.",
    "XFailed": "Graded code must not call pytest.xfail() or other pytest functions.",
    "ModuleNotFoundError": "Grading has the same packages everywhere: the standard library and those the "
                           "handout lists. Remove the import, or keep it in code that grading does not need.",
    "NameError": "Check the spelling, and that the name is set by code that runs when your file is "
                 "loaded: a definition, an import, or a module-level constant or object.",
    "RecursionError": "A function calls itself without end; check the base case.",
    "MemoryError": "Your code ran out of memory: the process running it has a memory limit.",
    "BlockingIOError": "Your code started too many processes or threads: their number is limited.",
}
CAUSE_HINT = ("Fix the statement named above first: this test fails because of it, not necessarily "
              "because of the function it tests.")
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
    cause: str | None = None     # why a name the call needed was never set
    seed: int | None = None      # what the student's process seeded the global RNGs with
    tampered: tuple[str, ...] = ()   # kit code the submission changed around this call
    parameters: tuple[str, ...] = ()   # the function's parameter names, as the submission spells them

    def _trusted(self) -> None:
        """Observations made while the kit's code was changed cannot be trusted: fail them."""
        self.value  # noqa: B018 - raise if the call failed
        if self.tampered:
            raise tampering_failure(self.name, self.tampered)

    @property
    def value(self):
        if self.error is not None:
            raise failure_for(self.name, self.error, self.memory_mb, self.cause)
        return self.raw["value"]

    @property
    def args_after(self) -> list:
        self._trusted()
        return self.raw["args_after"]

    # Behaviour is decided here, never from a verdict the student's process sent: the value and
    # the arguments after the call arrive in one reply, and the wire keeps the memory they share
    # shared, in the same layout, so where they lie *here* (autograder.memory) tells.
    def _extent(self, i: int):
        """Where the value (i == 0) or argument i - 1 lies in memory, in this process."""
        after = self.raw.get("args_after")
        if i == 0:
            return memory.extent(self.raw.get("value"))
        return memory.extent(after[i - 1]) if type(after) is list and 0 < i <= len(after) else None

    def is_arg(self, i: int) -> bool:
        """The value is argument i itself: the same memory, in the same geometry, of the same type."""
        self._trusted()
        after = self.raw.get("args_after")
        return memory.same_view(self._extent(0), self._extent(i + 1)) and type(after) is list \
            and 0 <= i < len(after) and type(self.raw["value"]) is type(after[i])

    def shares_memory_with_arg(self, i: int) -> bool:
        self._trusted()
        return memory.overlaps(self._extent(0), self._extent(i + 1))

    @property
    def part_extents(self) -> list:
        """Where each item of a tuple/list result lies, in this process; [] for other results."""
        self._trusted()
        value = self.raw.get("value")
        return [memory.extent(part) for part in value] if type(value) in (tuple, list) else []

    def part_shares_memory_with_arg(self, part: int, i: int) -> bool:
        extent = self.part_extents[part]
        return memory.overlaps(extent, self._extent(i + 1)) or memory.same_view(extent, self._extent(i + 1))

    @property
    def rng_changed(self) -> bool:
        """Whether the global torch RNG moved: its state after the call against the state the
        grader seeded it to (the seed this call was sent with)."""
        import torch   # here: importing this module must not import torch (autograder.session.plugin)

        self._trusted()
        after = self.raw.get("rng_after")
        if self.seed is None or type(after) is not torch.Tensor:
            return True
        expected = torch.Generator().manual_seed(self.seed).get_state()
        return not (after.dtype == expected.dtype and after.shape == expected.shape and torch.equal(after, expected))

    def raised(self) -> StudentError | None:
        """The exception the function raised, or None; NotImplementedError still fails the test."""
        if self.error is not None and self.error.not_implemented:
            raise failure_for(self.name, self.error)
        return self.error


TAMPER_HINT = ("Do not change the functions of torch, numpy or the autograder (no monkeypatching): "
               "the grader puts them back, cannot trust what it saw while they were changed, and "
               "tells your instructor.")


def tampering_failure(name: str, tampered) -> GradingFailure:
    names = ", ".join(f"`{n}`" for n in list(tampered)[:3]) + (", ..." if len(tampered) > 3 else "")
    return GradingFailure(f"While {name} ran, your code changed code the grader relies on ({names}), so what the "
                          "grader observed about this call cannot be trusted and its checks fail.", hint=TAMPER_HINT)


def failure_for(name: str, error: StudentError, memory_mb: int = MEMORY_MB, cause: str | None = None) -> GradingFailure:
    because = f" {cause}." if cause else ""
    if "can't allocate memory" in error.message or error.type == "MemoryError":
        return GradingFailure(f"{name} raised {error}", hint=MEMORY_HINT.format(mb=memory_mb))
    if error.not_implemented:
        function = error.raised_in or name
        if function != name.split(".")[0]:
            return NotImplementedYet(f"{name} cannot run yet: it uses {function}, which is not written yet "
                                     "(it still raises NotImplementedError).", function)
        return NotImplementedYet(f"{name} is not implemented yet: it still raises NotImplementedError.", function)
    if error.type == "MissingName":
        return GradingFailure(f"Your file does not define `{name}`.{because}",
                              hint=CAUSE_HINT if cause else EXCEPTION_HINTS["MissingName"])
    return GradingFailure(f"{name} raised {error}.{because}" if cause else f"{name} raised {error}",
                          hint=CAUSE_HINT if cause else EXCEPTION_HINTS.get(error.type))


@dataclass
class Student:
    """A submission loaded in its own process. One per grading session."""

    process: ChildProcess
    path: str                # the file the child loads (inside its scratch directory)
    module_name: str         # e.g. "tensors"
    source: str              # its text, for structural checks (parsed, never executed here)
    call_timeout: float = CALL_TIMEOUT
    import_timeout: float = IMPORT_TIMEOUT
    budget: float = TIME_BUDGET
    program: Program | None = None   # which statements to run; every definition when not given
    allowed: tuple[str, ...] | None = None   # what the submission may import; default: the
    available: str = ""                      # grading environment (autograder.environment)
    import_failure: GradingFailure | None = None
    spent: float = 0.0
    outcomes: dict[int, Outcome] = field(default_factory=dict)   # of the first load
    left_out: set[int] = field(default_factory=set)   # statements that hung or ended the process
    load_spent: float = 0.0
    _one_by_one: bool = False  # after a load request hung or ended the process
    _loaded_in: int = 0       # process start count at the last successful load
    _seed: int = 0
    _calls: int = 0
    output_log: list[str] = field(default_factory=list)
    memory_mb: int = MEMORY_MB
    tampered: dict[str, str] = field(default_factory=dict)   # kit code the submission changed: when
    _parameters: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.program is None:
            self.program = plan(from_script(self.source, Path(self.path).name))
        if self.allowed is None:
            self.allowed, self.available = environment.allowed_modules(), environment.available_text()

    # -- called by the pytest plugin around each test
    def begin_test(self, test_id: str) -> None:
        self._seed = int.from_bytes(hashlib.sha256(test_id.encode()).digest()[:4], "little")
        self._calls = 0
        self.output_log = []
        self.process.output.take()

    def printed(self) -> str:
        """What the student's code printed during the current test."""
        return "".join(self.output_log)

    # -- used by graders
    def call(self, name: str, *args, timeout: float | None = None, **kwargs) -> Call:
        reply = self._request("core:call", (name, args, kwargs), {}, name, timeout)
        if reply["ok"]:
            return Call(name, reply["value"], None, self.output_log[-1], self.memory_mb,
                        seed=self._seed + self._calls, tampered=self._tampered_in(reply),
                        parameters=self.parameters(name))
        error = self._error(reply.get("error"))
        return Call(name, None, error, self.output_log[-1], self.memory_mb, self._cause(error, name))

    def probe(self, probe: str, *args, what: str, timeout: float | None = None, **kwargs):
        """Run probe `module:function` from autograder.child.probes in the student's process.

        `what` names the student function or class being exercised, for messages."""
        reply = self._request(probe, args, kwargs, what, timeout)
        if not reply["ok"]:
            error = self._error(reply.get("error"))
            raise failure_for(what, error, self.memory_mb, self._cause(error, what))
        tampered = self._tampered_in(reply)
        if tampered:   # a probe's report is made of observations: none can be trusted
            raise tampering_failure(what, tampered)
        return reply["value"]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs).value

    def reach(self, function: str) -> Reach:
        """What `function`'s source reaches: its helpers, transitively, and the modules it uses."""
        return Reach(self.program, function)

    def parameters(self, function: str) -> tuple[str, ...]:
        """The positional parameter names of `function` as the submission defines it, for messages
        ("`w`" rather than "argument 1"); () when it is not a plain `def` of the file."""
        if function not in self._parameters:
            nodes = [node for helper, node, _ in self.reach(function).definitions
                     if helper == "" and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
            arguments = nodes[0].args if len(nodes) == 1 else None
            self._parameters[function] = tuple(p.arg for p in [*arguments.posonlyargs, *arguments.args]) \
                if arguments is not None else ()
        return self._parameters[function]

    def tree(self) -> ast.Module:
        try:
            return ast.parse(self.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return ast.Module(body=[], type_ignores=[])

    def where(self, line: int) -> str:
        """A line of `source` as the student sees it: "line 12", or "cell 3, line 4"."""
        return str(self.program.source.position(line) or f"line {line}")

    @property
    def loaded(self) -> bool:
        """The file was loaded at least once (its statements ran, each ok or not)."""
        return self._loaded_in > 0

    def unloaded(self) -> list[dict[str, str]]:
        """The pieces of the file that should have run and did not, as data:
        {"where": "cell 3, line 4", "text": first line, "problem": why, for the student}."""
        program, pieces = self.program, []
        for removed in program.source.removed:
            if removed.kind in ("syntax-error", "cell-magic"):
                pieces.append({"where": str(removed.where), "text": removed.text, "problem": removed.describe()})
        for statement in program.runnable():
            outcome = self.outcomes.get(statement.index)
            if outcome is not None and outcome.status != "ok":
                pieces.append({"where": str(program.where(statement)), "text": statement.text,
                               "problem": outcome.describe()})
        return pieces

    def load_report(self) -> str:
        """What the student should know about how their file loaded; "" when nothing."""
        program = self.program
        lines = [f"{piece['where']}: `{piece['text']}` {piece['problem']}" for piece in self.unloaded()]
        report = []
        if lines:
            shown = lines[:MAX_LISTED] + ([f"... and {len(lines) - MAX_LISTED} more"] if len(lines) > MAX_LISTED else [])
            report.append(f"Loading {program.source.file}, these pieces did not run; each costs only "
                          "the graded functions that need it:\n" + "\n".join(f"  {line}" for line in shown))
        unused = [s for s in program.statements if not s.run and not s.ipython and s.kind != "inert"]
        imports = [s for s in unused if s.kind == "import"]
        demo = [s for s in unused if s.kind != "import"]
        ipython = [s for s in program.statements if s.ipython] + [
            r for r in program.source.removed if r.kind in ("magic", "shell")]
        skipped = []
        if demo:
            named = "; ".join(f"{program.where(s)}: `{s.text}`" for s in demo[:MAX_DEMO_LISTED])
            skipped.append(f"{_count(demo, 'statement')} of demo code ({named}"
                           f"{'; ...' if len(demo) > MAX_DEMO_LISTED else ''})")
        if imports:
            named = ", ".join(f"`{s.text}`" for s in imports[:3]) + (", ..." if len(imports) > 3 else "")
            skipped.append(f"{_count(imports, 'import')} that graded code does not use ({named})")
        if ipython:
            skipped.append(f"{_count(ipython, 'IPython line')} (magics, shell commands, get_ipython())")
        if skipped:
            report.append(f"Not run during grading: {'; '.join(skipped)}.")
        return "\n".join(report)

    # -- machinery
    def _error(self, node: object) -> StudentError:
        """The student's exception from the child's description of it (`reply["error"]`)."""
        error = StudentError.from_reply(node, self.program.source.position)
        if error.not_implemented and error.line is not None:   # which definition of the file is not written yet
            error = replace(error, raised_in=self.program.definition_at(error.line))
        return error

    def _cause(self, error: StudentError, name: str) -> str | None:
        """Why a name the call needed was never set, when the load explains it."""
        if error.type == "NameError" and error.missing:
            return self.program.explain(error.missing, self.outcomes)
        if error.type == "MissingName":
            return self.program.explain(name, self.outcomes)
        return None

    def _request(self, probe, args, kwargs, what, timeout) -> dict:
        self._ensure_imported()
        self._calls += 1
        message = {"op": "call", "probe": probe, "args": list(args), "kwargs": kwargs,
                   "seed": self._seed + self._calls}
        return self._send(message, what, timeout or self.call_timeout)

    def _send(self, message: dict, what: str, timeout: float) -> dict:
        """One request; whatever goes wrong becomes a GradingFailure for the student."""
        try:
            return self._exchange(message, what, timeout)
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

    def _tampered_in(self, reply: dict) -> tuple[str, ...]:
        names = reply.get("tampered")   # the student's process wrote them: clean, short, few
        return tuple(clean_text(n, 120).replace("\n", " ") for n in names[:50] if type(n) is str) \
            if type(names) is list else ()

    def _note_tampering(self, reply: object, what: str) -> None:
        """Remember, for the instructor, what kit code the submission changed and when."""
        if type(reply) is dict:
            for name in self._tampered_in(reply):
                if len(self.tampered) < 200:
                    self.tampered.setdefault(name, what)

    def tamper_report(self) -> str:
        """What the student should know when their code changed the grader's code; "" if nothing."""
        if not self.tampered:
            return ""
        names = ", ".join(f"`{n}`" for n in list(self.tampered)[:5]) + (", ..." if len(self.tampered) > 5 else "")
        return (f"Your code changed code the grader relies on ({names}). The grader put it back each time; "
                "the checks of a function that changed it while running failed. Your instructor is told.")

    def _exchange(self, message: dict, what: str, timeout: float) -> dict:
        """One request within the time budget; ChildError when the child gave no reply."""
        left = self.budget - self.spent
        if left <= 0:
            raise GradingFailure(f"{what} was not run: the time for grading your code is used up "
                                 "(earlier calls timed out).")
        timeout = min(timeout, left)
        started = time.monotonic()
        try:
            reply = self.process.request(message, timeout)
            self._note_tampering(reply, what)
            return reply
        except ChildFailedToStart as error:
            raise GraderBroken(f"The grader could not start the process that runs your code "
                               f"({shorten(str(error), SHORT_LIMIT)}). "
                               "This is a problem of the autograder's set-up, not of your code: "
                               "please tell your instructor.") from None
        finally:
            self.spent += time.monotonic() - started
            self.output_log.append(self.process.output.take())

    def _ensure_imported(self) -> None:
        if self.import_failure is not None:
            raise self.import_failure
        if self.process.alive() and self._loaded_in == self.process.starts:
            return
        try:
            for _ in range(MAX_RESTARTS + 2):   # + the request that ran every statement at once
                if self._load():
                    self._loaded_in = self.process.starts
                    return
            raise GradingFailure(f"Loading your file, {len(self.left_out)} of its statements hung or ended the "
                                 "process running it, so nothing in it could be graded.",
                                 hint="Keep demo code out of what your functions need at the top level.")
        except GraderBroken as failure:
            self.import_failure = failure
            raise
        except GradingFailure as failure:
            self.import_failure = GradingFailure(
                f"Your file could not be loaded, so nothing in it could be graded. {failure.message}",
                hint=failure.hint)
            raise self.import_failure from None

    def _load(self) -> bool:
        """Run the planned statements in a fresh module; False when a statement hung or ended the
        process (then the caller loads again in a new process)."""
        what = f"loading {self.program.source.file}"
        reply = self._send({"op": "load", "path": self.path, "name": self.module_name,
                            "allowed": list(self.allowed), "available": self.available}, what, self.import_timeout)
        if not reply["ok"]:
            raise GradingFailure(f"{what} failed: {self._error(reply.get('error'))}.")
        statements = [s for s in self.program.runnable() if s.index not in self.left_out]
        if self._one_by_one:
            return all(self._run([statement]) for statement in statements)
        if not self._run(statements):
            self._one_by_one = True   # find the statement that did it: one request each from now on
            return False
        return True

    def _run(self, statements: list[Statement]) -> bool:
        """Run `statements` in one request and record what each did; False when the request hung
        or ended the process (a single statement is then left out)."""
        if not statements:
            return True
        left = LOAD_BUDGET - self.load_spent
        if left <= 0:
            for statement in statements:
                self._record(statement, Outcome("stopped", f"was not run: loading the file took more than "
                                                           f"{LOAD_BUDGET:g} s"))
                self.left_out.add(statement.index)
            return True
        started = time.monotonic()
        try:
            reply = self._exchange({"op": "run", "indices": [s.index for s in statements]},
                                   f"loading {self.program.source.file}", min(self.call_timeout, left))
        except ChildError as error:
            if len(statements) == 1:
                ended = "ended the process" if isinstance(error, ChildDied) else "stopped the process"
                text = (f"did not finish within {error.seconds:g} s" if isinstance(error, ChildTimeout)
                        else f"{ended} running your code ({error})")
                self._record(statements[0], Outcome("stopped" if isinstance(error, ChildTimeout) else "ended", text))
                self.left_out.add(statements[0].index)
            return False
        finally:
            self.load_spent += time.monotonic() - started
        errors = reply["value"] if reply["ok"] and isinstance(reply["value"], list) else []
        if len(errors) != len(statements):
            raise GradingFailure("loading your file: the grader could not read what your code sent back.")
        for statement, error in zip(statements, errors):
            self._record(statement, Outcome("ok") if error is None else self._failed(statement, error))
        return True

    def _failed(self, statement: Statement, node: object) -> Outcome:
        error = self._error(node)
        same_line = error.line is None or error.line == statement.line
        return Outcome("failed", error.headline() if same_line else str(error), error.missing)

    def _record(self, statement: Statement, outcome: Outcome) -> None:
        self.outcomes.setdefault(statement.index, outcome)


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _exit_hint(returncode: int | None) -> str:
    if returncode is not None and returncode >= 0:
        return "Do not call os._exit(), sys.exit() or exit() in graded code."
    if returncode == -9:
        return ("It was killed, most likely for using too much memory or time (every process it starts "
                "counts towards its memory).")
    if returncode == -25:
        return "It wrote a file larger than the limit for files (64 MB)."
    if returncode == -11:
        return "It crashed (segmentation fault), e.g. from unbounded recursion."
    return "Check for code that ends or crashes the Python process."
