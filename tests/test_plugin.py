"""The grading plugin (autograder/session/plugin.py), one behaviour per tiny grader file.

Each test writes a grader file, runs it through the plugin in this process with the flags of a
real grading session (autograder/session/main.py `FLAGS`), and reads the events the
plugin wrote. There is no submission and no student process, and torch is never imported, so
a change to the plugin is checked in milliseconds. Where a test needs what the student's
code printed, `FakeStudent` stands in for the student's process.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from autograder import results
from autograder.record import SessionRecord
from autograder.session import plugin
from autograder.session.main import FLAGS
from autograder.settings import SessionSettings

pytest_plugins = ["pytester"]

IMPORTS = """\
import pytest
from gradescope_utils.autograder_utils.decorators import (
    hide_errors, leaderboard, number, partial_credit, tags, visibility, weight)
"""


class Session:
    """One run of the plugin over a grader file: pytest's result and the events it wrote."""

    def __init__(self, pytester: pytest.Pytester, source: str, plugins=(), **settings) -> None:
        pytester.makepyfile(test_graders=IMPORTS + textwrap.dedent(source))
        self.path = pytester.path / "verdicts.jsonl"
        grader = plugin.GraderPlugin(SessionSettings(assignment="tensors", verdicts=str(self.path), **settings),
                                     zygote=None)
        self.grader = grader
        self.result = pytester.runpytest(*FLAGS, "--rootdir", str(pytester.path),
                                         plugins=[grader, plugin, *plugins])
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        self.events = [json.loads(line) for line in lines]

    @property
    def manifest(self) -> list[dict]:
        return next(event["tests"] for event in self.events if event["event"] == "manifest")

    def verdicts(self, name: str) -> list[dict]:
        return [e for e in self.events if e["event"] == "verdict" and e["id"] == f"test_graders.py::{name}"]

    def verdict(self, name: str) -> dict:
        (verdict,) = self.verdicts(name)
        return verdict

    def results(self) -> dict:
        """results.json as the supervisor builds it from this session's file."""
        record = SessionRecord.read(self.path)
        return results.build_results(record.manifest, record.verdicts)

    def scored(self, name: str) -> dict:
        (test,) = [t for t in self.results()["tests"] if t["name"] == name]
        return test


@pytest.fixture
def grade(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")   # as in a real session
    return lambda source, **kwargs: Session(pytester, source, **kwargs)


# ---------------------------------------------------------------- the manifest


def test_a_check_of_some_functions_collects_only_their_tests(grade):
    session = grade("""
        @weight(1)
        @tags("f")
        def test_f():
            pass

        @weight(1)
        @tags("g", "f")
        def test_fg():
            pass

        @weight(1)
        @tags("g")
        def test_g():
            pass
    """, functions=("f",))
    assert [t["id"] for t in session.manifest] == ["test_graders.py::test_f", "test_graders.py::test_fg"]
    assert not session.verdicts("test_g")


def test_manifest_comes_from_the_decorators(grade):
    session = grade("""
        @weight(2)
        @number("1.2")
        @tags("shapes", "dtypes")
        def test_a():
            '''Shapes and dtypes.

            More words that are not the name.'''

        @weight(0.5)
        @visibility("after_due_date")
        @pytest.mark.parametrize("n", [1, 2])
        def test_b(n):
            '''Counts.'''
    """)
    assert session.manifest == [
        {"id": "test_graders.py::test_a", "name": "Shapes and dtypes.", "number": "1.2", "max_score": 2.0,
         "visibility": "visible", "tags": ["shapes", "dtypes"], "counts": True,
         "partial_credit": False, "hide_errors": None},
        *[{"id": f"test_graders.py::test_b[{n}]", "name": f"Counts. [{n}]", "number": None, "max_score": 0.5,
           "visibility": "after_due_date", "tags": [], "counts": True,
           "partial_credit": False, "hide_errors": None} for n in (1, 2)],
    ]


def test_a_test_without_a_docstring_is_named_after_its_function(grade):
    session = grade("""
        @weight(1)
        @pytest.mark.parametrize("n", [1, 2])
        def test_b(n):
            pass
    """)
    assert [test["name"] for test in session.manifest] == ["test_b [1]", "test_b [2]"]


def test_manifest_marks_partial_credit_and_hide_errors(grade):
    session = grade("""
        @partial_credit(3)
        @hide_errors("Check the shapes.")
        def test_a(set_score=None):
            pass
    """)
    (entry,) = session.manifest
    assert (entry["max_score"], entry["partial_credit"], entry["hide_errors"]) == (3.0, True, "Check the shapes.")


def test_tests_run_in_disclosure_order(grade):
    """Visible first, hidden last, whatever the order in the file."""
    session = grade("""
        @weight(1)
        @visibility("hidden")
        def test_hidden():
            pass

        @weight(1)
        @visibility("after_published")
        def test_published():
            pass

        @weight(1)
        def test_visible():
            pass

        @weight(1)
        @visibility("after_due_date")
        def test_due():
            pass
    """)
    order = ["test_graders.py::" + name for name in ("test_visible", "test_due", "test_published", "test_hidden")]
    assert [test["id"] for test in session.manifest] == order
    assert [event["id"] for event in session.events if event["event"] == "verdict"] == order


CUDA_GRADER = """
    @weight(2)
    @pytest.mark.cuda
    def test_gpu():
        pass

    @weight(1)
    def test_cpu():
        pass
"""


def test_a_cuda_test_without_a_gpu_is_skipped_and_not_counted(grade, monkeypatch):
    monkeypatch.setattr(plugin, "_cuda_available", lambda: False)
    session = grade(CUDA_GRADER)
    assert [test["counts"] for test in session.manifest] == [False, True]
    assert session.verdict("test_gpu")["outcome"] == "skipped"
    assert session.verdict("test_gpu")["counts"] is False
    scored = session.scored("test_gpu")
    assert (scored["score"], scored["max_score"], scored["status"]) == (0, 0, "passed")
    assert session.results()["score"] == 1


def test_require_cuda_runs_a_cuda_test_without_a_gpu(grade, monkeypatch):
    monkeypatch.setattr(plugin, "_cuda_available", lambda: False)
    session = grade(CUDA_GRADER, require_cuda=True)
    assert [test["counts"] for test in session.manifest] == [True, True]
    assert session.verdict("test_gpu")["outcome"] == "passed"


# ---------------------------------------------------------------- verdicts and messages


def test_each_outcome_is_a_verdict(grade):
    session = grade("""
        @pytest.fixture
        def broken():
            raise AssertionError("no setup")

        @pytest.fixture
        def fails_after():
            yield
            raise AssertionError("teardown")

        @weight(1)
        def test_passes():
            pass

        @weight(1)
        def test_fails():
            assert 1 == 2

        @weight(1)
        def test_skips():
            pytest.skip("not today")

        @weight(1)
        def test_setup_fails(broken):
            pass

        @weight(1)
        def test_teardown_fails(fails_after):
            pass
    """)
    assert session.verdict("test_passes") == {"event": "verdict", "id": "test_graders.py::test_passes",
                                              "outcome": "passed", "output": "", "counts": True}
    assert session.verdict("test_fails")["outcome"] == "failed"
    assert session.verdict("test_skips")["outcome"] == "skipped"
    assert session.verdict("test_skips")["output"] == "Skipped: not today"
    assert session.verdict("test_setup_fails")["outcome"] == "failed"
    assert [v["outcome"] for v in session.verdicts("test_teardown_fails")] == ["passed", "failed"]
    assert session.results()["score"] == 1   # the teardown's failure decides
    assert session.events[-1] == {"event": "finished", "exitstatus": 1}


ASSERTING = """
    @weight(1)
    @visibility("{visibility}")
    def test_a():
        raise AssertionError("expected 3, got 4")
"""


def test_a_visible_assertion_shows_its_message(grade):
    session = grade(ASSERTING.format(visibility="visible"))
    assert session.verdict("test_a")["output"] == "A check failed: expected 3, got 4"


@pytest.mark.parametrize("visibility", ["after_due_date", "after_published", "hidden"])
def test_an_assertion_outside_visible_tests_hides_its_message(grade, visibility):
    session = grade(ASSERTING.format(visibility=visibility))
    assert session.verdict("test_a")["output"] == "A check failed."


def test_a_grader_bug_is_not_the_students_fault(grade):
    session = grade("""
        @weight(1)
        def test_a():
            {}["missing"]
    """)
    output = session.verdict("test_a")["output"]
    assert "problem in the grader itself (KeyError)" in output and "not your fault" in output
    session.result.stderr.fnmatch_lines(["autograder: grader error in a test:*"])
    assert session.grader.grader_bugs == 1   # the session tells the supervisor, which shows session.log


class FakeStudent:
    """Stands in for the student's process: it printed `printed` during each test."""

    def __init__(self, printed: str) -> None:
        self._printed, self.import_failure, self.tampered = printed, None, {}
        self.process = self

    def begin_test(self, test_id: str) -> None:
        pass

    def printed(self) -> str:
        return self._printed

    def load_report(self) -> str:
        return ""

    def stop(self) -> None:
        pass


class WithStudent:
    """A pytest plugin that gives the grading session a FakeStudent."""

    def __init__(self, printed: str) -> None:
        self.printed = printed

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config) -> None:
        config.stash[plugin.PLUGIN].student = FakeStudent(self.printed)


def test_a_visible_failure_shows_what_the_code_printed(grade):
    session = grade(ASSERTING.format(visibility="visible"), plugins=[WithStudent("debug: 4")])
    assert session.verdict("test_a")["output"] == "A check failed: expected 3, got 4\n\nYour code printed:\ndebug: 4"


def test_long_printed_output_is_cut_and_says_so(grade):
    printed = "a" * plugin.PRINTED_LIMIT + "b" * 25
    session = grade(ASSERTING.format(visibility="visible"), plugins=[WithStudent(printed)])
    assert session.verdict("test_a")["output"].endswith(
        "Your code printed:\n" + "a" * plugin.PRINTED_LIMIT + "\n[... 25 more characters not shown]")


def test_a_hidden_failure_never_shows_what_the_code_printed(grade):
    session = grade(ASSERTING.format(visibility="hidden"), plugins=[WithStudent("debug: 4")])
    assert session.verdict("test_a")["output"] == "A check failed."


# ---------------------------------------------------------------- hide_errors


HIDING = """
    from autograder.session.student import GraderBroken, GradingFailure

    @weight(1)
    @hide_errors("Check the shapes.")
    def test_asserts():
        raise AssertionError("expected 3, got 4")

    @weight(1)
    @hide_errors("Check the shapes.")
    def test_check_fails():
        raise GradingFailure("wrong shape", hint="transpose", details="got (2, 3)")

    @weight(1)
    @hide_errors("Check the shapes.")
    def test_grader_bug():
        {}["missing"]

    @weight(1)
    @hide_errors("Check the shapes.")
    def test_grader_broken():
        raise GraderBroken("The student's process could not start.")

    @weight(1)
    @hide_errors()
    def test_default_message():
        raise AssertionError("expected 3, got 4")
"""


def test_hide_errors_shows_its_message_instead_of_the_failure(grade):
    session = grade(HIDING, plugins=[WithStudent("debug: 4")])
    assert session.verdict("test_asserts")["output"] == "Check the shapes."
    assert session.verdict("test_check_fails")["output"] == "Check the shapes."
    assert session.verdict("test_default_message")["output"] == "Test failed"


def test_hide_errors_keeps_the_graders_own_problems(grade):
    """A problem of the grader is no hint about the test, and must not look like the student's fault."""
    session = grade(HIDING)
    assert "problem in the grader itself" in session.verdict("test_grader_bug")["output"]
    assert session.verdict("test_grader_broken")["output"] == "The student's process could not start."
    assert {"event": "grader_error", "reason": "The student's process could not start."} in session.events


def test_hide_errors_keeps_the_problem_that_stops_grading(grade):
    session = grade(HIDING, problem="Your file has a syntax error on line 3.")
    assert {verdict["output"] for verdict in session.events if verdict["event"] == "verdict"} == {
        "Your file has a syntax error on line 3."}


# ---------------------------------------------------------------- partial credit


PARTIAL = """
    @partial_credit(3)
    def test_part(set_score=None):
        set_score(2)

    @partial_credit(3)
    def test_full(set_score=None):
        pass

    @partial_credit(3)
    def test_fails_after_score(set_score=None):
        set_score(1)
        raise AssertionError("third case wrong")

    @partial_credit(3)
    def test_fails_before_score(set_score=None):
        raise AssertionError("first case wrong")

    @partial_credit(3)
    def test_no_default(set_score):
        set_score(2.5)

    class TestMethods:
        @partial_credit(3)
        def test_method(self, set_score=None):
            set_score(1.5)
"""


def test_a_partial_credit_verdict_carries_its_score(grade):
    session = grade(PARTIAL)
    assert session.verdict("test_part") == {"event": "verdict", "id": "test_graders.py::test_part",
                                            "outcome": "passed", "output": "", "counts": True, "score": 2.0}
    assert "score" not in session.verdict("test_full")
    assert session.verdict("test_no_default")["score"] == 2.5
    assert session.verdict("TestMethods::test_method")["score"] == 1.5


def test_partial_credit_is_scored_as_gradescope_utils_scores_it(grade):
    """The score set, passed or failed; full weight for a pass without set_score; 0 for a failure without."""
    session = grade(PARTIAL)
    scored = {name: (session.scored(name)["score"], session.scored(name)["status"])
              for name in ("test_part", "test_full", "test_fails_after_score", "test_fails_before_score",
                           "test_no_default")}
    assert scored == {"test_part": (2.0, "failed"), "test_full": (3.0, "passed"),
                      "test_fails_after_score": (1.0, "failed"), "test_fails_before_score": (0, "failed"),
                      "test_no_default": (2.5, "failed")}
    assert session.scored("test_fails_after_score")["output"] == "A check failed: third case wrong"


def test_a_score_does_not_leak_into_the_next_case(grade):
    session = grade("""
        @partial_credit(3)
        @pytest.mark.parametrize("case", ["sets", "fails"])
        def test_a(case, set_score=None):
            if case == "sets":
                set_score(2)
            else:
                assert False
    """)
    assert session.verdict("test_a[sets]")["score"] == 2.0
    assert "score" not in session.verdict("test_a[fails]")


def test_partial_credit_works_under_another_wrapping_decorator(grade):
    session = grade("""
        import functools

        def logged(test):
            @functools.wraps(test)
            def wrapper(*args, **kwargs):
                return test(*args, **kwargs)
            return wrapper

        @logged
        @partial_credit(3)
        def test_a(set_score=None):
            set_score(1)
    """)
    assert session.verdict("test_a")["score"] == 1.0


@pytest.mark.parametrize("score", ["'2'", "float('nan')", "float('inf')", "None", "True", "[2]"])
def test_a_score_that_is_not_a_number_is_a_grader_bug(grade, score):
    session = grade(f"""
        @partial_credit(3)
        def test_a(set_score=None):
            set_score({score})
    """)
    verdict = session.verdict("test_a")
    assert verdict["outcome"] == "failed" and "score" not in verdict
    assert "problem in the grader itself" in verdict["output"] and "not your fault" in verdict["output"]
    session.result.stderr.fnmatch_lines(["autograder: grader error in a test: test_graders.py::test_a called set_score(*"])
    assert session.scored("test_a")["score"] == 0


@pytest.mark.parametrize("score,earned", [(7, 3.0), (-1, 0.0), (0.25, 0.25)])
def test_a_score_is_clamped_to_the_weight(grade, score, earned):
    session = grade(f"""
        @partial_credit(3)
        def test_a(set_score=None):
            set_score({score})
    """)
    assert session.scored("test_a")["score"] == earned


# ---------------------------------------------------------------- refused at collection


REFUSED = {
    "no weight": ("def test_a():\n    pass", "needs @weight(points) or @partial_credit(points)"),
    "weight as text": ("@weight('2')\ndef test_a():\n    pass", "@weight('2'): the points must be"),
    "negative weight": ("@weight(-1)\ndef test_a():\n    pass", "@weight(-1): the points must be"),
    "infinite weight": ("@weight(float('inf'))\ndef test_a():\n    pass", "@weight(inf): the points must be"),
    "boolean weight": ("@weight(True)\ndef test_a():\n    pass", "@weight(True): the points must be"),
    "nan partial credit": ("@partial_credit(float('nan'))\ndef test_a(set_score=None):\n    pass",
                           "@partial_credit(nan): the points must be"),
    "unknown visibility": ("@weight(1)\n@visibility('never')\ndef test_a():\n    pass",
                           "@visibility('never') is not one of hidden, after_due_date, after_published, visible"),
    "leaderboard": ("@weight(1)\n@leaderboard('speed')\ndef test_a(set_leaderboard_value=None):\n    pass",
                    "@leaderboard is not supported*"),
    "partial credit without set_score": ("@partial_credit(2)\ndef test_a():\n    pass",
                                         "@partial_credit needs a set_score parameter*"),
    "set_score without partial credit": ("@weight(2)\ndef test_a(set_score=None):\n    pass",
                                         "takes set_score but has no @partial_credit(points)*"),
    "hide_errors without text": ("@weight(1)\n@hide_errors(3)\ndef test_a():\n    pass",
                                 "@hide_errors(3): the message shown instead of the failure must be non-empty text"),
    "tag that is not text": ("@weight(1)\n@tags('a', 2)\ndef test_a():\n    pass", "@tags('a', 2): every tag must be*"),
}


@pytest.mark.parametrize("source,message", REFUSED.values(), ids=REFUSED.keys())
def test_an_unsupported_decorator_is_refused_at_collection(grade, source, message):
    session = grade(source)
    assert session.result.ret == pytest.ExitCode.USAGE_ERROR
    session.result.stderr.fnmatch_lines([f"ERROR: grader test test_graders.py::test_a: {message}*"])
    assert not any(event["event"] == "manifest" for event in session.events)


def test_partial_credit_with_kwargs_is_accepted(grade):
    """gradescope-utils documents kwargs['set_score'] too."""
    session = grade("""
        @partial_credit(2)
        def test_a(**kwargs):
            kwargs["set_score"](1)
    """)
    assert session.verdict("test_a")["score"] == 1.0



# ---------------------------------------------------------------- not implemented yet


def test_a_function_not_written_yet_is_marked_in_its_verdict(grade):
    session = grade("""
        from autograder.session.student import GradingFailure, NotImplementedYet

        @weight(1)
        @tags("f")
        def test_stub():
            raise NotImplementedYet("h cannot run yet: it uses f, which is not written yet.", function="f")

        @weight(1)
        @tags("g")
        def test_wrong():
            raise GradingFailure("g returned 4, expected 3")
    """)
    assert session.verdict("test_stub")["not_implemented"] is True and session.verdict("test_stub")["unwritten"] == "f"
    assert "not_implemented" not in session.verdict("test_wrong")
    assert session.results()["output"] == "1 function is not written yet: f (its 1 test scores 0)."


# ---------------------------------------------------------------- hint levels (autograder/session/hints.py)


HINTED = """
    from autograder.session import checks

    @weight(1)
    def test_add_inplace():
        checks.fail("add_inplace returned a new tensor instead of x itself.",
                    hint=checks.Hint("An out-of-place addition makes a new tensor.", "add_inplace.new"))
"""


@pytest.mark.parametrize("level, shown, hidden", [
    ("solution", "Hint: x.add_(y) (or x += y) changes x", "out-of-place addition"),
    ("mistake", "Hint: An out-of-place addition makes a new tensor.", "x.add_(y)"),
    (None, "Hint: An out-of-place addition makes a new tensor.", "x.add_(y)"),
    ("outcome", "add_inplace returned a new tensor", "Hint:"),
])
def test_the_plugin_shows_the_hint_of_its_level(grade, level, shown, hidden):
    output = grade(HINTED, hints=level).verdict("test_add_inplace")["output"]
    assert shown in output and hidden not in output
