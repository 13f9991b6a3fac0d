"""The Python that gets graded, built from a script or from a notebook's cells, with the position
of every line as the student sees it.

    source = from_script(text, "tensors.py")          # or from_notebook(cells, "tensors.ipynb")
    source.text                                        # always parses as Python
    source.position(12)                                # Position(line=4, cell=3): "cell 3, line 4"
    source.removed                                     # what cannot run: syntax errors, magics

Nothing here runs the student's code. IPython syntax is blanked (`autograder.submission.ipython`). A piece
that does not parse costs only itself: the text is cut into top-level blocks (a line that starts
at column 0 starts one), each block is parsed on its own, joined with the blocks after it when
that makes it parse (a docstring whose lines start at column 0), and a block that never parses
is blanked and reported with its error. A notebook's cells follow each other under
`# --- cell N ---` headers, in notebook order, each line where it was in its cell; a script keeps
its lines, except that a `%%time` cell exported by Jupyter (`get_ipython().run_cell_magic(...)`)
is replaced by its body.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field

from autograder.submission import ipython

MAX_TEXT_CHARS = 80
MAX_GUESSED_LINES = 10_000   # of one piece, when guessing the names it would set
# Finding the pieces that do not parse costs parses of parts of the file (quadratic in the worst
# case): past these, for one file, the rest of a piece that does not parse is skipped whole.
MAX_RECOVERY_PARSES = 2_000
MAX_RECOVERY_CHARS = 2_000_000
_CONTINUES = re.compile(r"(else|elif|except|finally)\b|[)\]}]")


@dataclass(frozen=True)
class Position:
    """Where a line is, as the student sees it: "line 12", or "cell 3, line 4" in a notebook."""

    cell: int | None
    line: int

    def __str__(self) -> str:
        return f"line {self.line}" if self.cell is None else f"cell {self.cell}, line {self.line}"


@dataclass(frozen=True)
class Removed:
    """A piece of the student's file that cannot run as Python, and why."""

    where: Position
    kind: str                  # "syntax-error", "magic", "shell" or "cell-magic"
    text: str                  # its first line, clipped
    detail: str = ""           # the syntax error; the cell magic's name
    names: tuple[str, ...] = ()   # names it looks like it would have set

    def describe(self) -> str:
        """Why it does not run, for the student."""
        if self.kind == "syntax-error":
            return f"has a syntax error ({self.detail}), so this piece was skipped"
        if self.kind == "cell-magic":
            return f"is in a `%%{self.detail}` cell, which is not Python and is not run during grading"
        what = "an IPython magic" if self.kind == "magic" else "a shell command"
        return f"is {what}: those never run during grading"


@dataclass
class Source:
    """Parseable Python text, the position of each of its lines, and what was taken out."""

    file: str
    text: str
    positions: list[Position]           # positions[k] is where line k + 1 of `text` was written
    removed: list[Removed] = field(default_factory=list)

    def position(self, line: int | None) -> Position | None:
        if line is None or not 1 <= line <= len(self.positions):
            return None
        return self.positions[line - 1]

    def to_dict(self) -> dict:
        return {"file": self.file, "text": self.text, "positions": _runs(self.positions),
                "removed": [{"cell": r.where.cell, "line": r.where.line, "kind": r.kind, "text": r.text,
                             "detail": r.detail, "names": list(r.names)} for r in self.removed]}

    @classmethod
    def from_dict(cls, data: dict) -> "Source":
        removed = [Removed(Position(r["cell"], r["line"]), r["kind"], r["text"], r["detail"], tuple(r["names"]))
                   for r in data["removed"]]
        return cls(data["file"], data["text"], _unruns(data["positions"]), removed)


def from_script(text: str, file: str) -> Source:
    """The source of a .py file (possibly exported from Jupyter, possibly with IPython lines)."""
    lines = split_lines(text)
    removed: list[Removed] = []
    budget = _Budget()
    if not _parses(lines):  # IPython syntax, syntax errors: a valid script is left as it is
        lines = _python_lines(lines, lambda line: Position(None, line), removed, budget)
    out = _Writer()
    expansions = _cell_magic_calls(lines)
    number = 1
    while number <= len(lines):
        if number in expansions:
            end, body = expansions[number]
            at = Position(None, number)
            out.add(_python_lines(split_lines(body), lambda _: at, removed, budget), lambda _: at)
            number = end + 1
        else:
            out.add([lines[number - 1]], lambda _, n=number: Position(None, n))
            number += 1
    return out.source(file, removed)


def from_notebook(cells: list[tuple[int, str]], file: str) -> Source:
    """The source of a notebook's code cells, given as (cell number, cell source)."""
    out = _Writer()
    removed: list[Removed] = []
    budget = _Budget()
    for number, text in cells:
        lines = split_lines(text)
        place = lambda line, n=number: Position(n, line)  # noqa: E731
        magic = ipython.cell_magic(lines)
        if magic is not None:
            line, name = magic
            if name in ipython.PYTHON_CELL_MAGICS:
                removed.append(Removed(place(line), "magic", _clip(lines[line - 1])))
                lines = [""] * line + lines[line:]
            else:
                removed.append(Removed(place(line), "cell-magic", _clip(lines[line - 1]), name,
                                       guess_names(lines[line:])))
                lines = [""] * len(lines)
        out.add([f"# --- cell {number} ---"], lambda _, n=number: Position(n, 0))
        out.add(_python_lines(lines, place, removed, budget), place)
    if not _parses(out.lines):  # each cell parses alone; joined, they should too: make sure
        out.lines = _python_lines(out.lines, lambda line: out.positions[line - 1], removed, budget)
    return out.source(file, removed)


def split_lines(text: str) -> list[str]:
    """Lines of `text`, whatever its line endings (Windows, old Mac, Unix)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def guess_names(lines: list[str]) -> tuple[str, ...]:
    """Names that code which does not parse looks like it defines at the top level."""
    names: list[str] = []
    for line in lines[:MAX_GUESSED_LINES]:
        match = (re.match(r"(?:async\s+)?def\s+([A-Za-z_]\w*)", line) or re.match(r"class\s+([A-Za-z_]\w*)", line)
                 or re.match(r"([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", line))
        found = [match.group(1)] if match else []
        if re.match(r"(import|from)\s", line):
            imported = line.split(" import ", 1)[-1] if line.startswith("from") else line[len("import"):]
            for item in imported.strip(" ()\\").split(","):
                words = item.split()
                if words:
                    found.append(words[-1] if len(words) == 3 and words[1] == "as" else words[0].split(".")[0])
        names += [n for n in found if n.isidentifier() and n not in names]
    return tuple(names)


# --- the pieces ------------------------------------------------------------------------------

class _Budget:
    """What finding the pieces that do not parse may still cost, for one file."""

    def __init__(self) -> None:
        self.parses, self.chars = MAX_RECOVERY_PARSES, MAX_RECOVERY_CHARS

    def spend(self, lines: list[str]) -> bool:
        """Account for parsing `lines`; False when nothing was left for it."""
        if self.parses <= 0 or self.chars <= 0:
            return False
        self.parses -= 1
        self.chars -= sum(len(line) + 1 for line in lines)
        return True


OUT_OF_BUDGET = SyntaxError("too many pieces do not parse, so the rest of it was not read")


def _python_lines(lines: list[str], place, removed: list[Removed], budget: _Budget) -> list[str]:
    """`lines` with IPython syntax and the blocks that do not parse blanked; what was blanked is
    added to `removed`, positioned by `place(line number in lines)`."""
    out, blanked = ipython.blank_lines(lines)
    if not _parses(out):
        out, blanked = [], []
        for first, last, error in _blocks(lines, budget):
            chunk, found = ipython.blank_lines(lines[first - 1:last])  # a fresh scanner: an
            if error is None:                                          # unclosed bracket above
                out += chunk                                           # does not hide magics
                blanked += [ipython.Line(b.line + first - 1, b.kind, b.text, b.names) for b in found]
                continue
            line = first - 1 + (getattr(error, "lineno", None) or 1)
            detail = f"{type(error).__name__} at {place(min(line, last))}: {getattr(error, 'msg', None) or error}"
            removed.append(Removed(place(first), "syntax-error", _clip(next((c for c in chunk if c.strip()), "")),
                                   detail, guess_names(chunk)))
            out += [""] * (last - first + 1)
    removed += [Removed(place(b.line), b.kind, _clip(b.text), names=b.names) for b in blanked]
    return out


def _blocks(lines: list[str], budget: _Budget) -> list[tuple[int, int, Exception | None]]:
    """(first line, last line, None or the error) of consecutive pieces of `lines` that each
    parse on their own (after IPython syntax is blanked), or that do not parse at all."""
    starts = [n for n, line in enumerate(lines) if line[:1] not in ("", " ", "\t", "#", "\f")
              and not _CONTINUES.match(line)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    ends = starts[1:] + [len(lines)]
    blocks, index = [], 0
    while index < len(starts):
        first_error, parsed_to = None, None
        for last in range(index, len(starts)):
            chunk = lines[starts[index]:ends[last]]
            if not budget.spend(chunk):
                return blocks + [(starts[index] + 1, len(lines), OUT_OF_BUDGET)]
            error = _parse_error(ipython.blank_lines(chunk)[0])
            if error is None:
                parsed_to = last
                break
            first_error = first_error or error
            if not _may_close_later(error, ends[last] - starts[last], len(chunk)):
                break
        if parsed_to is None:
            blocks.append((starts[index] + 1, ends[index], first_error))
            index += 1
        else:
            blocks.append((starts[index] + 1, ends[parsed_to], None))
            index = parsed_to + 1
    return blocks


def _may_close_later(error: Exception, last_block_lines: int, chunk_lines: int) -> bool:
    """Whether joining the next block could fix `error`: it is in the block joined last, or it is
    something left open (a bracket, a triple-quoted string) that later lines may close."""
    line = getattr(error, "lineno", None) or chunk_lines
    message = str(getattr(error, "msg", "") or error)
    return line > chunk_lines - last_block_lines or any(
        words in message for words in ("never closed", "unterminated triple-quoted", "EOF"))


def _parses(lines: list[str]) -> bool:
    return _parse_error(lines) is None


def _parse_error(lines: list[str]) -> Exception | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings (invalid escapes, `is` with a literal)
            ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return error
    return None


def _cell_magic_calls(lines: list[str]) -> dict[int, tuple[int, str]]:
    """{first line: (last line, body)} of each whole-line `get_ipython().run_cell_magic('time',
    '', body)` statement (a %%time/%%capture/%%prun cell as Jupyter exports it)."""
    text = "\n".join(lines)
    if "run_cell_magic" not in text:
        return {}
    body = ast.parse(text).body
    found = {}
    for node, after in zip(body, body[1:] + [None]):
        call = ipython.cell_magic_call(node)
        if (call is not None and call[0] in ipython.PYTHON_CELL_MAGICS and node.col_offset == 0
                and (after is None or after.lineno > node.end_lineno)):
            found[node.lineno] = (node.end_lineno, call[1])
    return found


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.positions: list[Position] = []

    def add(self, lines: list[str], place) -> None:
        for number, line in enumerate(lines, start=1):
            self.lines.append(line)
            self.positions.append(place(number))

    def source(self, file: str, removed: list[Removed]) -> Source:
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
            self.positions.pop()
        text = "\n".join(self.lines) + "\n" if self.lines else ""
        return Source(file, text, self.positions, sorted(removed, key=lambda r: (r.where.cell or 0, r.where.line)))


def _runs(positions: list[Position]) -> list[list]:
    """[cell, first line, count, step] runs (step 1: consecutive lines; 0: one line repeated, as
    for the body of an exported %%time cell). A script's positions take one run."""
    runs: list[list] = []
    for position in positions:
        if runs and _extends(runs[-1], position):
            run = runs[-1]
            if run[2] == 1:
                run[3] = position.line - run[1]
            run[2] += 1
        else:
            runs.append([position.cell, position.line, 1, 1])
    return runs


def _extends(run: list, position: Position) -> bool:
    cell, first, count, step = run
    if cell != position.cell:
        return False
    if count == 1:
        return position.line - first in (0, 1)
    return position.line == first + count * step


def _unruns(runs: list[list]) -> list[Position]:
    return [Position(cell, first + k * step) for cell, first, count, step in runs for k in range(count)]


def _clip(text: str) -> str:
    first = text.strip().split("\n")[0].strip()
    return first if len(first) <= MAX_TEXT_CHARS else first[:MAX_TEXT_CHARS - 3] + "..."
