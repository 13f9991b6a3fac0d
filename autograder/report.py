"""A score table for the terminal, made from a results dict.

`print_table(results)` shows roughly what Gradescope will show: the top-level output, one row
per test in the order of the test numbers (number, name, tags, visibility, score, status) and
the total; a public-only check also says how many points the hidden tests add. With
`show_output=True` the first lines of each failure's output follow the table, once for every
test that failed with the same text (a function not written yet is left to the top-level output,
which names them all in one line). On a terminal the status is coloured;
anywhere else the table is plain text. rich is imported only when a table is drawn.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from autograder.results import total

PLAIN_WIDTH = 100  # columns of the table when not drawing on a terminal
TAGS_WIDTH = 18  # the tags column is a hint, not a list to read in full
OUTPUT_LINES = 10  # lines of each failing test's output shown by show_output
OUTPUT_INDENT = 4
NUMBERS_LISTED = 12  # test numbers named in the title of a failure shared by several tests
# Each assignment's public and hidden points, written by `autograder points --write`: a student's
# check runs only the public tests and has no hidden ones to count.
POINTS_FILE = Path(__file__).resolve().parent / "points.json"
SHOWN_VISIBILITY = {"visible": "visible", "after_due_date": "after due date", "after_published": "when published",
                    "hidden": "never"}


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
    tests = sorted(tests, key=lambda test: number_key(test.get("number")))
    console.print(_table(tests))
    possible = total(tests, "max_score")
    console.print(Text(f"Total: {points_text(results.get('score'))} / {points_text(possible)}", style="bold"))
    hidden = _number((results.get("extra_data") or {}).get("hidden_points"))
    if hidden:
        console.print(Text(f"This check ran the public tests only. Hidden tests worth {points_text(hidden)} more "
                           f"points are graded on Gradescope: your score there is out of "
                           f"{points_text(possible + hidden)}."))
    if show_output:
        _draw_failures(console, [test for test in tests if test.get("status") != "passed" and not _not_written(test)])


def number_key(number: Any) -> tuple:
    """Tests in the order of their numbers ("1.2" before "1.10"); tests without one come last."""
    if number is None or number == "":
        return (1,)
    parts = re.split(r"[.\s]+", str(number).strip())
    return (0, *((0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts))


def hidden_points(assignment: str) -> float:
    """The points of `assignment`'s hidden tests, as `autograder points --write` stored them (0 if unknown)."""
    try:
        return _number(json.loads(POINTS_FILE.read_text(encoding="utf-8"))[assignment]["hidden"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def _table(tests: list[dict]) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Test", overflow="fold")
    table.add_column("Tags", overflow="ellipsis", no_wrap=True, max_width=TAGS_WIDTH)
    table.add_column("Shown", no_wrap=True, min_width=max(map(len, SHOWN_VISIBILITY.values())))
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for test in tests:
        table.add_row(Text(str(test.get("number", ""))), Text(str(test.get("name", ""))),
                      Text(", ".join(str(tag) for tag in test.get("tags") or [])),
                      Text(SHOWN_VISIBILITY.get(str(test.get("visibility")), "visible")),
                      Text(f"{points_text(test.get('score'))}/{points_text(test.get('max_score'))}"),
                      _status(test))
    return table


def _status(test: dict) -> Any:
    from rich.text import Text

    if (test.get("extra_data") or {}).get("not_counted") is True:
        return Text("not counted", style="yellow")
    if test.get("status") == "passed":
        return Text("passed", style="green")
    return Text("failed", style="bold red")


def _not_written(test: dict) -> bool:
    """A test that failed because a function is not written yet: the top-level output names them all once."""
    return (test.get("extra_data") or {}).get("not_implemented") is True


def _draw_failures(console: Any, failing: list[dict]) -> None:
    """Each failure's text once, under the tests that failed with it."""
    from rich.padding import Padding
    from rich.text import Text

    groups: dict[str, list[dict]] = {}
    for test in failing:
        groups.setdefault(str(test.get("output") or "(no output)"), []).append(test)
    for output, tests in groups.items():
        console.print()
        console.print(Text(_failure_title(tests), style="bold"))
        console.print(Padding(Text(_first_lines(output)), (0, 0, 0, OUTPUT_INDENT), expand=False))


def _failure_title(tests: list[dict]) -> str:
    score = points_text(total(tests))
    possible = points_text(total(tests, "max_score"))
    if len(tests) == 1:
        (test,) = tests
        title = " ".join(part for part in (str(test.get("number", "")), str(test.get("name", ""))) if part)
        return f"{title} ({score}/{possible}):"
    numbers = list(dict.fromkeys(str(test["number"]) for test in tests if test.get("number")))
    listed = ", ".join(numbers[:NUMBERS_LISTED]) + (f" and {len(numbers) - NUMBERS_LISTED} more"
                                                   if len(numbers) > NUMBERS_LISTED else "")
    return f"{len(tests)} tests" + (f" ({listed})" if listed else "") + f" failed with the same message ({score}/{possible}):"


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


def points_text(value: Any) -> str:
    """1 -> "1.0", 0.25 -> "0.25", 1/3 -> "0.33"."""
    text = f"{_number(value):.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text
