"""Turn a student's Jupyter notebook into the Python source that gets graded, without running it.

Nothing in the notebook is executed: cells are read with nbformat and judged as text and `ast`.
Only top-level imports, function and class definitions, simple constants and docstrings are kept,
verbatim and in notebook order; demo calls, prints, loops, IPython magics and shell commands are
dropped and listed in `Extracted.summary()`. A code cell that does not parse is skipped whole, so
one half-finished scratch cell costs only its own definitions.
"""

from __future__ import annotations

import __future__
import ast
import builtins
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

DEFAULT_NOTEBOOK_NAME = "tensors.ipynb"
MAX_TEXT_CHARS = 80
MAX_LISTED = 20

# A line IPython rewrites before Python sees it: `x = !ls`, `out = %time f()`, `obj?`, `??obj`.
_IPYTHON_ASSIGNMENT = re.compile(r"\s*[\w(\[*][\w\s.,\[\]()*]*=\s*([!%])")
_IPYTHON_HELP = re.compile(r"\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")

# Names a module has while it runs, besides builtins.
_MODULE_GLOBALS = frozenset({"__name__", "__file__", "__doc__", "__spec__", "__loader__",
                             "__package__", "__builtins__", "__annotations__", "__cached__"})
# Node types an annotation may use and still be harmless to evaluate (`int`, `torch.Tensor | None`).
_INERT_ANNOTATION_NODES = (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Tuple,
                           ast.List, ast.BinOp, ast.BitOr, ast.expr_context)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_OWN_SCOPE_EXPRESSIONS = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Dropped:
    """One part of the notebook that is not graded."""

    cell: int        # 1-based index among all cells of the notebook, as Jupyter shows "cell N"
    line: int        # 1-based line within that cell
    kind: str        # "magic", "shell", "get_ipython", "statement", "syntax-error"
    text: str        # the first line of what was dropped, stripped, at most 80 characters
    reason: str = ""  # why, where the kind alone does not say it


@dataclass(frozen=True)
class Extracted:
    """The Python source to grade and what was left out of it."""

    source: str
    dropped: tuple[Dropped, ...]
    notebook: str = DEFAULT_NOTEBOOK_NAME

    def summary(self) -> str:
        """Feedback for the student; "" when nothing was dropped."""
        if not self.dropped:
            return ""
        count = len(self.dropped)
        pieces = "piece" if count == 1 else "pieces"
        lines = [f"Graded only the definitions in {self.notebook} (imports, functions, classes and "
                 f"constants); the rest of the notebook is not run during grading, so demo code may "
                 f"stay. Skipped {count} {pieces} of code:"]
        lines += [f"  {_describe(dropped)}" for dropped in self.dropped[:MAX_LISTED]]
        if count > MAX_LISTED:
            lines.append(f"  ... and {count - MAX_LISTED} more")
        return "\n".join(lines)


class NotebookError(Exception):
    """The notebook cannot be read; the message says why, for the student."""


def extract_notebook(path: str | os.PathLike) -> Extracted:
    """Read the notebook at `path` and extract its gradable source."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise NotebookError(f"{path.name} could not be read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError(f"{path.name} is not a valid Jupyter notebook: it is not UTF-8 text") from None
    return notebook_source(text, name=path.name)


def notebook_source(text: str, name: str = DEFAULT_NOTEBOOK_NAME) -> Extracted:
    """Extract the gradable source from the JSON text of a notebook called `name`."""
    code_cells = _read_code_cells(text, name)
    cells = [_parse_cell(number, source) for number, source in code_cells]
    features = _future_features(cells)
    names = _ModuleNames()
    chunks, dropped = [], []
    for cell in cells:
        dropped += cell.dropped
        kept = []
        for node in cell.statements():
            if _is_future_import(node) and _known_future(node):
                continue  # hoisted to the top of the output by _join_chunks
            problem = _why_not_kept(node, cell, names, lazy_annotations="annotations" in features)
            if problem is None:
                kept.append(node)
                names.record_kept(node)
            else:
                dropped.append(problem)
                names.record_skipped(node)
        if kept:
            chunks.append(_render_cell(cell, kept))
    dropped.sort(key=lambda d: (d.cell, d.line))
    return Extracted(source=_join_chunks(chunks, features), dropped=tuple(dropped), notebook=name)


# --- reading the notebook -------------------------------------------------------------------

def _read_code_cells(text: str, name: str) -> list[tuple[int, str]]:
    """(cell number, source) of every code cell; NotebookError when the cells cannot be read."""
    def invalid(reason: str) -> NotebookError:
        return NotebookError(f"{name} is not a valid Jupyter notebook: {reason}")

    data = _parse_json(text, invalid)
    version = data.get("nbformat")
    if type(version) is not int or version not in nbformat.versions:
        raise invalid(f"unsupported notebook format version {version!r}")
    if version == 4:
        _check_v4_cells(data, invalid)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # nbformat.reads() minus its validate() step, which only logs what it finds: unknown
            # metadata and missing cell ids are common in notebooks Colab and Jupyter save.
            node = nbformat.versions[version].to_notebook_json(data, minor=data.get("nbformat_minor", 0))
            notebook = nbformat.convert(node, 4)
    except Exception as error:  # nbformat raises many types for a malformed notebook
        raise invalid(str(error) or type(error).__name__) from None
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise invalid('it has no list of "cells"')
    code_cells = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise invalid(f"cell {number} is not a JSON object")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if not isinstance(source, str):
            raise invalid(f"the source of cell {number} is not text")
        code_cells.append((number, source))
    return code_cells


def _parse_json(text: str, invalid) -> dict:
    if not text.strip():
        raise invalid("the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise invalid(f"it is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    except (ValueError, RecursionError):
        raise invalid("it is not valid JSON") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise invalid('it is JSON, but not a notebook (no "nbformat" version and "cells")')
    return data


def _check_v4_cells(data: dict, invalid) -> None:
    """Check that the cells can be read; fill in the `metadata` that nbformat insists on."""
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise invalid('it has no list of "cells"')
    if not isinstance(data.get("metadata", {}), dict):
        raise invalid('its "metadata" is not a JSON object')
    data.setdefault("metadata", {})
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise invalid(f"cell {number} is not a JSON object")
        source = cell.get("source", "")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            raise invalid(f"the source of cell {number} is not text")
        if not isinstance(cell.get("metadata", {}), dict):
            raise invalid(f'the "metadata" of cell {number} is not a JSON object')
        cell.setdefault("metadata", {})


# --- one code cell ---------------------------------------------------------------------------

@dataclass
class _Cell:
    number: int
    lines: list[str]              # the cell's lines, IPython-only lines blanked
    tree: ast.Module | None       # None when the whole cell was dropped
    dropped: list[Dropped]

    def statements(self) -> list[ast.stmt]:
        return self.tree.body if self.tree else []


def _parse_cell(number: int, source: str) -> _Cell:
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    magic_line = _cell_magic_line(lines)
    if magic_line is not None:
        line = lines[magic_line - 1]
        return _Cell(number, [], None, [Dropped(number, magic_line, "magic", _clip(line),
                                                "cell magic; the whole cell was skipped")])
    lines, dropped = _blank_ipython_lines(number, lines)
    try:
        tree = _quietly(ast.parse, "\n".join(lines), f"<cell {number}>")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return _Cell(number, [], None, [_syntax_problem(number, error, lines, "the whole cell was skipped")])
    return _Cell(number, lines, tree, dropped)


def _cell_magic_line(lines: list[str]) -> int | None:
    """Line number of a leading `%%magic`, which makes the whole cell something other than Python."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            return number if line.strip().startswith("%%") else None
    return None


def _blank_ipython_lines(number: int, lines: list[str]) -> tuple[list[str], list[Dropped]]:
    """Blank out line magics, shell commands and help lines, keeping every line number.

    One indented inside a block becomes `pass` at its indentation, so a block it was alone in
    still parses. Only lines that start a logical line count: `!x` inside a string or bracket is
    left alone.
    """
    result, dropped = list(lines), []
    scanner = _LineScanner()
    index = 0
    while index < len(lines):
        line = lines[index]
        kind = _ipython_kind(line) if scanner.at_line_start else None
        if kind is None:
            scanner.feed(line)
            index += 1
            continue
        dropped.append(Dropped(number, index + 1, kind, _clip(line)))
        indent = line[:len(line) - len(line.lstrip())]
        scanner.in_block = scanner.in_block and bool(indent)  # what replaces the line, as seen by the next
        result[index] = f"{indent}pass" if scanner.in_block else ""
        while lines[index].endswith("\\") and index + 1 < len(lines):  # `!cmd \` continues below
            index += 1
            result[index] = ""
        index += 1
    return result, dropped


def _ipython_kind(line: str) -> str | None:
    stripped = line.strip()
    if stripped.startswith("%"):
        return "magic"
    if stripped.startswith("!"):
        return "shell"
    if _IPYTHON_HELP.match(line):
        return "magic"
    assignment = _IPYTHON_ASSIGNMENT.match(line)
    if assignment:
        return "shell" if assignment.group(1) == "!" else "magic"
    return None


class _LineScanner:
    """Follows strings, brackets and backslashes to tell whether a line starts a new logical line,
    and indentation and colons to tell whether an indented line would be inside a block."""

    def __init__(self) -> None:
        self.quote: str | None = None   # the delimiter of a string still open
        self.depth = 0                  # open brackets
        self.backslash = False          # the last line ended with a continuation backslash
        self.in_block = False           # the last logical line was indented or opened a block
        self._indented = False          # the logical line being read started indented

    @property
    def at_line_start(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.backslash

    def feed(self, line: str) -> None:
        starts_logical_line = self.at_line_start
        code = self._read_code(line)
        if not code.strip():
            return  # blank and comment-only lines change nothing
        if starts_logical_line:
            self._indented = line[:1] in (" ", "\t")
        continues = code.endswith("\\")
        if self.quote in ("'", '"') and not continues:
            self.quote = None  # an unterminated short string: Python will report it
        self.backslash = continues and self.quote is None
        if self.at_line_start:
            self.in_block = self._indented or code.rstrip().endswith(":")

    def _read_code(self, line: str) -> str:
        """Follow strings and brackets through `line`; return it without a trailing comment."""
        index = 0
        while index < len(line):
            char = line[index]
            if self.quote:
                if char == "\\":
                    index += 1
                elif line.startswith(self.quote, index):
                    index += len(self.quote) - 1
                    self.quote = None
            elif char == "#":
                return line[:index]
            elif char in "'\"":
                self.quote = line[index:index + 3] if line[index:index + 3] in ("'''", '"""') else char
                index += len(self.quote) - 1
            elif char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(self.depth - 1, 0)
            index += 1
        return line


def _syntax_problem(number: int, error: Exception, lines: list[str], reason: str) -> Dropped:
    line = getattr(error, "lineno", None) or 1
    message = getattr(error, "msg", None) or str(error)
    text = f"{type(error).__name__}: {message}"
    if 1 <= line <= len(lines) and lines[line - 1].strip():
        text += f": {lines[line - 1].strip()}"
    return Dropped(number, line, "syntax-error", _clip(text), reason)


# --- which top-level statements to keep ------------------------------------------------------

class _ModuleNames:
    """Module-level names as the extracted source binds them, running top to bottom."""

    def __init__(self) -> None:
        self.kept = set(dir(builtins)) | _MODULE_GLOBALS
        self.skipped: set[str] = set()
        self.star_import = False

    def defines(self, name: str) -> bool:
        return self.star_import or name in self.kept

    def record_kept(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    self.star_import = True
                else:
                    self.kept.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, _DEFINITIONS):
            self.kept.add(node.name)
        elif isinstance(node, ast.Assign):
            self.kept.update(target.id for target in node.targets)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.kept.add(node.target.id)

    def record_skipped(self, node: ast.stmt) -> None:
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                self.skipped.add(child.id)
            elif isinstance(child, _DEFINITIONS):
                self.skipped.add(child.name)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                self.skipped.update(a.asname or a.name.split(".")[0] for a in child.names)


def _why_not_kept(node: ast.stmt, cell: _Cell, names: _ModuleNames, lazy_annotations: bool) -> Dropped | None:
    """None to keep `node`, else what to report about dropping it."""
    def dropped(kind: str, reason: str = "") -> Dropped:
        return Dropped(cell.number, _first_line(node), kind, _clip(_statement_text(cell, node)), reason)

    if _is_future_import(node):
        return dropped("statement", "unknown __future__ feature")
    if isinstance(node, _DEFINITIONS):
        missing = [n for n in _names_used_when_defined(node, lazy_annotations) if not names.defines(n)]
        if missing:
            return dropped("statement", _missing_name_reason(missing[0], names))
    elif not (isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass)) or _is_docstring(node)
              or _is_constant_assignment(node, names, lazy_annotations)):
        return dropped("get_ipython" if _calls_get_ipython(node) else "statement")
    compile_error = _compile_error(node)
    if compile_error is not None:
        return _syntax_problem(cell.number, compile_error, cell.lines, "this definition was skipped")
    return None


def _missing_name_reason(name: str, names: _ModuleNames) -> str:
    if name in names.skipped:
        return f"skipped because defining it needs `{name}`, which only skipped code sets"
    return f"skipped because defining it needs `{name}`, which is not defined above it"


def _names_used_when_defined(node: ast.stmt, lazy_annotations: bool) -> list[str]:
    """Names a def or class looks up as it is defined: decorators, defaults, bases, annotations."""
    expressions = list(node.decorator_list)
    if isinstance(node, ast.ClassDef):
        expressions += node.bases + [keyword.value for keyword in node.keywords]
    else:
        arguments = node.args
        expressions += arguments.defaults + [d for d in arguments.kw_defaults if d is not None]
        if not lazy_annotations:
            every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            expressions += [a.annotation for a in every if a.annotation is not None]
            expressions += [node.returns] if node.returns is not None else []
    found: list[str] = []
    for expression in expressions:
        found += [name for name in _loaded_names(expression) if name not in found]
    return found


def _loaded_names(node: ast.AST):
    """Names read by an expression, leaving out lambdas and comprehensions (they have own scopes)."""
    if isinstance(node, ast.Name):
        yield node.id
    elif not isinstance(node, _OWN_SCOPE_EXPRESSIONS):
        for child in ast.iter_child_nodes(node):
            yield from _loaded_names(child)


def _is_constant_assignment(node: ast.stmt, names: _ModuleNames, lazy_annotations: bool) -> bool:
    """`NAME = literal`, `NAME = torch.float32`, `NAME: type = literal` and the like."""
    if isinstance(node, ast.Assign):
        return all(isinstance(t, ast.Name) for t in node.targets) and _is_inert_value(node.value, names)
    if isinstance(node, ast.AnnAssign):
        return (isinstance(node.target, ast.Name)
                and (lazy_annotations or _is_inert_annotation(node.annotation, names))
                and (node.value is None or _is_inert_value(node.value, names)))
    return False


def _is_inert_value(value: ast.expr, names: _ModuleNames) -> bool:
    return _is_literal(value) or _is_dotted_name(value, names)


def _is_literal(value: ast.expr) -> bool:
    try:
        ast.literal_eval(value)  # builds constants only; never calls or looks anything up
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _is_dotted_name(value: ast.expr, names: _ModuleNames) -> bool:
    """`torch.float32` or `Tensor`: attribute lookups on a name the kept code defines, no calls."""
    while isinstance(value, ast.Attribute):
        value = value.value
    return isinstance(value, ast.Name) and names.defines(value.id)


def _is_inert_annotation(annotation: ast.expr, names: _ModuleNames) -> bool:
    nodes = list(ast.walk(annotation))
    return (all(isinstance(n, _INERT_ANNOTATION_NODES) for n in nodes)
            and all(names.defines(n.id) for n in nodes if isinstance(n, ast.Name)))


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _calls_get_ipython(node: ast.stmt) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "get_ipython"
               for n in ast.walk(node))


def _compile_error(node: ast.stmt) -> Exception | None:
    """Errors that parsing misses but compiling finds, such as `break` outside a loop in a def."""
    try:
        _quietly(compile, ast.Module(body=[node], type_ignores=[]), "<cell>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return error
    return None


def _is_future_import(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"


def _known_future(node: ast.ImportFrom) -> bool:
    return all(alias.name in __future__.all_feature_names for alias in node.names)


def _future_features(cells: list[_Cell]) -> list[str]:
    """`from __future__` features named anywhere; they go once at the very top of the output."""
    features: list[str] = []
    for cell in cells:
        for node in cell.statements():
            if _is_future_import(node) and _known_future(node):
                features += [alias.name for alias in node.names if alias.name not in features]
    return features


# --- writing the output ----------------------------------------------------------------------

def _render_cell(cell: _Cell, kept: list[ast.stmt]) -> str:
    """The cell's kept statements under a `# --- cell N ---` header.

    Line k of the cell stays on line k below the header; dropped code leaves blank lines, and
    comment lines between statements are kept for readability.
    """
    out = [""] * len(cell.lines)
    owned = set()
    for node in cell.statements():
        owned.update(range(_first_line(node), node.end_lineno + 1))
    for number, line in enumerate(cell.lines, start=1):
        if number not in owned and line.lstrip().startswith("#"):
            out[number - 1] = line
    for node in kept:
        first = _first_line(node)
        for offset, text in enumerate(_statement_text(cell, node).split("\n")):
            index = first - 1 + offset
            out[index] = f"{out[index]}; {text}" if offset == 0 and out[index].strip() else text
    last = max(node.end_lineno for node in kept)
    return "\n".join([f"# --- cell {cell.number} ---"] + out[:last])


def _statement_text(cell: _Cell, node: ast.stmt) -> str:
    """The statement's own text, decorators included, exactly as written in the cell.

    A statement starts mid-line only after a `;`; ast column offsets count UTF-8 bytes.
    """
    lines = cell.lines[_first_line(node) - 1:node.end_lineno]
    lines[-1] = _utf8_prefix(lines[-1], node.end_col_offset)
    if _first_line(node) == node.lineno:
        lines[0] = lines[0][len(_utf8_prefix(lines[0], node.col_offset)):]
    return "\n".join(lines)


def _utf8_prefix(line: str, byte_count: int) -> str:
    return line.encode("utf-8")[:byte_count].decode("utf-8", errors="replace")


def _join_chunks(chunks: list[str], features: list[str]) -> str:
    if not chunks:
        return ""
    header = [f"from __future__ import {', '.join(features)}"] if features else []
    return "\n\n".join(header + chunks) + "\n"


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _clip(text: str) -> str:
    first = text.strip().split("\n")[0].strip()
    return first if len(first) <= MAX_TEXT_CHARS else first[:MAX_TEXT_CHARS - 3] + "..."


def _quietly(function, *args, **kwargs):
    """Call without printing SyntaxWarnings (invalid escapes, `is` with a literal) to stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _describe(dropped: Dropped) -> str:
    where = f"cell {dropped.cell}, line {dropped.line}: {dropped.text}"
    note = dropped.reason or {"magic": "IPython magic", "shell": "shell command",
                              "get_ipython": "IPython call"}.get(dropped.kind, "")
    return f"{where} ({note})" if note else where
