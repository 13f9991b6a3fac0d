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


# --- errors quoted from the student's process are not cut short there ---------------------

LONG_ERROR = ("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1. " * 12).strip()


def test_the_student_process_sends_a_long_error_whole():
    from autograder.child.probes import core

    assert len(LONG_ERROR) > 1000 and core.message(ValueError(LONG_ERROR)) == LONG_ERROR
    cut = core.message(ValueError("x" * (core.MESSAGE_LIMIT + 10)))
    assert cut == "x" * core.MESSAGE_LIMIT + " ..."


def test_call_many_reports_a_long_error_whole():
    from types import SimpleNamespace

    from autograder.child.probes import core

    def f(x):
        raise RuntimeError(LONG_ERROR)

    assert core.call_many(SimpleNamespace(f=f), "f", [(1,)]) == [{"error": ["RuntimeError", LONG_ERROR]}]


def test_a_backward_error_of_mse_is_reported_whole():
    from types import SimpleNamespace

    from autograder.child.probes import linear_regression

    class Fails(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError(LONG_ERROR)

    mse = lambda pred, target: Fails.apply(pred)   # noqa: E731
    report = linear_regression.mse_autograd(SimpleNamespace(mse=mse), torch.ones(3), torch.zeros(3))
    assert report["backward_error"] == f"RuntimeError: {LONG_ERROR}"


def test_a_model_file_that_cannot_be_loaded_is_reported_with_its_whole_first_line(monkeypatch):
    from types import SimpleNamespace

    from autograder.child.probes import nn_module

    def refuse(*args, **kwargs):
        raise RuntimeError(LONG_ERROR + "\nsecond line")

    monkeypatch.setattr(torch, "load", refuse)
    save_model = lambda model, path: torch.save(model.state_dict(), path)   # noqa: E731
    state = nn_module.TrustedNetwork().state_dict()
    report = nn_module.save_run(SimpleNamespace(save_model=save_model), state)
    assert report["error"] == f"RuntimeError: {LONG_ERROR}"


def graded_with(config, assignment: str, test: str, report: dict) -> str:
    """The message of public test `test` of `assignment` when its probe observes `report`."""
    from importlib import import_module
    from types import SimpleNamespace

    config.addinivalue_line("markers", "cuda: the graders' marker (the grading plugin registers it)")
    grader = import_module(f"autograder.graders.{assignment}.test_public")
    with pytest.raises(GradingFailure) as failure:
        getattr(grader, test)(SimpleNamespace(probe=lambda *args, **kwargs: report))
    return failure.value.message


def test_the_graders_quote_a_long_error_of_the_student_at_a_sentence_end(pytestconfig):
    from autograder.results import SHORT_LIMIT

    out = {"is_tensor": True, "type": "Tensor", "requires_grad": True, "grad_fn": "MeanBackward0"}
    said = graded_with(pytestconfig, "linear_regression", "test_mse_differentiable",
                       {"out": out, "backward_error": f"RuntimeError: {LONG_ERROR}", "grad": None})
    quoted = said.removeprefix("backward() through mse's result failed: ")
    assert quoted.startswith("RuntimeError: The size of tensor a (3)") and quoted.endswith(". ...")
    assert len(quoted) <= SHORT_LIMIT
    said = graded_with(pytestconfig, "nn_module", "test_save_model",
                       {"missing": False, "written": ["model.pt"], "error": f"RuntimeError: {LONG_ERROR}"})
    quoted = said.split("weights_only=True): ", 1)[1]
    assert quoted.startswith("RuntimeError: The size of tensor a (3)") and quoted.endswith(". ...")
    assert len(quoted) <= SHORT_LIMIT


def test_a_child_that_failed_to_start_is_quoted_at_a_sentence_end():
    from autograder.session.child_process import SAID_LIMIT, ChildFailedToStart

    said = "ImportError: libtorch_cpu.so cannot be opened. " * 60
    error = str(ChildFailedToStart("the process ended", "warming up\n" + said))
    quoted = error.split("; it said: ", 1)[1]
    assert error.startswith("the process ended; it said: ImportError: libtorch_cpu.so cannot be opened.")
    assert quoted.endswith((". ...", ": ...")) and len(quoted) <= SAID_LIMIT   # after a sentence or a clause
