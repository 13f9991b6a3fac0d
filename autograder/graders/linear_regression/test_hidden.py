"""Hidden graders for assignment 4, `linear_regression`: the public rules again, on other inputs.

Expected values come from the reference solution, run here in the trusted grader on the same
data. Messages never show inputs or expected values.
"""

import pytest
import torch
from gradescope_utils.autograder_utils.decorators import number, tags, visibility, weight

from autograder.session import checks
from autograder.graders.linear_regression.test_public import (DATA_HINT, MANUAL_HINT, MSE_HINT, MSE_SHAPE_HINT,
                                                              NO_GRAD_HINT, OPTIM_HINT, REBIND_HINT, SGD_HINT,
                                                              check_manual_result,
                                                              check_optim_result, check_trajectory, diagnose,
                                                              param_names, probe, run_manual, run_optim, run_sgd)

HIDDEN = "after_due_date"


@pytest.mark.parametrize("args", [(13, 0.7, 11), (64, 2.0, 123), (2, 0.0, 0), (1, 1.5, 9)],
                         ids=["small", "large-noise", "two-points", "one-point"])
@weight(0.5)
@number("4.30")
@tags("make_data")
@visibility(HIDDEN)
def test_make_data_other_arguments(student, reference, args):
    """make_data: matches the reference for other n, noise and seed"""
    result = checks.is_type(student.make_data(*args), tuple, "make_data")
    checks.that(len(result) == 2, "make_data must return two tensors (X, y).")
    X, y = reference.make_data(*args)
    checks.tensor(result[0], X, name="make_data", what="X", hint=DATA_HINT)
    checks.tensor(result[1], y, name="make_data", what="y", hint=DATA_HINT)


@weight(0.5)
@number("4.31")
@tags("make_data")
@visibility(HIDDEN)
def test_make_data_default_seed_and_keywords(student, reference):
    """make_data: keyword arguments, and seed 0 by default"""
    result = checks.is_type(student.make_data(n=25, noise=0.4), tuple, "make_data")
    X, y = reference.make_data(25, 0.4, 0)
    checks.tensor(result[1], y, name="make_data", what="y", hint=DATA_HINT.after("The default seed is 0. "))
    call = student.call("make_data", n=9, noise=0.3, seed=2)
    checks.tensor(call.value[1], reference.make_data(9, 0.3, 2)[1], name="make_data", what="y", hint=DATA_HINT)
    checks.rng_untouched(call, name="make_data")


@pytest.mark.parametrize("shape", [(7, 1), (2, 3), (5,), ()], ids=["column", "matrix", "vector", "0-D"])
@weight(0.5)
@number("4.32")
@tags("mse")
@visibility(HIDDEN)
def test_mse_other_shapes(student, reference, shape):
    """mse: matches the reference for other shapes, 0-D result"""
    g = torch.Generator().manual_seed(sum(shape) + 40)
    pred, target = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    call = student.call("mse", pred, target)
    checks.tensor(call.value, reference.mse(pred, target), name="mse", hint=MSE_HINT,
                  shape_hint="Return a 0-D tensor: .mean() over all entries.")
    checks.inputs_unchanged(call, [pred.clone(), target.clone()], name="mse")


@pytest.mark.parametrize("shapes", [((3, 1), (1, 3)), ((6,), (6, 1)), ((2, 2), (2,))],
                         ids=["row-vs-column", "vector-vs-column", "broadcastable"])
@weight(0.25)
@number("4.33")
@tags("mse")
@visibility(HIDDEN)
def test_mse_other_mismatches_raise(student, shapes):
    """mse: raises ValueError for other broadcastable shape mismatches"""
    pred, target = torch.ones(shapes[0]), torch.ones(shapes[1])
    checks.raises(student.call("mse", pred, target), "ValueError", name="mse",
                  when="for a prediction and a target of different (broadcastable) shapes", hint=MSE_SHAPE_HINT)


@weight(1)
@number("4.34")
@tags("mse")
@visibility(HIDDEN)
def test_mse_gradient_float64(student, reference):
    """mse: gradient matches the reference (float64)"""
    g = torch.Generator().manual_seed(44)
    pred, target = torch.randn(6, 2, generator=g, dtype=torch.float64), torch.randn(6, 2, generator=g,
                                                                                    dtype=torch.float64)
    result = probe(student, "mse_autograd", pred, target, what="mse", hint=MSE_HINT)
    checks.that(result["grad"] is not None, "After backward() through mse's result, pred.grad is None.",
                hint="Compute the loss from pred with torch operations (no .item(), .detach(), torch.tensor).")
    p = pred.clone().requires_grad_(True)
    reference.mse(p, target).backward()
    checks.tensor(result["grad"], p.grad, name="mse", what="the gradient with respect to pred",
                  hint="Use .mean() over all entries; keep the input's dtype.")


@weight(1)
@number("4.35")
@tags("sgd_step_")
@visibility(HIDDEN)
def test_sgd_step_other_parameters(student, reference):
    """sgd_step_: matches the reference for other shapes, learning rate and missing gradients"""
    g = torch.Generator().manual_seed(45)
    values = [torch.randn(3, 4, generator=g), torch.randn(4, generator=g), torch.randn(2, generator=g),
              torch.randn(1, 1, generator=g)]
    grads = [torch.randn(3, 4, generator=g), None, torch.randn(2, generator=g), torch.randn(1, 1, generator=g)]
    result = run_sgd(student, values, grads, 0.37)
    params = [v.clone().requires_grad_(True) for v in values]
    for p, grad in zip(params, grads):
        p.grad = None if grad is None else grad.clone()
    reference.sgd_step_(params, 0.37)
    for i, (name, got, want) in enumerate(zip(param_names(len(params)), result["params"], params)):
        checks.that(grads[i] is None or not torch.equal(got["value"], values[i]),
                    f"sgd_step_ left {name} unchanged.", hint=REBIND_HINT)
        checks.tensor(got["value"], want.detach(), name="sgd_step_", what=f"{name} after the step",
                      hint=SGD_HINT)
        checks.that(got["same_object_in_list"] and got["is_leaf"] and got["requires_grad"]
                    and got["grad_fn"] is None, f"After sgd_step_, {name} is no longer the same leaf "
                    "tensor that requires grad.", hint=SGD_HINT)
        checks.that(got["grad"] is None or not got["grad"].any(),
                    f"After sgd_step_, {name} still has a non-zero gradient.", hint=SGD_HINT)


@weight(1)
@number("4.36")
@tags("sgd_step_")
@visibility(HIDDEN)
def test_sgd_step_training_other_problem(student, reference):
    """sgd_step_: the manual loop using it matches the reference on noisy data"""
    X, y = reference.make_data(33, 0.5, 46)
    result = probe(student, "sgd_step_training", X, y, 0.3, 40, what="sgd_step_", hint=SGD_HINT)
    checks.that(result["stayed_leaves"], "During training with sgd_step_, w or b stopped being a leaf tensor "
                "that requires grad.", hint=NO_GRAD_HINT)
    expected, _, _ = _reference_manual(reference, X, y, 0.3, 40)
    check_trajectory(result["losses"], X, y, 0.3, 40, name="sgd_step_", expected=expected)


def _reference_manual(reference, X, y, lr, epochs):
    w, b, losses = reference.train_manual(X.clone(), y.clone(), lr=lr, epochs=epochs)
    return losses, w, b


@pytest.mark.parametrize("lr,epochs,data", [(0.2, 50, (40, 0.5, 47)), (0.03, 80, (17, 0.2, 48)),
                                            (0.5, 1, (10, 1.0, 49))], ids=["fast", "slow", "one-epoch"])
@weight(1)
@number("4.37")
@tags("train_manual")
@visibility(HIDDEN)
def test_train_manual_other_problems(student, reference, lr, epochs, data):
    """train_manual: trajectory and final w, b match the reference on other data and settings"""
    X, y = reference.make_data(*data)
    result = run_manual(student, X, y, lr=lr, epochs=epochs)
    check_manual_result(result, epochs=epochs, lr=lr)
    losses, w, b = _reference_manual(reference, X, y, lr, epochs)
    check_trajectory(result["losses"], X, y, lr, epochs, name="train_manual", expected=losses)
    hint = diagnose(result["losses"], X, y, lr, epochs) or MANUAL_HINT
    checks.tensor(result["w_value"], w, name="train_manual", what="w", hint=hint)
    checks.tensor(result["b_value"], b, name="train_manual", what="b", hint=hint)


@weight(1)
@number("4.38")
@tags("train_manual")
@visibility(HIDDEN)
def test_train_manual_default_lr(student, reference):
    """train_manual: the default lr is 0.1 when only epochs is given"""
    X, y = reference.make_data(30, 0.3, 50)
    result = run_manual(student, X, y, epochs=25)
    check_manual_result(result, epochs=25, lr=0.1)
    losses, _, _ = _reference_manual(reference, X, y, 0.1, 25)
    check_trajectory(result["losses"], X, y, 0.1, 25, name="train_manual", expected=losses)


@pytest.mark.parametrize("lr,epochs,data", [(0.2, 50, (40, 0.5, 51)), (0.03, 80, (17, 0.2, 52))],
                         ids=["fast", "slow"])
@weight(1)
@number("4.39")
@tags("train_with_optim")
@visibility(HIDDEN)
def test_train_with_optim_other_problems(student, reference, lr, epochs, data):
    """train_with_optim: trajectory and final model match the reference and the manual loop"""
    X, y = reference.make_data(*data)
    result = run_optim(student, X, y, lr=lr, epochs=epochs)
    check_optim_result(result, epochs=epochs)
    model, losses = reference.train_with_optim(X.clone(), y.clone(), lr=lr, epochs=epochs)
    check_trajectory(result["losses"], X, y, lr, epochs, name="train_with_optim", optim=True, expected=losses)
    manual, w, b = _reference_manual(reference, X, y, lr, epochs)
    check_trajectory(result["losses"], X, y, lr, epochs, name="train_with_optim", optim=True, expected=manual)
    hint = diagnose(result["losses"], X, y, lr, epochs, optim=True) or OPTIM_HINT
    checks.tensor(result["state"]["weight"], model.weight.detach(), name="train_with_optim",
                  what="the model's weight", hint=hint)
    checks.tensor(result["state"]["bias"], b, name="train_with_optim", what="the model's bias", hint=hint)


@weight(0.5)
@number("4.40")
@tags("train_with_optim")
@visibility(HIDDEN)
def test_train_with_optim_default_lr(student, reference):
    """train_with_optim: the default lr is 0.1 when only epochs is given"""
    X, y = reference.make_data(30, 0.3, 53)
    result = run_optim(student, X, y, epochs=25)
    check_optim_result(result, epochs=25)
    _, losses = reference.train_with_optim(X.clone(), y.clone(), epochs=25)
    check_trajectory(result["losses"], X, y, 0.1, 25, name="train_with_optim", optim=True, expected=losses)
