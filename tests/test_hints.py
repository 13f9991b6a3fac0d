"""Hint levels (autograder/session/hints.py): at the default level, "mistake", no line of a
reference solution appears in what a student can read, for every assignment; "solution" still
shows the fix and "outcome" no hint (the plugin showing each level: tests/test_plugin.py).

What a student can read is every string of the graders and of session/checks.py (test names,
messages, hints; the fixes in hints.json are left out, being instructors only), read from
the source: every feedback text is one of them or built from them. The public grader files
travel in the student bundle too.
"""

from __future__ import annotations

import ast
import re

import pytest

from autograder import course
from autograder.instructor import bundles
from autograder.session import checks, hints
from autograder.settings import SessionSettings
from kit import solution_source


def normal(text: str) -> str:
    """Whitespace collapsed, and none around punctuation: `x[:2, -1]` == `x[:2,-1]`."""
    return re.sub(r"\s*([^\w\s])\s*", r"\1", re.sub(r"\s+", " ", text)).strip()


def solution_lines(name: str) -> set[str]:
    """The non-trivial lines between the solution markers of solutions/<name>.py, normalised,
    each also without `return` and as the right-hand side of an assignment."""
    lines, inside = set(), False
    for line in solution_source(name).splitlines():
        code = line.strip()
        if code.startswith("# BEGIN SOLUTION") or code.startswith("# END SOLUTION"):
            inside = code.startswith("# BEGIN")
            continue
        code = re.sub(r"(^|\s)#.*$", "", code).rstrip(":").strip() if inside else ""
        code = code.removeprefix("return ")
        assigned = re.match(r"^[\w.\[\], ]+?\s*[-+*/@]?=\s*(?!=)(.+)$", code)
        lines |= {normal(c) for c in (code, assigned and assigned.group(1)) if c and not trivial(normal(c))}
    return lines


def trivial(code: str) -> bool:
    """Too short or too plain to be a line of the solution: `x`, `a, b, c`, `x.item()`, `else`."""
    return len(code) < 4 or re.fullmatch(r"[\w.]+(,[\w.]+)*|[\w.]+\(\)|\w+=[\w.]+|[(){}\[\],]+", code) is not None


def contains(text: str, code: str) -> bool:
    """Whether `code` appears in `text` as a whole (not `x[0]` inside `max[0]`)."""
    word = r"(?<![\w])" if code[0].isalnum() or code[0] == "_" else ""
    end = r"(?![\w])" if code[-1].isalnum() or code[-1] == "_" else ""
    return re.search(word + re.escape(code) + end, normal(text)) is not None


def readable_strings(name: str) -> list[tuple[str, int, str]]:
    """(file, line, text) of every string a student can read from this assignment's grading."""
    files = [*sorted(course.Assignment.get(name).graders.glob("*.py")), checks.__file__, hints.__file__]
    found = []
    for path in map(str, files):
        with open(path, encoding="utf-8") as source:
            for node in ast.walk(ast.parse(source.read())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.append((path.rsplit("/", 2)[-1], node.lineno, node.value))
    return found


def test_the_default_level_is_mistake_for_every_assignment():
    assert {course.Assignment.get(name).hint_level for name in course.NAMES} == {"mistake"}
    assert SessionSettings(assignment="tensors", verdicts="v").hints is None   # the assignment's


def test_solution_lines_are_found():
    """The check below can fail: it finds a line of the tensors solution where it is written."""
    lines = solution_lines("tensors")
    assert "x.add_(y)" in lines and "x[:2,-1]" in lines and "torch.from_numpy(a)" in lines
    assert contains("use x.add_(y) here", "x.add_(y)") and not contains("max.add_(y)", "x.add_(y)")


@pytest.mark.parametrize("name", course.NAMES)
def test_no_solution_line_in_names_messages_or_mistake_hints(name):
    lines = solution_lines(name)
    leaks = [f"{where}:{line}: {code!r} in {text[:90]!r}"
             for where, line, text in readable_strings(name) for code in lines if contains(text, code)]
    assert not leaks, "\n".join(leaks)


def test_every_hint_key_has_its_fix():
    """A Hint names a fix that hints.json holds (else "solution" would show the mistake only); a key
    written as an f-string (f"{name}.module") must match at least one fix."""
    for name in course.NAMES:
        fixes = hints.solutions(course.Assignment.get(name).graders)
        for path in course.Assignment.get(name).graders.glob("*.py"):
            keys = {key_pattern(node.args[1]) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                    if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "Hint"
                    and len(node.args) == 2 and isinstance(node.args[1], (ast.Constant, ast.JoinedStr))}
            missing = {key for key, pattern in keys if not any(re.fullmatch(pattern, fix) for fix in fixes)}
            assert not missing, f"{path}: no fix for {sorted(missing)}"


def key_pattern(key: ast.Constant | ast.JoinedStr) -> tuple[str, str]:
    """(the key as written, a regular expression of the fixes it may name): each {...} of an
    f-string stands for any non-empty text."""
    if isinstance(key, ast.Constant):
        return key.value, re.escape(key.value)
    return ast.unparse(key), "".join(re.escape(part.value) if isinstance(part, ast.Constant) else ".+"
                                     for part in key.values)


def test_text_by_level():
    hint = hints.Hint("An out-of-place addition makes a new tensor.", "add_inplace.new")
    fixes = hints.solutions(course.Assignment.get("tensors").graders)
    assert hints.text(hint, "solution", fixes) == fixes["add_inplace.new"]
    assert "x.add_(y)" in fixes["add_inplace.new"]
    assert hints.text(hint, "mistake", fixes) == hint.mistake
    assert hints.text(hint, "outcome", fixes) is None
    assert hints.text("Only x may change.", "mistake", {}) == "Only x may change."
    assert hints.text("Only x may change.", "outcome", {}) is None
    led = hint.after("x changed nothing. ")
    assert hints.text(led, "mistake", fixes) == "x changed nothing. " + hint.mistake
    assert hints.text(led, "solution", fixes) == "x changed nothing. " + fixes["add_inplace.new"]
    assert hints.text(led, "outcome", fixes) is None
    with pytest.raises(ValueError, match="unknown hint level 'all'"):
        hints.checked("all")


# What the course contract itself writes in code (course.json's "statement" of each assignment,
# copied from the course spec) is the assignment's statement: the handout and the stub must
# give it, and trusted graders and probes compute with it. No other line of a solution may be
# in the student bundle.
# Written the same way by every use of PyTorch, so they give no answer away.
IDIOMS = ["super().__init__()", "with torch.no_grad()", "with torch.enable_grad()", "for p in params",
          "if p.grad is None", "for _ in range(epochs)", "raise ValueError(", "nn.ModuleList("]


def allowed(name: str, code: str) -> bool:
    said = [*course.Assignment.get(name).statement, *IDIOMS]
    return any(contains(line, normal(code).removeprefix("self.")) for line in said)


def bundle_leaks(name: str) -> list[str]:
    """`file:line: code` for every line of the solution that the student bundle holds beyond the statement."""
    lines = {code for code in solution_lines(name) if not allowed(name, code)}
    leaks = []
    for path, data in bundles.student_entries(course.Assignment.get(name)):
        if not path.endswith((".py", ".md", ".ipynb", ".txt", ".json")):
            continue
        for number, text in enumerate(data.decode("utf-8").splitlines(), 1):
            leaks += [f"{path}:{number}: {code!r} in {text.strip()[:90]!r}" for code in sorted(lines)
                      if contains(text, code)]
    return leaks


def test_the_statement_is_the_contracts_and_still_in_the_solutions():
    """Every allowed line is one the solution writes (no stale entry hides nothing), and the
    check finds a line of the solution the bundle would hold."""
    for name in course.NAMES:
        lines = solution_lines(name)
        stale = [said for said in course.Assignment.get(name).statement if not any(contains(said, c) for c in lines)]
        assert not stale, f"{name}: course.json's statement holds lines its solution does not write: {stale}"
    assert not allowed("tensors", "x.add_(y)") and allowed("nn_module", "self.m1 = nn.Linear(20, 30)")


@pytest.mark.parametrize("name", course.NAMES)
def test_the_student_bundle_holds_no_solution_line_beyond_the_statement(name):
    leaks = bundle_leaks(name)
    assert not leaks, f"{len(leaks)} lines of solutions/{name}.py in its student bundle:\n" + "\n".join(leaks)
