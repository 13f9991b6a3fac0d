"""`autograder points [ASSIGNMENT ...]`: every grader test with its points, and the totals to
enter on Gradescope.

The tests are collected by pytest in this process, with the graders' own flags
(`autograder.session.main.FLAGS`) and the plugin's manifest entries (`plugin.test_info`), so the
points shown are the points graded. Nothing is run and no submission is needed.

`--write` also stores each assignment's public and hidden totals in `autograder/points.json`
(`autograder.report.POINTS_FILE`), which ships with the student bundle: a student's check runs
the public tests only, and says how many points the hidden tests add (their total, nothing else).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.course import Assignment, available
from autograder.report import POINTS_FILE, number_key, points_text

HIDDEN_FILE = "test_hidden.py"   # the graders students never get; test_public.py is what they run


@dataclass(frozen=True)
class Totals:
    public: float
    hidden: float

    @property
    def total(self) -> float:
        return self.public + self.hidden


def collect(assignment: Assignment) -> list[dict]:
    """The manifest entries of every grader test of `assignment`, ordered by test number."""
    import pytest

    from autograder.session import plugin
    from autograder.session.main import FLAGS

    class Collector:
        def pytest_configure(self, config) -> None:
            config.addinivalue_line("markers", "cuda: needs a CUDA GPU")

        @pytest.hookimpl(trylast=True)
        def pytest_collection_modifyitems(self, items) -> None:
            self.tests = [dict(plugin.test_info(item), file=Path(item.path).name,
                               cuda=item.get_closest_marker("cuda") is not None) for item in items]

    collector, printed = Collector(), io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            status = pytest.main([str(assignment.graders), *FLAGS, "--collect-only", "--rootdir",
                                  str(assignment.graders)], plugins=[collector])
    finally:   # every assignment's graders are named test_public and test_hidden: forget these
        for name, module in list(sys.modules.items()):
            if Path(getattr(module, "__file__", None) or "/").parent == assignment.graders:
                del sys.modules[name]
    if status != 0:
        raise RuntimeError(f"collecting the graders of {assignment.name} failed:\n{printed.getvalue()}")
    return sorted(collector.tests, key=lambda test: number_key(test["number"]))


def totals(tests: list[dict]) -> Totals:
    """Points on a grader without a GPU, as Gradescope's are: CUDA tests count 0 of 0 there."""
    counted = [test for test in tests if not test["cuda"]]
    hidden = sum(test["max_score"] for test in counted if test["file"] == HIDDEN_FILE)
    return Totals(public=sum(test["max_score"] for test in counted) - hidden, hidden=hidden)


def overview(name: str, tests: list[dict]) -> str:
    """The table of one assignment's tests and its totals, as plain text."""
    rows = [(test["number"] or "", points_text(test["max_score"]) + (" (GPU only)" if test["cuda"] else ""),
             test["visibility"], ", ".join(test["tags"]),
             test["name"]) for test in tests]
    header = ("#", "Points", "Visibility", "Function", "Test")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = [f"== {name} =="] + ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[4]]).rstrip()
                                 for row in [header, *rows]]
    points = totals(tests)
    lines.append(f"Public (test_public.py, what `autograder check` runs): {points_text(points.public)}; "
                 f"hidden ({HIDDEN_FILE}): {points_text(points.hidden)}; "
                 f"total to enter on Gradescope: {points_text(points.total)}"
                 + (" (GPU-only tests count 0 of 0 on a grader without a GPU, such as Gradescope's)"
                    if any(test["cuda"] for test in tests) else ""))
    return "\n".join(lines)


def run(names: list[str], *, write: bool = False) -> int:
    assignments = [Assignment.get(name) for name in names] if names else available()
    stored: dict[str, dict] = {}
    for assignment in assignments:
        tests = collect(assignment)
        print(overview(assignment.name, tests) + "\n")
        points = totals(tests)
        stored[assignment.name] = {"public": points.public, "hidden": points.hidden}
    if write:
        old = json.loads(POINTS_FILE.read_text(encoding="utf-8")) if POINTS_FILE.is_file() else {}
        POINTS_FILE.write_text(json.dumps({**old, **stored}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {POINTS_FILE}")
    return 0
