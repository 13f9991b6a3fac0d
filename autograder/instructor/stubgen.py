"""Generate the student stub of each assignment from its reference solution.

`solutions/<assignment>.py` is the only file an instructor edits. The student's starting file,
`assignments/<assignment>/<assignment>.py`, is generated from it (`make stubs`, that is
`autograder stubs`) and must never be edited by hand: `--check`, and a test,
fail when the two drift apart.

Marking the solution
--------------------
Wrap the code students must write in a region: two comment lines, each on a line of its
own and indented like the code they wrap::

    def first_row(x: Tensor) -> Tensor:
        \"\"\"Return row 0 of the 2-D tensor `x`.\"\"\"
        # BEGIN SOLUTION
        return x[0]
        # END SOLUTION

Text after the marker is allowed and ignored (`# BEGIN SOLUTION (task 3)`). What happens to
a region depends on where it sits:

- In the body of a function or method (at any depth of `if`/`with`/`for` blocks in it): the
  markers and everything between them become ONE line, at the marker's indentation::

      raise NotImplementedError("first_row: not written yet (see handout.md)")

  The name is the qualified name of the innermost enclosing function: `Square.forward`,
  `MyNetwork.__init__`, and `outer.inner` for a function defined inside `outer`. Code
  before the region (given scaffolding such as `super().__init__()`) stays in the stub.
  Nothing of the function may follow the region: that code would sit after the `raise`.
- At module level or directly in a class body: the markers and everything between them are
  removed. Use this for what only the solution needs (an import, a constant, a private
  helper). Functions and classes removed this way must have private names (`_helper`);
  everything public is part of the students' interface and must stay.

Everything outside the regions is copied byte for byte: the module docstring, imports (even
those only the solution uses), signatures, type hints, decorators, docstrings, comments and
blank lines. Mind the blank lines around a module-level region: they all stay.

Rules, each enforced with a `StubError` that names the file and line:

- Markers are balanced and do not nest; `# END SOLUTION` has the indentation of its
  `# BEGIN SOLUTION`. Near misses (`#BEGIN SOLUTION`, `# begin solution`, a marker after
  code on the same line) are errors rather than silently ignored.
- A region wraps whole statements, all of one block, and at least one of them; its markers
  have the indentation of those statements.
- Docstrings and `def`/`class` lines stay outside regions. After generating the stub, every
  top-level function and class and every method of the solution (outside removed regions)
  is checked to be in the stub with the same arguments, return annotation, decorators,
  bases and docstring, and the stub is checked to parse.

Running it
----------
`autograder stubs [ASSIGNMENT ...]` writes, through `run`, the stubs of the named assignments (of every
`solutions/*.py` when none is named, except files whose name starts with `_`); the command then
rewrites the handouts' generated blocks (`autograder.cli.stubs_command` calls
`autograder.instructor.handouts.run`; `run` here does not). `--check` writes nothing: it
prints a diff for each stub that differs from what the solution generates and exits 1 if any
differs or is missing. A solution with no region at all is refused, because its stub would be
the full solution. Exit status 2 means a `StubError`.
"""

from __future__ import annotations

import ast
import difflib
import io
import re
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from autograder.course import ROOT, Assignment, solution_names
from autograder.submission.program import first_line

MARKER = re.compile(r"# (BEGIN|END) SOLUTION\b")
# Comments that look like a marker but are not written as one: typos that must not pass.
MARKER_LOOKALIKE = re.compile(r"#\s*(BEGIN|END)[\s_-]*SOLUTION", re.IGNORECASE)
RAISE_LINE = 'raise NotImplementedError("{name}: not written yet (see handout.md)")'

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
DefinitionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef]
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class StubError(Exception):
    """A solution file that cannot be turned into a stub; `str()` is `file:line: message`."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename = filename
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Marker:
    kind: str        # "BEGIN" or "END"
    line: int        # 1-based, as in `ast`
    indent: str      # the whitespace before the `#`


@dataclass(frozen=True)
class Region:
    begin: Marker
    end: Marker

    def contains(self, line: int) -> bool:
        return self.begin.line <= line <= self.end.line


@dataclass(frozen=True)
class Edit:
    """What becomes of one region: replaced by `replacement` (a line of code), or removed."""

    region: Region
    replacement: str | None


# --- public API ------------------------------------------------------------------------------


def generate_stub(solution_source: str, *, filename: str = "<solution>") -> str:
    """Return the student stub for `solution_source`; raise StubError if the markers are wrong.

    A source without any region comes back unchanged, so generating from a stub is a no-op.
    """
    lines = _split_lines(solution_source)
    tree = _parse(solution_source, filename)
    markers, code_lines = _scan_comments(lines, filename)
    regions = _pair_markers(markers, filename)
    syntax = _Syntax(tree)
    edits = [_plan(region, syntax, code_lines, lines, filename) for region in regions]
    stub_lines, origins = _apply(lines, edits)
    stub = "".join(stub_lines)
    removed = [edit.region for edit in edits if edit.replacement is None]
    _check_interface(tree, stub, origins, removed, filename)
    return stub


# --- reading the solution --------------------------------------------------------------------


def _split_lines(source: str) -> list[str]:
    """Lines with their endings, split where Python's tokenizer splits (not at \\f etc.)."""
    return io.StringIO(source, newline="").readlines()


def _parse(source: str, filename: str) -> ast.Module:
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as error:
        raise StubError(filename, error.lineno or 1, f"the solution does not parse: {error.msg}") from None


def _scan_comments(lines: list[str], filename: str) -> tuple[list[Marker], set[int]]:
    """The markers in the source, and the numbers of the lines that hold code (not just comments)."""
    markers: list[Marker] = []
    code_lines: set[int] = set()
    non_code = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                tokenize.ENDMARKER}
    remaining = iter(lines)
    try:
        for token in tokenize.generate_tokens(lambda: next(remaining, "")):
            if token.type == tokenize.COMMENT:
                marker = _marker(token, filename)
                if marker is not None:
                    markers.append(marker)
            elif token.type not in non_code:
                code_lines.update(range(token.start[0], token.end[0] + 1))
    except tokenize.TokenError as error:  # pragma: no cover - ast.parse ran first
        raise StubError(filename, 1, f"cannot tokenize the solution: {error}") from None
    return markers, code_lines


def _marker(token: tokenize.TokenInfo, filename: str) -> Marker | None:
    """The marker that the comment `token` is, None for an ordinary comment."""
    line, column = token.start
    if not MARKER_LOOKALIKE.match(token.string):
        return None
    before = token.line[:column]
    if before.strip():
        raise StubError(filename, line, "a BEGIN/END SOLUTION marker must be on a line of its own")
    written = MARKER.match(token.string)
    if written is None:
        raise StubError(filename, line, f"malformed marker {token.string!r}: write '# BEGIN SOLUTION' "
                                        "or '# END SOLUTION' exactly (text may follow)")
    return Marker(kind=written.group(1), line=line, indent=before)


def _pair_markers(markers: list[Marker], filename: str) -> list[Region]:
    regions: list[Region] = []
    open_marker: Marker | None = None
    for marker in markers:
        if marker.kind == "BEGIN":
            if open_marker is not None:
                raise StubError(filename, marker.line, "BEGIN SOLUTION inside the region opened at line "
                                                       f"{open_marker.line}; regions cannot nest")
            open_marker = marker
            continue
        if open_marker is None:
            raise StubError(filename, marker.line, "END SOLUTION without a BEGIN SOLUTION before it")
        if marker.indent != open_marker.indent:
            raise StubError(filename, marker.line, "END SOLUTION is indented differently from its "
                                                   f"BEGIN SOLUTION at line {open_marker.line}")
        regions.append(Region(open_marker, marker))
        open_marker = None
    if open_marker is not None:
        raise StubError(filename, open_marker.line, "BEGIN SOLUTION is never closed by an END SOLUTION")
    return regions


# --- deciding what each region becomes -------------------------------------------------------


class _Syntax:
    """The solution's syntax tree with the links `ast` leaves out: parents and statement blocks."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.parent: dict[ast.AST, ast.AST] = {}
        self.block: dict[ast.stmt, tuple[ast.AST, str]] = {}   # statement -> (owner, field)
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
            for field, value in ast.iter_fields(node):
                if isinstance(value, list):
                    for item in value:
                        if isinstance(item, ast.stmt):
                            self.block[item] = (node, field)
        self.statements = list(self.block)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        while node in self.parent:
            node = self.parent[node]
            yield node

    def scope(self, node: ast.AST) -> ast.AST:
        """The innermost function, class or module that `node` is (or is in)."""
        if isinstance(node, (ast.Module, *DEFINITIONS)):
            return node
        return next(a for a in self.ancestors(node) if isinstance(a, (ast.Module, *DEFINITIONS)))

    def qualified_name(self, node: DefinitionNode) -> str:
        names = [node.name] + [a.name for a in self.ancestors(node) if isinstance(a, DEFINITIONS)]
        return ".".join(reversed(names))


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t\f"))]


def _plan(region: Region, syntax: _Syntax, code_lines: set[int], lines: list[str], filename: str) -> Edit:
    wrapped = _wrapped_statements(region, syntax, code_lines, filename)
    first = first_line(wrapped[0])
    if _indent(lines[first - 1]) != region.begin.indent:
        raise StubError(filename, region.begin.line,
                        f"BEGIN SOLUTION is indented differently from the code it wraps (line {first})")
    owner, field = syntax.block[wrapped[0]]
    scope = syntax.scope(owner)
    if isinstance(scope, FUNCTIONS):
        return _plan_raise(region, scope, syntax, filename)
    _check_removal(region, wrapped, getattr(owner, field), owner, filename)
    return Edit(region, replacement=None)


def _wrapped_statements(region: Region, syntax: _Syntax, code_lines: set[int], filename: str) -> list[ast.stmt]:
    """The outermost statements between the markers, which must all belong to one block."""
    begin, end = region.begin.line, region.end.line
    inside = {s for s in syntax.statements if begin < first_line(s) and s.end_lineno < end}
    wrapped = sorted((s for s in inside if not any(a in inside for a in syntax.ancestors(s))),
                     key=first_line)
    covered = {n for s in wrapped for n in range(first_line(s), s.end_lineno + 1)}
    for number in range(begin + 1, end):
        if number in code_lines and number not in covered:
            raise StubError(filename, number, f"the region at line {begin} must wrap whole statements, "
                                              "but this line belongs to a statement that crosses its border")
    if not wrapped:
        raise StubError(filename, begin, "the region wraps no code")
    blocks = {(id(syntax.block[s][0]), syntax.block[s][1]) for s in wrapped}
    if len(blocks) > 1:
        raise StubError(filename, begin, "the region spans statements of different blocks "
                                         f"(lines {first_line(wrapped[0])} and {first_line(wrapped[-1])})")
    return wrapped


def _plan_raise(region: Region, function: FunctionNode, syntax: _Syntax, filename: str) -> Edit:
    name = syntax.qualified_name(function)
    for node in ast.walk(function):
        if isinstance(node, ast.stmt) and node.lineno > region.end.line:
            raise StubError(filename, node.lineno,
                            f"`{name}` goes on after the region that ends at line {region.end.line}; "
                            "this code would follow the `raise NotImplementedError` in the stub. "
                            "End the region at the end of the function, or move the code before it")
    return Edit(region, replacement=RAISE_LINE.format(name=name))


def _check_removal(region: Region, wrapped: list[ast.stmt], block: list[ast.stmt], owner: ast.AST,
                   filename: str) -> None:
    for definition in _definitions_in(wrapped):
        if not _is_private(definition.name):
            raise StubError(filename, definition.lineno,
                            f"the region at line {region.begin.line} would remove `{definition.name}` from "
                            "the stub; only private names (`_helper`) may be removed. To leave its body "
                            "to the students, put the markers inside its body")
    if not isinstance(owner, ast.Module) and len(wrapped) == len(block):
        raise StubError(filename, region.begin.line,
                        "the region would leave an empty block; keep a docstring or `pass` outside it")


def _definitions_in(nodes: Iterable[ast.AST]) -> Iterator[DefinitionNode]:
    """The functions and classes these nodes define in their own scope (even inside an `if`)."""
    for node in nodes:
        if isinstance(node, DEFINITIONS):
            yield node
        else:
            yield from _definitions_in(ast.iter_child_nodes(node))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


# --- writing the stub ------------------------------------------------------------------------


def _apply(lines: list[str], edits: list[Edit]) -> tuple[list[str], list[int]]:
    """The stub's lines, and for each the number of the solution line it comes from."""
    out: list[str] = []
    origins: list[int] = []
    cursor = 0                                   # index of the next solution line to copy
    for edit in edits:
        start = edit.region.begin.line - 1
        out += lines[cursor:start]
        origins += range(cursor + 1, start + 1)
        if edit.replacement is not None:
            begin_line = lines[start]
            ending = begin_line[len(begin_line.rstrip("\r\n")):]
            out.append(edit.region.begin.indent + edit.replacement + ending)
            origins.append(start + 1)
        cursor = edit.region.end.line
    out += lines[cursor:]
    origins += range(cursor + 1, len(lines) + 1)
    return out, origins


# --- checking the stub -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """What students see of one function or class: where it is, its signature, its docstring."""

    line: int
    kind: str
    signature: tuple[str, ...]
    docstring: str | None


def _interface(tree: ast.Module) -> dict[str, _Entry]:
    """Top-level functions and classes, and the methods of classes (nested classes too)."""
    entries: dict[str, _Entry] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if not isinstance(node, DEFINITIONS):
                continue
            name = prefix + node.name
            entries[name] = _entry(node)
            if isinstance(node, ast.ClassDef):
                visit(node.body, name + ".")

    visit(tree.body, "")
    return entries


def _entry(node: DefinitionNode) -> _Entry:
    decorators = tuple("@" + ast.unparse(d) for d in node.decorator_list)
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
        kind, signature = "class", (f"({bases})", *decorators)
    else:
        returns = "" if node.returns is None else ast.unparse(node.returns)
        kind = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        signature = (ast.unparse(node.args), returns, *decorators)
    return _Entry(first_line(node), kind, signature, ast.get_docstring(node, clean=False))


def _check_interface(solution: ast.Module, stub: str, origins: list[int], removed: list[Region],
                     filename: str) -> None:
    try:
        stub_tree = ast.parse(stub)
    except SyntaxError as error:
        line = origins[error.lineno - 1] if error.lineno and error.lineno <= len(origins) else 1
        raise StubError(filename, line, f"the generated stub does not parse: {error.msg}") from None
    theirs = _interface(stub_tree)
    for name, mine in _interface(solution).items():
        if any(region.contains(mine.line) for region in removed):
            continue
        problem = _difference(name, mine, theirs.get(name))
        if problem:
            raise StubError(filename, mine.line, problem + "; keep def/class lines and docstrings "
                                                           "outside BEGIN/END SOLUTION")


def _difference(name: str, mine: _Entry, theirs: _Entry | None) -> str | None:
    if theirs is None:
        return f"the stub lost {mine.kind} `{name}`"
    if (theirs.kind, theirs.signature) != (mine.kind, mine.signature):
        return f"the stub changed the signature of `{name}`"
    if theirs.docstring != mine.docstring:
        return f"the stub lost or changed the docstring of `{name}`"
    return None


# --- `autograder stubs` ------------------------------------------------------------------------


def run(names: list[str] | None = None, *, check: bool = False, root: Path = ROOT) -> int:
    """Write the stubs of `names` (default: every solution); with `check`, write nothing and report drift.

    Exit status: 0 done or up to date, 1 a stub differs or is missing (`check`), 2 a `StubError`.
    """
    names = names or solution_names(root)
    if not names:
        print("no solutions/*.py found; nothing to do")
        return 0
    stubs, errors = _generate_all(names, root)
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 2
    if check:
        return _check_all(stubs, root)
    for name, stub in stubs.items():
        path = Assignment(name, root).stub
        _write(path, stub)
        print(f"wrote {_relative(path, root)}")
    return 0


def _generate_all(names: list[str], root: Path) -> tuple[dict[str, str], list[str]]:
    """Every stub, or the error messages of those that cannot be generated."""
    stubs: dict[str, str] = {}
    errors: list[str] = []
    for name in names:
        path = Assignment(name, root).solution
        shown = _relative(path, root)
        if not path.is_file():
            errors.append(f"{shown}: no such solution file")
            continue
        source = path.read_bytes().decode("utf-8")
        try:
            stub = generate_stub(source, filename=shown)
        except StubError as error:
            errors.append(str(error))
            continue
        if stub == source:
            errors.append(f"{shown}:1: no BEGIN SOLUTION region; refusing to publish the full solution as the stub")
            continue
        stubs[name] = stub
    return stubs, errors


def _check_all(stubs: dict[str, str], root: Path) -> int:
    drifted = False
    for name, stub in stubs.items():
        assignment = Assignment(name, root)
        path = assignment.stub
        shown = _relative(path, root)
        if not path.is_file():
            print(f"{shown} is missing: run `make stubs`")
            drifted = True
            continue
        on_disk = path.read_bytes().decode("utf-8")
        if on_disk == stub:
            print(f"{shown} is up to date")
            continue
        sys.stdout.writelines(difflib.unified_diff(
            on_disk.splitlines(keepends=True), stub.splitlines(keepends=True),
            fromfile=f"{shown} (on disk)", tofile=f"{shown} (generated from {_relative(assignment.solution, root)})"))
        print(f"{shown} is out of date: run `make stubs`")
        drifted = True
    return 1 if drifted else 0


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
