"""Messages students read: parameters by name, quoted errors cut at a sentence end."""

from __future__ import annotations

import pytest
import torch

from autograder.session import checks
from autograder.session.student import Call, GradingFailure, Student

SOURCE = '''
def sgd_step(w, b, /, lr, *rest):
    pass

class Model:
    pass

helper = lambda x: x
'''


def student(source=SOURCE):
    return Student(process=None, path="/nowhere/linear_regression.py", module_name="linear_regression",
                   source=source, allowed=())


def test_parameters_are_read_from_the_submission():
    assert student().parameters("sgd_step") == ("w", "b", "lr")
    assert student().parameters("Model") == () and student().parameters("helper") == ()
    assert student().parameters("missing") == () and student("def (:").parameters("sgd_step") == ()


def test_a_modified_input_is_named():
    x, y = torch.zeros(2), torch.zeros(2)
    raw = {"value": None, "args_after": [x, y + 1]}
    with pytest.raises(GradingFailure, match=r"add modified its input `b`\."):
        checks.inputs_unchanged(Call("add", raw, None, parameters=("a", "b")), [x, y], name="add")
    with pytest.raises(GradingFailure, match=r"add modified its input \(argument 2\)\."):
        checks.inputs_unchanged(Call("add", raw, None), [x, y], name="add")


@pytest.mark.parametrize("text, limit, expected", [
    ("Short enough.", 50, "Short enough."),
    ("mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3). Check the inner sizes of both.", 70,
     "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3). ..."),
    ("first line of a torch error message\nsecond line that goes on and on", 50, "first line of a torch error message ..."),
    ("one very long sentence without any stop in it at all going on", 40, "one very long sentence without any ..."),
])
def test_a_quoted_error_is_cut_at_a_sentence_end(text, limit, expected):
    from autograder.results import shorten

    assert shorten(text, limit) == expected and len(shorten(text, limit)) <= limit


def test_a_not_graded_note_is_cut_at_a_sentence_end():
    from autograder.results import SHORT_LIMIT, TestInfo, error_results

    message = "The grader could not start. " + "This goes on. " * 40
    (test,) = error_results(message, [TestInfo("t::a", "A", None, 1, "visible", ())])["tests"]
    assert test["output"].endswith("This goes on. ...") and len(test["output"]) <= len("Not graded: ") + SHORT_LIMIT
