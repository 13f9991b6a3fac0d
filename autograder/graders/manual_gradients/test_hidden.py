"""Hidden graders for assignment 2, `manual_gradients`: the public rules again, on other inputs.

Expected values come from the reference solution run here (in the trusted grader) on the
grader's own copy of the inputs, or, for autograd_grad, from torch.autograd in float64.
Inputs are drawn from fixed seeds. Messages never show inputs or expected values.
"""

from __future__ import annotations


import pytest
import torch
from gradescope_utils.autograder_utils.decorators import number, tags, visibility, weight

from autograder.session import checks
from autograder.child.probes.manual_gradients import FUNCTIONS

HIDDEN = "after_due_date"


from autograder.graders.manual_gradients import test_public as public
call_without_autograd, check_tensor, tuple_of = public.call_without_autograd, public.check_tensor, public.tuple_of


def randn(shape, seed, dtype=torch.float32, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(shape, generator=g, dtype=torch.float64)).to(dtype)


SHAPES = [((), torch.float32), ((7,), torch.float64), ((2, 3, 4), torch.float32), ((1, 5), torch.float64)]
SHAPE_IDS = ["0-d", "1-d-float64", "3-d", "row-float64"]


# ---------------------------------------------------------------- product_grads .. mse_grad

@pytest.mark.parametrize("shape,dtype", SHAPES, ids=SHAPE_IDS)
@weight(0.25)
@number("2.20")
@tags("product_grads")
@visibility(HIDDEN)
def test_product_grads_shapes(student, reference, shape, dtype):
    """product_grads: any shape and dtype, dtype kept"""
    a, b = randn(shape, 1, dtype), randn(shape, 2, dtype)
    call = call_without_autograd(student, "product_grads", a, b)
    da, db = tuple_of(call.value, 2, "product_grads", "(dy/da, dy/db)")
    exp_a, exp_b = reference.product_grads(a, b)
    check_tensor(da, exp_a, name="product_grads", what="dy/da", hint="dy/da = b, with b's shape and dtype.")
    check_tensor(db, exp_b, name="product_grads", what="dy/db", hint="dy/db = a, with a's shape and dtype.")
    public.unchanged(call, [randn(shape, 1, dtype), randn(shape, 2, dtype)], "product_grads")


@pytest.mark.parametrize("shape,dtype", SHAPES, ids=SHAPE_IDS)
@weight(0.25)
@number("2.21")
@tags("mean_poly_forward")
@visibility(HIDDEN)
def test_mean_poly_forward_shapes(student, reference, shape, dtype):
    """mean_poly_forward: any shape and dtype; y is 0-D"""
    x = randn(shape, 3, dtype)
    call = call_without_autograd(student, "mean_poly_forward", x)
    got = tuple_of(call.value, 4, "mean_poly_forward", "(a, b, c, y)")
    for what, value, expected in zip("abcy", got, reference.mean_poly_forward(x)):
        check_tensor(value, expected, name="mean_poly_forward", what=what,
                     shape_hint="a, b, c have the shape of x; y, a mean, is 0-D.")
    public.unchanged(call, [randn(shape, 3, dtype)], "mean_poly_forward")


@pytest.mark.parametrize("shape,dtype", SHAPES + [((4, 1, 3), torch.float32)], ids=SHAPE_IDS + ["column"])
@weight(0.25)
@number("2.22")
@tags("mean_poly_grad")
@visibility(HIDDEN)
def test_mean_poly_grad_shapes(student, reference, shape, dtype):
    """mean_poly_grad: any shape and dtype, 1/n with n the number of elements"""
    x = randn(shape, 4, dtype)
    call = call_without_autograd(student, "mean_poly_grad", x)
    mistakes = public.mean_poly_mistakes(x) if x.dim() else []
    check_tensor(call.value, reference.mean_poly_grad(x), name="mean_poly_grad", mistakes=mistakes,
                 shape_hint="The gradient has the shape of x.", hint=public.MEAN_N_HINT)
    public.unchanged(call, [randn(shape, 4, dtype)], "mean_poly_grad")


@pytest.mark.parametrize("shape,dtype", SHAPES, ids=SHAPE_IDS)
@weight(0.25)
@number("2.23")
@tags("sum_square_grad")
@visibility(HIDDEN)
def test_sum_square_grad_shapes(student, reference, shape, dtype):
    """sum_square_grad: any shape and dtype"""
    x = randn(shape, 5, dtype, scale=3.0)
    call = call_without_autograd(student, "sum_square_grad", x)
    check_tensor(call.value, reference.sum_square_grad(x), name="sum_square_grad",
                 shape_hint="The gradient has the shape of x.", hint=checks.Hint("Differentiate the square with the chain rule.",
                                                                    "sum_square_grad.formula"))
    public.unchanged(call, [randn(shape, 5, dtype, scale=3.0)], "sum_square_grad")


@pytest.mark.parametrize("shape,dtype", SHAPES + [((5, 1), torch.float32)], ids=SHAPE_IDS + ["column"])
@weight(0.25)
@number("2.24")
@tags("mse_grad")
@visibility(HIDDEN)
def test_mse_grad_shapes(student, reference, shape, dtype):
    """mse_grad: any shape and dtype, 1/n with n the number of elements"""
    pred, target = randn(shape, 6, dtype), randn(shape, 7, dtype)
    call = call_without_autograd(student, "mse_grad", pred, target)
    mistakes = public.mse_mistakes(pred, target) if pred.dim() else []
    check_tensor(call.value, reference.mse_grad(pred, target), name="mse_grad", mistakes=mistakes,
                 shape_hint="The gradient has the shape of pred.",
                 hint=checks.Hint("The mean divides by the number of elements of pred, whatever its shape, "
                                  "not by its number of rows.", "mse_grad.count"))
    public.unchanged(call, [randn(shape, 6, dtype), randn(shape, 7, dtype)], "mse_grad")


@pytest.mark.parametrize("shape,dtype", SHAPES, ids=SHAPE_IDS)
@weight(0.25)
@number("2.25")
@tags("sigmoid_backward")
@visibility(HIDDEN)
def test_sigmoid_backward_shapes(student, reference, shape, dtype):
    """sigmoid_backward: any shape and dtype, random upstream gradient"""
    x, grad_out = randn(shape, 8, dtype, scale=3.0), randn(shape, 9, dtype, scale=2.0)
    call = call_without_autograd(student, "sigmoid_backward", x, grad_out)
    s = torch.sigmoid(x)
    check_tensor(call.value, reference.sigmoid_backward(x, grad_out), name="sigmoid_backward",
                 mistakes=[(s * (1 - s), "sigmoid_backward ignores grad_out: the local derivative must be "
                            "multiplied by it.", None)],
                 hint=checks.Hint("The sigmoid's derivative is written with the sigmoid itself; the chain rule "
                                  "multiplies it by grad_out.", "sigmoid_backward.values"))
    public.unchanged(call, [randn(shape, 8, dtype, scale=3.0), randn(shape, 9, dtype, scale=2.0)],
                     "sigmoid_backward")


LINEAR_SIZES = [(5, 3, 2, torch.float32), (1, 4, 1, torch.float32), (3, 1, 6, torch.float64), (4, 4, 4, torch.float64)]


@pytest.mark.parametrize("n,d_in,d_out,dtype", LINEAR_SIZES, ids=["5x3->2", "batch-1-out-1", "in-1", "square-float64"])
@weight(0.5)
@number("2.26")
@tags("linear_backward")
@visibility(HIDDEN)
def test_linear_backward_sizes(student, reference, n, d_in, d_out, dtype):
    """linear_backward: other sizes (batch of 1, one input or output feature, float64)"""
    def inputs():
        return (randn((n, d_in), 10, dtype), randn((d_out, d_in), 11, dtype), randn((d_out,), 12, dtype),
                randn((n, d_out), 13, dtype, scale=2.0))
    args = inputs()
    call = call_without_autograd(student, "linear_backward", *args)
    result = tuple_of(call.value, 3, "linear_backward", "(grad_x, grad_weight, grad_bias)")
    for part, expected in enumerate(reference.linear_backward(*args)):
        public.check_linear_part(result[part], part, expected, *args)
    public.unchanged(call, list(inputs()), "linear_backward")


# ---------------------------------------------------------------- autograd_grad

AUTOGRAD_CASES = [("exp_weighted", (3, 2), torch.float64), ("logsumexp", (5,), torch.float64),
                  ("norm", (2, 2, 2), torch.float64), ("tanh_weighted", (4,), torch.float32),
                  ("square_mean", (), torch.float64)]


@pytest.mark.parametrize("function,shape,dtype", AUTOGRAD_CASES, ids=[c[0] for c in AUTOGRAD_CASES])
@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain-x", "x-requires-grad"])
@weight(0.25)
@number("2.27")
@tags("autograd_grad")
@visibility(HIDDEN)
def test_autograd_grad_functions(student, function, shape, dtype, requires_grad):
    """autograd_grad: other functions and dtypes, called twice, x left as it was"""
    x = randn(shape, 14, dtype)
    report = student.probe("manual_gradients:autograd_grad_twice", function, x, requires_grad, what="autograd_grad")
    public.check_autograd_grad(report, x, requires_grad, public.expected_gradient(function, x),
                               rtol=1e-5 if dtype == torch.float32 else None)


# ---------------------------------------------------------------- central_difference

CENTRAL_CASES = [("exp_weighted", (3, 2)), ("tanh_weighted", (2, 3)), ("logsumexp", (4,)), ("cubic_sum", ())]


@pytest.mark.parametrize("function,shape", CENTRAL_CASES, ids=[c[0] + "-" + str(len(c[1])) + "d" for c in CENTRAL_CASES])
@weight(0.5)
@number("2.28")
@tags("central_difference")
@visibility(HIDDEN)
def test_central_difference_against_reference(student, reference, function, shape):
    """central_difference: equals the reference's central difference at several eps (float64)"""
    x = randn(shape, 15, torch.float64)
    for eps in (1e-2, 1e-3, 1e-4):
        report = student.probe("manual_gradients:central_difference_run", function, x, eps, what="central_difference")
        expected = reference.central_difference(FUNCTIONS[function], x.clone(), eps)
        point = x.clone()
        f = FUNCTIONS[function]
        mistakes = []
        if x.dim():
            flat_plus = torch.stack([f((point.reshape(-1) + eps * e).reshape(x.shape))
                                     for e in torch.eye(x.numel(), dtype=x.dtype)])
            flat_minus = torch.stack([f((point.reshape(-1) - eps * e).reshape(x.shape))
                                      for e in torch.eye(x.numel(), dtype=x.dtype)])
            mistakes = [(((flat_plus - f(point)) / eps).reshape(x.shape), public.ONE_SIDED, None),
                        (((f(point) - flat_minus) / eps).reshape(x.shape), public.ONE_SIDED, None)]
        public.check_central_difference(report, x, expected, mistakes=mistakes, rtol=1e-7, atol=1e-9)


@weight(0.5)
@number("2.29")
@tags("central_difference")
@visibility(HIDDEN)
def test_central_difference_keeps_dtype(student):
    """central_difference: a float32 x gives a float32 result of x's shape, x unchanged"""
    x = randn((2, 3), 16, torch.float32)
    report = student.probe("manual_gradients:central_difference_run", "tanh_weighted", x, 1e-2,
                           what="central_difference")
    public.check_central_difference(report, x, public.expected_gradient("tanh_weighted", x), rtol=1e-2, atol=1e-3)


# ---------------------------------------------------------------- relative_error

RELATIVE_HIDDEN = [((6,), torch.float32, 1e-3), ((2, 3), torch.float64, 1.0), ((4, 1), torch.float32, 1e5)]


@pytest.mark.parametrize("shape,dtype,scale", RELATIVE_HIDDEN, ids=["small", "float64", "large"])
@weight(0.25)
@number("2.30")
@tags("relative_error")
@visibility(HIDDEN)
def test_relative_error_random(student, reference, shape, dtype, scale):
    """relative_error: other shapes, dtypes and scales"""
    a = randn(shape, 17, dtype, scale=scale)
    b = a + randn(shape, 18, dtype, scale=scale * 1e-2)
    call = call_without_autograd(student, "relative_error", a, b)
    checks.python_float(call.value, reference.relative_error(a, b), name="relative_error", rel=1e-4,
                        hint=public.RELATIVE_ERROR_HINT)
    public.unchanged(call, [a.clone(), b.clone()], "relative_error")


@weight(0.25)
@number("2.31")
@tags("relative_error")
@visibility(HIDDEN)
def test_relative_error_zeros_in_places(student, reference):
    """relative_error: entries that are zero in both inputs count as error 0"""
    a = torch.tensor([[0.0, 2.0], [0.0, -1.0]], dtype=torch.float64)
    b = torch.tensor([[0.0, 2.5], [0.0, -1.0]], dtype=torch.float64)
    checks.python_float(call_without_autograd(student, "relative_error", a, b).value, reference.relative_error(a, b),
                        name="relative_error", hint="0 / 0 is NaN: divide by max(1e-8, |a_i| + |b_i|).")
