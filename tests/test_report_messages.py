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
