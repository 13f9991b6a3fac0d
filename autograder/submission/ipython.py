"""IPython's own syntax in a cell or script, recognised as text so that it never runs.

Jupyter and Colab accept lines that are not Python: line magics (`%matplotlib inline`,
`%pip install x`), shell commands (`!nvidia-smi`, `files = !ls`), help (`torch.randn?`) and cell
magics (`%%time` on a cell's first line). Grading runs plain Python, so these lines are blanked
here, keeping every other line where it was (positions stay "cell N, line M"). A cell magic
whose body is Python that persists in the notebook (`%%time`, `%%capture`, `%%prun`) keeps its
body; any other cell magic (`%%bash`, `%%writefile`, `%%timeit`, ...) makes the whole cell
something other than Python. A script exported by Jupyter carries the same things as calls,
`get_ipython().run_line_magic(...)`: see `ipython_call` and `cell_magic_call`.

IPython's own `TransformerManager` is not used: it joins `!cmd \\` continuation lines (every
later line number shifts) and turns an indented magic into an IndentationError.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

# Cell magics whose body runs as Python in the notebook's namespace: definitions persist.
PYTHON_CELL_MAGICS = frozenset({"time", "capture", "prun"})

# A line IPython rewrites before Python sees it: `x = !ls`, `out = %time f()`, `obj?`, `??obj`.
_ASSIGNMENT = re.compile(r"\s*([\w(\[*][\w\s.,\[\]()*]*?)\s*=\s*([!%])")
_HELP = re.compile(r"\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
_CELL_MAGIC = re.compile(r"\s*%%(\w*)")


@dataclass(frozen=True)
class Line:
    """One line of IPython syntax that was blanked."""

    line: int           # 1-based, in the text given
    kind: str           # "magic" or "shell"
    text: str           # the line as written
    names: tuple[str, ...] = ()   # what `x = !ls` would have set


def cell_magic(lines: list[str]) -> tuple[int, str] | None:
    """(line number, magic name) of a leading `%%magic` line, or None."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            match = _CELL_MAGIC.match(line)
            return (number, match.group(1)) if match else None
    return None


def blank_lines(lines: list[str]) -> tuple[list[str], list[Line]]:
    """Blank out line magics, shell commands and help lines, keeping every line number.

    One indented inside a block becomes `pass` at its indentation, so a block it was alone in
    still parses. Only lines that start a logical line count: `!x` inside a string or bracket is
    left alone.
    """
    result, found = list(lines), []
    scanner = _LineScanner()
    index = 0
    while index < len(lines):
        line = lines[index]
        kind = _kind(line) if scanner.at_line_start else None
        if kind is None:
            scanner.feed(line)
            index += 1
            continue
        assignment = _ASSIGNMENT.match(line)
        names = tuple(re.findall(r"[A-Za-z_]\w*", assignment.group(1))) if assignment else ()
        found.append(Line(index + 1, kind, line.strip(), names))
        indent = line[:len(line) - len(line.lstrip())]
        scanner.in_block = scanner.in_block and bool(indent)  # what replaces the line, as seen by the next
        result[index] = f"{indent}pass" if scanner.in_block else ""
        while lines[index].endswith("\\") and index + 1 < len(lines):  # `!cmd \` continues below
            index += 1
            result[index] = ""
        index += 1
    return result, found


def _kind(line: str) -> str | None:
    stripped = line.strip()
    if stripped.startswith("%"):
        return "magic"
    if stripped.startswith("!"):
        return "shell"
    if _HELP.match(line):
        return "magic"
    assignment = _ASSIGNMENT.match(line)
    if assignment:
        return "shell" if assignment.group(2) == "!" else "magic"
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


# --- the same things in a script exported by Jupyter (nbconvert) -----------------------------

def ipython_call(node: ast.AST) -> bool:
    """Whether a statement calls `get_ipython()` outside any function body: it would raise
    NameError when run as plain Python."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call) and isinstance(current.func, ast.Name) and current.func.id == "get_ipython":
            return True
        if not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(current))
    return False


def cell_magic_call(node: ast.stmt) -> tuple[str, str] | None:
    """(magic name, body) of `get_ipython().run_cell_magic('time', '', '<body>')`, as nbconvert
    writes a `%%time` cell, when its arguments are plain strings; else None."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    call = node.value
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "run_cell_magic"
            and isinstance(call.func.value, ast.Call) and isinstance(call.func.value.func, ast.Name)
            and call.func.value.func.id == "get_ipython" and len(call.args) == 3 and not call.keywords):
        return None
    if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args):
        return None
    return call.args[0].value, call.args[2].value
