"""A score table for the terminal, made from a results dict.

`print_table(results)` shows roughly what Gradescope will show: the top-level output, one row
per test (number, name, tags, score, status) and the total. With `show_output=True` the first
lines of every failing test's output follow the table. On a terminal the status is coloured;
anywhere else the table is plain text. rich is imported only when a table is drawn.
"""

from __future__ import annotations

import io
import sys
from typing import Any, TextIO

from autograder.results import NOT_COUNTED

PLAIN_WIDTH = 100  # columns of the table when not drawing on a terminal
TAGS_WIDTH = 24  # the tags column is a hint, not a list to read in full
OUTPUT_LINES = 10  # lines of each failing test's output shown by show_output
OUTPUT_INDENT = 4


def format_table(results: dict, *, show_output: bool = False, width: int = PLAIN_WIDTH) -> str:
    """The score table of `results` as plain text (no colours, no escape sequences)."""
    buffer = io.StringIO()
    _draw(_console(buffer, width, plain=True), results, show_output)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def print_table(results: dict, file: TextIO | None = None, *, show_output: bool = False) -> None:
    """Print the score table of `results` to `file` (standard output by default)."""
    file = sys.stdout if file is None else file
    if _is_terminal(file):
        _draw(_console(file, None, plain=False), results, show_output)
    else:
        file.write(format_table(results, show_output=show_output))


def _is_terminal(file: TextIO) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def _console(file: TextIO, width: int | None, *, plain: bool) -> Any:
    from rich.console import Console

    # Test names and outputs can contain student text: never read it as rich markup or emoji.
    options: dict[str, Any] = {"markup": False, "emoji": False, "highlight": False}
    if plain:
        options.update(force_terminal=False, no_color=True, color_system=None)
    return Console(file=file, width=width, **options)


def _draw(console: Any, results: dict, show_output: bool) -> None:
    from rich.text import Text

    tests = results.get("tests") or []
    output = str(results.get("output") or "").strip()
    if output:
        console.print(Text(output))
        console.print()
    console.print(_table(tests))
    possible = sum(_number(test.get("max_score")) for test in tests)
    console.print(Text(f"Total: {_points(results.get('score'))} / {_points(possible)}", style="bold"))
    if show_output:
        _draw_failures(console, [test for test in tests if test.get("status") != "passed"])


def _table(tests: list[dict]) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Test", overflow="fold")
    table.add_column("Tags", overflow="ellipsis", no_wrap=True, max_width=TAGS_WIDTH)
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for test in tests:
        table.add_row(Text(str(test.get("number", ""))), Text(str(test.get("name", ""))),
                      Text(", ".join(str(tag) for tag in test.get("tags") or [])),
                      Text(f"{_points(test.get('score'))}/{_points(test.get('max_score'))}"),
                      _status(test))
    return table


def _status(test: dict) -> Any:
    from rich.text import Text

    if test.get("status") == "passed" and str(test.get("output", "")).startswith(NOT_COUNTED):
        return Text("not counted", style="yellow")
    if test.get("status") == "passed":
        return Text("passed", style="green")
    return Text("failed", style="bold red")


def _draw_failures(console: Any, failing: list[dict]) -> None:
    from rich.padding import Padding
    from rich.text import Text

    for test in failing:
        title = " ".join(part for part in (str(test.get("number", "")), str(test.get("name", ""))) if part)
        console.print()
        console.print(Text(f"{title} ({_points(test.get('score'))}/{_points(test.get('max_score'))}):",
                           style="bold"))
        console.print(Padding(Text(_first_lines(str(test.get("output") or "(no output)"))),
                              (0, 0, 0, OUTPUT_INDENT), expand=False))


def _first_lines(text: str, count: int = OUTPUT_LINES) -> str:
    lines = text.rstrip("\n").split("\n")
    if len(lines) <= count:
        return "\n".join(lines)
    return "\n".join(lines[:count] + [f"... ({len(lines) - count} more lines)"])


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _points(value: Any) -> str:
    """1 -> "1.0", 0.25 -> "0.25", 1/3 -> "0.33"."""
    text = f"{_number(value):.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text
