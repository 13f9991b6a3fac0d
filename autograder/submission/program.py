"""Which top-level statements of a submission run when it is graded, and why a name is missing.

    program = plan(source, api=("first_row", "second_column", ...))
    program.runnable()          # the statements to run, in file order
    program.explain("criterion", outcomes)   # why a function found no `criterion`, or None

A file or notebook is loaded as Jupyter's Run All would load it, but only the statements that
the graded definitions need are run: the statements that set a graded name (the assignment's
functions and classes), then, transitively, every statement that sets a name those statements
use, when they are defined or when they are called (helpers, imports, `criterion =
nn.MSELoss()`, `SIZES = [IN, HIDDEN, 40]`), and the statements that change such an object in
place (`SIZES.append(40)`, `model.fc = ...`). All statements that set a needed name run, in file
order, so a later definition replaces an earlier one. Demo code (prints, plots, training runs,
`drive.mount(...)`) is not needed, so it never runs and cannot make grading slow or fragile.
Names are found with `symtable`, so a function's own argument `x` does not make the demo's
`x = torch.randn(3)` needed. A needed statement that uses `globals()`, `vars()`, `eval` or
`exec` may need anything: then every statement runs. `from __future__` imports always run
(they change how what follows compiles); `get_ipython()` calls never run.

Nothing here runs the student's code; `autograder.session.student` runs the plan in the student's
process (each statement on its own, so one that raises does not stop the others) and records
each statement's outcome.
"""

from __future__ import annotations

import ast
import symtable
import warnings
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from functools import cached_property

from autograder.submission.ipython import ipython_call
from autograder.submission.source import Position, Source

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)   # what a statement can define by name
DYNAMIC = frozenset({"globals", "vars", "eval", "exec"})
# Planning costs ~0.1 ms a statement; a student's file has hundreds, not tens of thousands.
MAX_STATEMENTS = 5_000
MAX_TEXT_CHARS = 80


class TooManyStatements(ValueError):
    """The file is too large to plan; the message says so, for the student."""


@dataclass(frozen=True)
class Statement:
    """One top-level statement of `Source.text`."""

    index: int                   # its place in ast.parse(source.text).body
    line: int                    # its first line in source.text
    binds: tuple[str, ...]       # module-level names it sets
    uses: tuple[str, ...]        # module-level names it reads, now or when its functions run
    changes: tuple[str, ...]     # names of objects it changes in place (`x.append(1)`, `x.a = 1`)
    text: str                    # its first line, clipped, for messages
    kind: str = "code"           # "import", "definition", "inert" (a docstring, `pass`) or "code"
    ipython: bool = False        # calls get_ipython(): only works inside Jupyter
    run: bool = False            # part of what the graded definitions need


@dataclass(frozen=True)
class Outcome:
    """What happened when a statement was run in the student's process."""

    status: str                  # "ok", "failed", "stopped" (too slow) or "ended" (the process ended)
    error: str = ""              # "NameError: name 'nn' is not defined", "did not finish within 10 s"
    missing: str | None = None   # for a NameError: the name that was missing

    def describe(self) -> str:
        """What the statement did: "raised NameError: ..." or "did not finish within 10 s"."""
        return f"raised {self.error}" if self.status == "failed" else self.error


@dataclass
class Program:
    source: Source
    statements: list[Statement]

    def runnable(self) -> list[Statement]:
        return [s for s in self.statements if s.run]

    @cached_property
    def body(self) -> list[ast.stmt]:
        """The text's top-level statements as parsed (a `Statement.index` is a place here), once for
        every `Reach` of this program; [] when the text does not parse."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return ast.parse(self.source.text).body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return []

    def definition_at(self, line: int) -> str | None:
        """The function or class whose top-level definition holds `line` of the text, or None."""
        before = [s for s in self.statements if s.line <= line]
        statement = before[-1] if before else None
        if statement is not None and statement.kind == "definition" and len(statement.binds) == 1:
            return statement.binds[0]
        return None

    def where(self, statement: Statement) -> Position | None:
        return self.source.position(statement.line)

    def explain(self, name: str, outcomes: Mapping[int, Outcome], depth: int = 3) -> str | None:
        """Why `name` was not set when the graded code needed it, or None if nothing says why."""
        setters = [s for s in self.statements if name in s.binds]
        if any(outcomes.get(s.index, Outcome("")).status == "ok" for s in setters):
            return None
        for statement in reversed(setters):
            outcome = outcomes.get(statement.index)
            where = f"{self.where(statement)} (`{statement.text}`)"
            if outcome is not None and outcome.status == "failed":
                reason = f"`{name}` was not set: {where} {outcome.describe()}"
                cause = self.explain(outcome.missing, outcomes, depth - 1) if outcome.missing and depth > 1 else None
                return f"{reason}. {cause}" if cause else reason
            if outcome is not None and outcome.status in ("stopped", "ended"):
                return f"`{name}` was not set: {where} {outcome.describe()}, so it was skipped"
            if statement.ipython:
                return (f"`{name}` is set by {where}, which calls get_ipython(): that only works inside "
                        "Jupyter, so it is not run during grading")
        for removed in reversed(self.source.removed):
            if name in removed.names:
                return f"`{name}` is set at {removed.where} (`{removed.text}`), which {removed.describe()}"
        if setters:
            return f"`{name}` is set only by {self.where(setters[-1])} (`{setters[-1].text}`), which did not run"
        return None

    def to_dict(self) -> dict:
        return {"source": self.source.to_dict(),
                "statements": [[s.index, s.line, list(s.binds), list(s.uses), list(s.changes), s.text,
                                s.kind, s.ipython, s.run] for s in self.statements]}

    @classmethod
    def from_dict(cls, data: dict) -> "Program":
        statements = [Statement(index, line, tuple(binds), tuple(uses), tuple(changes), text, kind, ipython, run)
                      for index, line, binds, uses, changes, text, kind, ipython, run in data["statements"]]
        return cls(Source.from_dict(data["source"]), statements)


def plan(source: Source, api: Collection[str] = ()) -> Program:
    """The statements of `source` and which of them run to define the graded names `api`
    (every top-level function and class when `api` is empty)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        body = ast.parse(source.text).body
    if len(body) > MAX_STATEMENTS:
        raise TooManyStatements(f"{source.file} has {len(body)} top-level statements; the limit is "
                                f"{MAX_STATEMENTS}.")
    lines = source.text.split("\n")
    statements = [_statement(index, node, lines) for index, node in enumerate(body)]
    if not api:
        api = {n.name for n in body if isinstance(n, DEFINITIONS)}
    # Names that hold objects the student built (not modules, functions or classes): a
    # statement that changes one of them in place is needed with it.
    objects = {name for s in statements if s.kind == "code" for name in s.binds}
    run = _needed(statements, set(api), objects)
    run |= {i for i, node in enumerate(body) if isinstance(node, ast.ImportFrom) and node.module == "__future__"}
    return Program(source, [replace(s, run=s.index in run) for s in statements])


def _needed(statements: list[Statement], roots: set[str], objects: set[str]) -> set[int]:
    """Indices of the statements that setting `roots` needs (a worklist over names: linear in the
    size of the file, whatever order its statements come in)."""
    setters: dict[str, list[Statement]] = defaultdict(list)
    for statement in statements:
        if not statement.ipython:
            for name in statement.binds:
                setters[name].append(statement)
            for name in set(statement.changes) & objects:
                setters[name].append(statement)   # changing a needed object in place is needed too
    run: set[int] = set()
    needed: set[str] = set()
    queue = [*roots, "*"]   # a star import may set anything: it always runs
    while queue:
        name = queue.pop()
        if name in needed:
            continue
        needed.add(name)
        for statement in setters[name]:
            if statement.index not in run:
                run.add(statement.index)
                queue.extend(statement.uses)
    if needed & DYNAMIC:
        return {s.index for s in statements if not s.ipython}
    return run


def first_line(node: ast.stmt) -> int:
    """Where a statement starts: its first decorator's line, or its own."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _statement(index: int, node: ast.stmt, lines: list[str]) -> Statement:
    first = first_line(node)
    text = lines[first - 1]
    if first == node.lineno:  # it may share its line with others, after a `;`
        end = node.end_col_offset if node.end_lineno == node.lineno else None
        text = text.encode("utf-8")[node.col_offset:end].decode("utf-8", "replace")  # offsets count bytes
    binds, uses = _names(node, _segment(node, first, lines))
    return Statement(index, first, binds, uses, _changed_objects(node), _clip(text.strip()), _kind(node),
                     ipython=ipython_call(node))


def _kind(node: ast.stmt) -> str:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return "import"
    if isinstance(node, DEFINITIONS):
        return "definition"
    if isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
        return "inert"
    return "code"


def _segment(node: ast.stmt, first: int, lines: list[str]) -> str:
    """The statement's own source text, decorators included (offsets count UTF-8 bytes)."""
    segment = [line.encode("utf-8") for line in lines[first - 1:node.end_lineno]]
    segment[-1] = segment[-1][:node.end_col_offset]
    if first == node.lineno:  # it may share its first line with others, after a `;`
        segment[0] = segment[0][node.col_offset:]
    return b"\n".join(segment).decode("utf-8", "replace")


def _names(node: ast.stmt, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names the statement sets at module level, module-level names it reads, at once or later).

    `text` is the statement's source: symtable reads it directly (rebuilding it with
    ast.unparse would recurse in Python, and fail on a deeply nested expression)."""
    module = ast.Module(body=[node], type_ignores=[])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = symtable.symtable(text, "<statement>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return (), ()
    binds = sorted(s.get_name() for s in table.get_symbols()
                   if s.is_assigned() or s.is_imported() or s.is_namespace())
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(module)):
        binds.append("*")
    uses = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        stack += child.get_children()
        for symbol in child.get_symbols():
            if symbol.is_global() and (symbol.is_referenced() or symbol.is_assigned()):
                uses.add(symbol.get_name())
    return tuple(binds), tuple(sorted(uses))


def _changed_objects(node: ast.stmt) -> tuple[str, ...]:
    """Names whose object the statement changes in place: `x.append(1)`, `x.a = 1`, `x[k] += 1`."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute):
        targets = [node.value.func]
    elif isinstance(node, (ast.Assign, ast.Delete)):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    else:
        return ()
    found = []
    for target in targets:
        if not isinstance(target, (ast.Attribute, ast.Subscript)):
            continue  # `x = ...` sets x; it does not change an object
        while isinstance(target, (ast.Attribute, ast.Subscript, ast.Call)):
            target = target.func if isinstance(target, ast.Call) else target.value
        if isinstance(target, ast.Name):
            found.append(target.id)
    return tuple(found)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS - 3] + "..."
