"""Tests of autograder.instructor.stubgen: student stubs generated from reference solutions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from autograder import cli
from autograder.course import ROOT, Assignment, solution_names
from autograder.instructor import stubgen
from autograder.instructor.stubgen import StubError, generate_stub


def stub_of(source: str) -> str:
    return generate_stub(dedent(source))


def error_of(source: str) -> StubError:
    with pytest.raises(StubError) as caught:
        generate_stub(dedent(source), filename="solutions/demo.py")
    return caught.value


def not_written(name: str) -> str:
    return f'raise NotImplementedError("{name}: not written yet (see handout.md)")'


# --- what regions become ---------------------------------------------------------------------


def test_function_body_becomes_one_raise_and_the_rest_is_kept():
    solution = '''\
        """Module docstring."""

        from torch import Tensor  # only a type hint


        def first_row(x: Tensor) -> Tensor:
            """Return row 0 of `x`."""
            # BEGIN SOLUTION
            row = x[0]
            return row
            # END SOLUTION


        # a comment between functions
        def last_row(x: Tensor) -> Tensor:
            """Return the last row."""
            # BEGIN SOLUTION
            return x[-1]
            # END SOLUTION
        '''
    assert stub_of(solution) == dedent(f'''\
        """Module docstring."""

        from torch import Tensor  # only a type hint


        def first_row(x: Tensor) -> Tensor:
            """Return row 0 of `x`."""
            {not_written("first_row")}


        # a comment between functions
        def last_row(x: Tensor) -> Tensor:
            """Return the last row."""
            {not_written("last_row")}
        ''')


def test_methods_are_named_by_their_qualified_name():
    stub = stub_of('''\
        class Square:
            """x ** 2."""

            @staticmethod
            def forward(ctx, x):
                """Save x, return x ** 2."""
                # BEGIN SOLUTION
                ctx.save_for_backward(x)
                return x ** 2
                # END SOLUTION

            class Inner:
                def __init__(self):
                    # BEGIN SOLUTION
                    self.ready = True
                    # END SOLUTION
        ''')
    assert f"        {not_written('Square.forward')}\n" in stub
    assert f"            {not_written('Square.Inner.__init__')}\n" in stub
    assert "    @staticmethod\n    def forward(ctx, x):\n" in stub


def test_nested_function_uses_the_innermost_enclosing_def():
    stub = stub_of('''\
        def outer(x):
            """Outer."""
            def inner(y):
                # BEGIN SOLUTION
                return y + 1
                # END SOLUTION
            # BEGIN SOLUTION
            return inner(x)
            # END SOLUTION
        ''')
    assert stub == dedent(f'''\
        def outer(x):
            """Outer."""
            def inner(y):
                {not_written("outer.inner")}
            {not_written("outer")}
        ''')


def test_given_code_before_the_region_and_enclosing_blocks_are_kept():
    stub = stub_of('''\
        import torch


        class Net(torch.nn.Module):
            def __init__(self, width: int) -> None:
                super().__init__()
                # BEGIN SOLUTION
                self.layer = torch.nn.Linear(width, 1)
                # END SOLUTION


        def step(params, lr):
            with torch.no_grad():
                # BEGIN SOLUTION
                for p in params:
                    p -= lr * p.grad
                # END SOLUTION
        ''')
    assert f"        super().__init__()\n        {not_written('Net.__init__')}\n" in stub
    assert f"    with torch.no_grad():\n        {not_written('step')}\n" in stub


def test_module_level_and_class_body_regions_are_removed():
    stub = stub_of('''\
        import math
        # BEGIN SOLUTION
        import functools

        _EPS = 1e-6


        def _helper(x):
            return x + _EPS
        # END SOLUTION


        class Scaler:
            """Scales things."""

            # BEGIN SOLUTION
            _FACTOR = 2.0
            # END SOLUTION

            def scale(self, x: float) -> float:
                """Return x times the factor."""
                # BEGIN SOLUTION
                return _helper(x) * self._FACTOR
                # END SOLUTION
        ''')
    assert stub == dedent(f'''\
        import math


        class Scaler:
            """Scales things."""


            def scale(self, x: float) -> float:
                """Return x times the factor."""
                {not_written("Scaler.scale")}
        ''')


def test_decorators_signatures_and_docstrings_are_kept():
    solution = '''\
        import functools


        def logged(func):
            """Not part of any exercise."""
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                return func(*args, **kwargs)
            return wrapper


        @logged
        @functools.lru_cache(maxsize=None)
        def fib(n: int, *, memo: dict[int, int] | None = None) -> int:
            """Fibonacci.

            Multi-line docstring, with a line that looks like code:
                return 1
            """
            # BEGIN SOLUTION
            return n if n < 2 else fib(n - 1) + fib(n - 2)
            # END SOLUTION
        '''
    stub = stub_of(solution)
    kept = dedent(solution).split("    # BEGIN SOLUTION")[0]
    assert stub == kept + f"    {not_written('fib')}\n"


def test_text_after_the_markers_is_accepted():
    stub = stub_of('''\
        def f():
            # BEGIN SOLUTION (task 3): the easy one
            return 1
            # END SOLUTION -- task 3
        ''')
    assert stub == f"def f():\n    {not_written('f')}\n"


def test_markers_inside_strings_are_not_markers():
    solution = '''\
        TEXT = """
        # BEGIN SOLUTION
        """


        def f():
            # BEGIN SOLUTION
            return TEXT
            # END SOLUTION
        '''
    assert stub_of(solution).startswith(dedent(solution).split("\n\n\n")[0])


def test_line_endings_and_other_bytes_are_kept():
    solution = 'def f():\r\n    """Doc."""  \r\n    # BEGIN SOLUTION\r\n    return 1\r\n    # END SOLUTION\r\n\r\nX = "\x0c"\r\n'
    assert generate_stub(solution) == (
        f'def f():\r\n    """Doc."""  \r\n    {not_written("f")}\r\n\r\nX = "\x0c"\r\n')


def test_generation_is_deterministic_and_idempotent():
    solution = dedent('''\
        class A:
            # BEGIN SOLUTION
            _K = 1
            # END SOLUTION

            def f(self):
                """Doc."""
                # BEGIN SOLUTION
                return self._K
                # END SOLUTION
        ''')
    stub = generate_stub(solution)
    assert generate_stub(solution) == stub
    assert generate_stub(stub) == stub


def test_the_stub_imports_and_its_functions_raise_with_their_qualified_name():
    stub = stub_of('''\
        """A module."""
        from __future__ import annotations

        import math


        def area(r: float) -> float:
            """Circle area."""
            # BEGIN SOLUTION
            return math.pi * r * r
            # END SOLUTION


        class Tools:
            @staticmethod
            def double(x: float) -> float:
                # BEGIN SOLUTION
                return 2 * x
                # END SOLUTION


        class Net:
            def __init__(self) -> None:
                self.given = True
                # BEGIN SOLUTION
                self.width = 3
                # END SOLUTION
        ''')
    namespace: dict = {"__name__": "stub_under_test"}
    exec(compile(stub, "<stub>", "exec"), namespace)
    calls = {"area": lambda: namespace["area"](1.0),
             "Tools.double": lambda: namespace["Tools"].double(1.0),
             "Net.__init__": lambda: namespace["Net"]()}
    for name, call in calls.items():
        with pytest.raises(NotImplementedError) as caught:
            call()
        assert str(caught.value) == f"{name}: not written yet (see handout.md)"
    assert namespace["area"].__doc__ == "Circle area."


# --- mistakes in the markers -----------------------------------------------------------------


@pytest.mark.parametrize(("source", "line", "words"), [
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", 3, "without a BEGIN"),
    ("def f():\n    # BEGIN SOLUTION\n    x = 1\n    # BEGIN SOLUTION\n    return x\n"
     "    # END SOLUTION\n    # END SOLUTION\n", 4, "cannot nest"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n# END SOLUTION\n", 4, "indented differently"),
    ("def f():\n    #BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", 2, "malformed marker"),
    ("def f():\n    # begin solution\n    return 1\n    # END SOLUTION\n", 2, "malformed marker"),
    ("def f():\n    x = 1  # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n", 2, "line of its own"),
])
def test_unbalanced_nested_or_malformed_markers_are_errors(source, line, words):
    error = error_of(source)
    assert (error.filename, error.line) == ("solutions/demo.py", line)
    assert words in error.message
    assert str(error).startswith(f"solutions/demo.py:{line}: ")


@pytest.mark.parametrize(("source", "line", "words"), [
    # code of the function after the region would follow the raise
    ("def f():\n    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION\n    return x\n", 5, "goes on after"),
    ("def f(a):\n    if a:\n        # BEGIN SOLUTION\n        return 1\n        # END SOLUTION\n"
     "    return 0\n", 6, "goes on after"),
    # two regions in one function: the second would be unreachable
    ("def f():\n    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION\n    # BEGIN SOLUTION\n"
     "    return x\n    # END SOLUTION\n", 6, "goes on after"),
    # a statement crossing the border of the region
    ("def f():\n    x = [\n    # BEGIN SOLUTION\n        1]\n    return x\n    # END SOLUTION\n", 4, "crosses"),
    ("def f():\n    # BEGIN SOLUTION\n    return g(\n    # END SOLUTION\n        1)\n", 3, "crosses"),
    ("def f(a):\n    if a:\n        pass\n    # BEGIN SOLUTION\n    else:\n        return 1\n"
     "    # END SOLUTION\n", 5, "crosses"),
    # statements of two different blocks
    ("def f(a):\n    if a:\n        x = 1\n        # BEGIN SOLUTION\n        x = 2\n    return x\n"
     "        # END SOLUTION\n", 4, "different blocks"),
    ("def f():\n    # BEGIN SOLUTION\n    # nothing here\n    # END SOLUTION\n    pass\n", 2, "no code"),
    ("def f():\n    # BEGIN SOLUTION\n        return 1\n    # END SOLUTION\n", 2, "indented differently"),
    ("class A:\n    # BEGIN SOLUTION\n    _X = 1\n    # END SOLUTION\n", 2, "empty block"),
])
def test_regions_that_do_not_fit_the_code_are_errors(source, line, words):
    error = error_of(source)
    assert error.line == line, error
    assert words in error.message


def test_a_region_swallowing_a_docstring_is_caught_by_the_interface_check():
    error = error_of('''\
        def f():
            # BEGIN SOLUTION
            """Doc."""
            return 1
            # END SOLUTION
        ''')
    assert error.line == 1
    assert "docstring of `f`" in error.message


@pytest.mark.parametrize("source", [
    # a public method in a class-body region: its def line would vanish
    "class A:\n    # BEGIN SOLUTION\n    def f(self):\n        return 1\n    # END SOLUTION\n",
    # a public function (decorated, inside an `if`) in a module-level region
    "# BEGIN SOLUTION\nif True:\n    @staticmethod\n    def f():\n        return 1\n# END SOLUTION\n",
])
def test_a_region_swallowing_a_public_def_line_is_an_error(source):
    error = error_of(source)
    assert "would remove `f`" in error.message


@pytest.mark.parametrize(("stub", "words"), [
    ("class A:\n    pass\n", "lost def `A.f`"),
    ("class A:\n    def f(self, x=2):\n        'Doc.'\n", "signature of `A.f`"),
    ("class A:\n    @staticmethod\n    def f(self, x=1):\n        'Doc.'\n", "signature of `A.f`"),
    ("class A:\n    def f(self, x=1) -> int:\n        'Doc.'\n", "signature of `A.f`"),
    ("class A:\n    def f(self, x=1):\n        pass\n", "docstring of `A.f`"),
    ("class A(object):\n    def f(self, x=1):\n        'Doc.'\n", "signature of `A`"),
])
def test_the_interface_check_compares_every_def_with_the_solution(stub, words):
    solution = "class A:\n    def f(self, x=1):\n        'Doc.'\n        return x\n"
    with pytest.raises(StubError, match=words):
        stubgen._check_interface(ast.parse(solution), stub, [1] * 10, [], "solutions/demo.py")


def test_a_solution_that_does_not_parse_is_an_error():
    error = error_of("def f(:\n    pass\n")
    assert error.line == 1
    assert "does not parse" in error.message


# --- the command line ------------------------------------------------------------------------


SOLUTION = '''\
def f(x):
    """Doc."""
    # BEGIN SOLUTION
    return x
    # END SOLUTION
'''


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "alpha.py").write_text(SOLUTION)
    (tmp_path / "solutions" / "beta.py").write_text(SOLUTION.replace("f(x)", "g(x)"))
    (tmp_path / "solutions" / "__init__.py").write_text("")
    return tmp_path


def run_stubs(kit: Path, *args: str) -> int:
    """`autograder stubs` on `kit` (which has no handouts: only the stubs are written)."""
    return cli.main(["stubs", "--root", str(kit), *args])


def test_stubs_writes_every_stub_then_check_passes(kit, capsys):
    assert run_stubs(kit) == 0
    assert capsys.readouterr().out.splitlines() == [
        "wrote assignments/alpha/alpha.py", "wrote assignments/beta/beta.py"]
    assert Assignment("alpha", kit).stub.read_text() == generate_stub(SOLUTION)
    assert run_stubs(kit, "--check") == 0


def test_stubs_writes_only_the_named_assignments(kit, capsys):
    assert run_stubs(kit, "beta") == 0
    assert capsys.readouterr().out == "wrote assignments/beta/beta.py\n"
    assert not Assignment("alpha", kit).stub.exists()


def test_check_reports_missing_and_drifted_stubs_and_writes_nothing(kit, capsys):
    assert run_stubs(kit) == 0
    alpha = Assignment("alpha", kit).stub
    alpha.write_text(alpha.read_text().replace("Doc.", "Edited by hand."))
    Assignment("beta", kit).stub.unlink()
    capsys.readouterr()
    assert run_stubs(kit, "--check") == 1
    out = capsys.readouterr().out
    assert '-    """Edited by hand."""\n+    """Doc."""\n' in out
    assert "assignments/alpha/alpha.py is out of date: run `make stubs`" in out
    assert "assignments/beta/beta.py is missing: run `make stubs`" in out
    assert "Edited by hand." in alpha.read_text()
    assert not Assignment("beta", kit).stub.exists()


def test_stub_errors_exit_2_with_file_and_line(kit, capsys):
    (kit / "solutions" / "beta.py").write_text("def g():\n    # BEGIN SOLUTION\n    return 1\n")
    assert run_stubs(kit) == 2
    assert capsys.readouterr().err == "solutions/beta.py:2: BEGIN SOLUTION is never closed by an END SOLUTION\n"
    assert not (kit / "assignments").exists()


@pytest.mark.parametrize(("text", "message"), [
    (None, "solutions/gamma.py: no such solution file"),
    ("def g():\n    return 1\n", "solutions/gamma.py:1: no BEGIN SOLUTION region"),
])
def test_missing_solutions_and_solutions_without_regions_are_refused(kit, capsys, text, message):
    if text is not None:
        (kit / "solutions" / "gamma.py").write_text(text)
    assert run_stubs(kit, "gamma") == 2
    assert capsys.readouterr().err.startswith(message)


def test_the_command_runs_without_importing_torch(kit):
    code = ("import sys; from autograder.cli import main\n"
            "code = main(['stubs', '--check', '--root', sys.argv[1]])\n"
            "assert 'torch' not in sys.modules\nsys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", code, str(kit)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "assignments/alpha/alpha.py is missing: run `make stubs`" in done.stdout


# --- the repository --------------------------------------------------------------------------


ASSIGNMENTS = solution_names(ROOT) or [
    pytest.param(None, marks=pytest.mark.skip(reason="no solutions/*.py in the repository yet"))]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_stub_matches_its_solution(assignment):
    solution = Assignment(assignment).solution
    stub = Assignment(assignment).stub
    shown = f"{stub.relative_to(ROOT).as_posix()}"
    assert stub.is_file(), f"{shown} is missing: run `make stubs`"
    generated = generate_stub(solution.read_bytes().decode("utf-8"),
                              filename=solution.relative_to(ROOT).as_posix())
    assert stub.read_bytes().decode("utf-8") == generated, f"{shown} is out of date: run `make stubs`"
