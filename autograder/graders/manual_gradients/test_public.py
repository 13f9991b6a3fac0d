"""Public graders for assignment 2, `manual_gradients` (shown to students, shipped in their bundle).

Each test states one rule of the course specification, on small fixed inputs whose answers
are written out here or computed with plain torch. The hidden graders check the same rules on
other inputs against the reference solution.

The functions that work "without autograd" are called under `torch.inference_mode()` with
inputs that do not require grad, and their source is checked for autograd constructs
(`.backward()`, `torch.autograd`, `torch.func`, `requires_grad`, `.data`, `.grad`): using
autograd there loses the function's points.
"""

from __future__ import annotations

import ast

import pytest
import torch
from gradescope_utils.autograder_utils.decorators import number, tags, weight

from autograder.session import checks
from autograder.child.probes.manual_gradients import FUNCTIONS
from autograder.session.student import Call, GradingFailure, NotImplementedYet

WITHOUT_AUTOGRAD = ("product_grads", "mean_poly_forward", "mean_poly_grad", "sum_square_grad",
                    "mse_grad", "sigmoid_backward", "linear_backward", "relative_error")

# ---------------------------------------------------------------- no autograd: source scan

FORBIDDEN_ATTRIBUTES = {
    "backward": "`.backward()`", "autograd": "`torch.autograd`", "requires_grad": "`requires_grad`",
    "requires_grad_": "`requires_grad_()`", "data": "`.data`", "grad": "`.grad`",
    "retain_grad": "`.retain_grad()`", "enable_grad": "`torch.enable_grad()`",
    "set_grad_enabled": "`torch.set_grad_enabled()`", "functorch": "`functorch`",
}
AUTOGRAD_MODULES = ("torch.autograd", "torch.func", "functorch")
NO_AUTOGRAD_HINT = ("Work the derivative out with the chain rule and write it with ordinary tensor "
                    "operations. `.backward()`, `torch.autograd`, `torch.func`, `requires_grad`, "
                    "`.grad` and `.data` are not allowed in this function: it is graded under "
                    "torch.inference_mode(), where autograd does not work.")


def _autograd_aliases(tree: ast.AST) -> dict[str, str]:
    """Names bound by imports of torch.autograd / torch.func / functorch (or their members)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full.startswith(AUTOGRAD_MODULES) or (node.module == "torch" and alias.name in ("autograd", "func")):
                    aliases[alias.asname or alias.name] = f"`{full}`"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(AUTOGRAD_MODULES) and alias.asname:
                    aliases[alias.asname] = f"`{alias.name}`"
    return aliases


def _constructs(node: ast.AST, aliases: dict[str, str]):
    """(line, description) of each autograd construct directly inside `node`."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute):
            if inner.attr in FORBIDDEN_ATTRIBUTES:
                yield inner.lineno, FORBIDDEN_ATTRIBUTES[inner.attr]
            elif inner.attr == "func" and isinstance(inner.value, ast.Name) and inner.value.id == "torch":
                yield inner.lineno, "`torch.func`"
        elif isinstance(inner, ast.Name):
            if inner.id in aliases:
                yield inner.lineno, aliases[inner.id]
            elif inner.id in ("functorch", "requires_grad"):
                yield inner.lineno, f"`{inner.id}`"
            elif inner.id == "autograd_grad":
                yield inner.lineno, "`autograd_grad` (which uses autograd)"
        elif isinstance(inner, ast.keyword) and inner.arg == "requires_grad":
            yield inner.value.lineno, "`requires_grad=`"


def autograd_use(student, name: str) -> list[tuple[str, int, str]]:
    """Every autograd construct in `name` and in the helpers of the submission it calls, as
    (helper name or "", line, construct), in the order they are met."""
    tree = student.tree()
    top_level = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    aliases = _autograd_aliases(tree)
    seen, queue, found = set(), [name], []
    while queue:
        current = queue.pop(0)
        if current in seen or current not in top_level:
            continue
        seen.add(current)
        where = "" if current == name else current
        found += [(where, line, construct) for line, construct in sorted(set(_constructs(top_level[current], aliases)))]
        queue += [n.id for n in ast.walk(top_level[current]) if isinstance(n, ast.Name)
                  and n.id in top_level and n.id not in ("autograd_grad", "central_difference")]
    return found


def no_autograd(student, name: str) -> None:
    found = autograd_use(student, name)
    if found:
        places = [f"{construct} {f'in its helper `{helper}` ' if helper else ''}on {student.where(line)}"
                  for helper, line, construct in found[:4]]
        more = f" (and {len(found) - 4} more)" if len(found) > 4 else ""
        checks.fail(f"{name} uses autograd: {', '.join(places)}{more}. It must work without autograd, "
                    "so it loses these points.", hint=NO_AUTOGRAD_HINT)


def call_without_autograd(student, name: str, *args) -> Call:
    """Check the source for autograd, then call `name(*args)` under torch.inference_mode()."""
    no_autograd(student, name)
    try:
        raw = student.probe("manual_gradients:call_in_inference_mode", name, args, what=name)
    except NotImplementedYet:
        raise
    except GradingFailure as failure:
        if "inference" in failure.message.lower():
            raise GradingFailure(failure.message, details=failure.details, hint=(
                f"{name} is graded under torch.inference_mode() with inputs that do not require grad; "
                "compute the result with plain tensor operations, without autograd.")) from None
        raise
    return Call(name, raw, None)


# ---------------------------------------------------------------- result checks

def close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a.to(torch.float64), b.to(torch.float64), rtol=rtol, atol=atol))


def check_tensor(value, expected: torch.Tensor, *, name: str, what: str = "the result", mistakes=(),
                 hint: str | None = None, shape_hint: str | None = None, rtol=None, atol=None) -> torch.Tensor:
    """checks.tensor, but a value that matches a known wrong answer gets that mistake's message.

    `mistakes`: (wrong answer, message, hint) triples; a wrong answer that equals `expected`
    (possible for special inputs) is ignored."""
    got = checks.is_tensor(value, name, what)
    checks.dtype(got, expected.dtype, name=name, what=what)
    checks.shape(got, tuple(expected.shape), name=name, what=what, hint=shape_hint)
    if torch.isfinite(got).all() and not close(got, expected, 1e-5, 1e-7):
        for wrong, message, mistake_hint in mistakes:
            if close(got, wrong) and not close(wrong, expected):
                checks.fail(message, hint=mistake_hint or hint)
    checks.values(got, expected, name=name, what=what, hint=hint, rtol=rtol, atol=atol)
    return got


def tuple_of(value, count: int, name: str, what: str) -> tuple:
    checks.is_type(value, tuple, name, hint=f"Return a tuple {what}, e.g. `return {what[1:-1]}`.")
    checks.that(len(value) == count, f"{name} returned a tuple of {len(value)} items; expected {count}: {what}.")
    return value


def not_the_inputs(call: Call, name: str, count: int) -> None:
    for part in range(len(call.part_extents)):
        checks.that(not any(call.part_shares_memory_with_arg(part, i) for i in range(len(call.args_after))),
                    f"{name} returned one of its inputs (or a view of it) as item {part + 1} of the result; "
                    "return new tensors.",
                    hint="The caller may change the gradient it gets back; that must not change the "
                         "inputs. Return e.g. b.clone() rather than b itself.")


def unchanged(call: Call, originals: list, name: str) -> None:
    checks.inputs_unchanged(call, originals, name=name)


NEEDS_1_OVER_N = "The derivative of mean() over n elements brings a factor 1/n: divide by x.numel()."
MEAN_N_HINT = "n is the number of elements, x.numel(), not len(x) (the number of rows)."


# ---------------------------------------------------------------- 2.1 product_grads

@weight(1)
@number("2.1")
@tags("product_grads")
def test_product_grads_example(student):
    """product_grads: at a = 3., b = 4. the gradients are (4., 3.)"""
    a, b = torch.tensor(3.0), torch.tensor(4.0)
    call = call_without_autograd(student, "product_grads", a, b)
    da, db = tuple_of(call.value, 2, "product_grads", "(dy/da, dy/db)")
    swapped = "product_grads returned the gradients swapped: dy/da of a * b is b, and dy/db is a."
    check_tensor(da, torch.tensor(4.0), name="product_grads", what="dy/da", mistakes=[(a, swapped, None)],
                 shape_hint="The gradient has the shape of a (0-D here).")
    check_tensor(db, torch.tensor(3.0), name="product_grads", what="dy/db", mistakes=[(b, swapped, None)],
                 shape_hint="The gradient has the shape of b (0-D here).")
    unchanged(call, [torch.tensor(3.0), torch.tensor(4.0)], "product_grads")


@weight(1)
@number("2.2")
@tags("product_grads")
def test_product_grads_matrix(student):
    """product_grads: (2, 3) inputs, new tensors, inputs unchanged"""
    a = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]])
    b = torch.tensor([[4.0, 0.25, -1.0], [2.0, 5.0, 1.0]])
    call = call_without_autograd(student, "product_grads", a, b)
    da, db = tuple_of(call.value, 2, "product_grads", "(dy/da, dy/db)")
    swapped = "product_grads returned the gradients swapped: dy/da of a * b is b, and dy/db is a."
    ones = "product_grads returned ones: the derivative of (a * b).sum() with respect to a_i is b_i."
    check_tensor(da, b, name="product_grads", what="dy/da", mistakes=[(a, swapped, None), (torch.ones(2, 3), ones, None)],
                 shape_hint="Each gradient has the shape of its input; do not sum it.")
    check_tensor(db, a, name="product_grads", what="dy/db", mistakes=[(b, swapped, None), (torch.ones(2, 3), ones, None)],
                 shape_hint="Each gradient has the shape of its input; do not sum it.")
    unchanged(call, [a.clone(), b.clone()], "product_grads")
    not_the_inputs(call, "product_grads", 2)


# ---------------------------------------------------------------- 2.3 mean_poly_forward

@weight(1)
@number("2.3")
@tags("mean_poly_forward")
def test_mean_poly_forward(student):
    """mean_poly_forward: the four intermediate values at x = [0., 1., 2.], y 0-D"""
    x = torch.tensor([0.0, 1.0, 2.0])
    call = call_without_autograd(student, "mean_poly_forward", x)
    a, b, c, y = tuple_of(call.value, 4, "mean_poly_forward", "(a, b, c, y)")
    check_tensor(a, torch.tensor([2.0, 3.0, 4.0]), name="mean_poly_forward", what="a",
                 hint=checks.Hint("a is the first step of the docstring's formula.", "mean_poly_forward.a"))
    check_tensor(b, torch.tensor([4.0, 9.0, 16.0]), name="mean_poly_forward", what="b",
                 hint=checks.Hint("b squares a.", "mean_poly_forward.b"))
    check_tensor(c, torch.tensor([7.0, 12.0, 19.0]), name="mean_poly_forward", what="c",
                 hint=checks.Hint("c adds the constant of the docstring's formula to b.", "mean_poly_forward.c"))
    check_tensor(y, torch.tensor(38.0 / 3.0), name="mean_poly_forward", what="y",
                 shape_hint="y, the mean of c, is 0-D (shape ()); do not keep a dimension.",
                 mistakes=[(torch.tensor(38.0), "mean_poly_forward returned the sum of c as y; y is the mean.", None)])
    unchanged(call, [torch.tensor([0.0, 1.0, 2.0])], "mean_poly_forward")


# ---------------------------------------------------------------- 2.4 mean_poly_grad

def mean_poly_mistakes(x: torch.Tensor, name: str = "mean_poly_grad"):
    n = x.numel()
    return [
        (2 * (x + 2), f"{name}'s result is n times too large: it is missing the 1/n of the mean.", NEEDS_1_OVER_N),
        (2 * (x + 2) / len(x), f"{name} divides by len(x) instead of the number of elements.", MEAN_N_HINT),
        ((x + 2) / n, f"{name}'s result is half the gradient: the derivative of a squared is twice a.", None),
    ]


@weight(1)
@number("2.4")
@tags("mean_poly_grad")
def test_mean_poly_grad_example(student):
    """mean_poly_grad: at x = [0., 1., 2.] the gradient is [4/3, 2, 8/3]"""
    x = torch.tensor([0.0, 1.0, 2.0])
    call = call_without_autograd(student, "mean_poly_grad", x)
    check_tensor(call.value, torch.tensor([4 / 3, 2.0, 8 / 3]), name="mean_poly_grad",
                 mistakes=mean_poly_mistakes(x),
                 hint="Chain rule: dy/dx_i = dy/dc_i * dc/db_i * db/da_i * da/dx_i = (1/n) * 1 * 2 a_i * 1.")
    unchanged(call, [torch.tensor([0.0, 1.0, 2.0])], "mean_poly_grad")


@weight(1)
@number("2.5")
@tags("mean_poly_grad")
def test_mean_poly_grad_matrix(student):
    """mean_poly_grad: a (2, 3) input, where n is the number of elements (6)"""
    x = torch.tensor([[0.0, 1.0, 2.0], [-1.0, 0.5, -3.0]])
    call = call_without_autograd(student, "mean_poly_grad", x)
    check_tensor(call.value, 2 * (x + 2) / 6, name="mean_poly_grad", mistakes=mean_poly_mistakes(x),
                 shape_hint="The gradient has the shape of x.", hint=MEAN_N_HINT)
    unchanged(call, [x.clone()], "mean_poly_grad")


# ---------------------------------------------------------------- 2.6 sum_square_grad

@weight(1)
@number("2.6")
@tags("sum_square_grad")
def test_sum_square_grad_example(student):
    """sum_square_grad: at x = ones(3, 2) every entry is 12"""
    x = torch.ones(3, 2)
    call = call_without_autograd(student, "sum_square_grad", x)
    check_tensor(call.value, torch.full((3, 2), 12.0), name="sum_square_grad",
                 shape_hint="The gradient has the shape of x; do not sum it.",
                 mistakes=[(torch.full((3, 2), 2.0), "sum_square_grad returned twice x; the chain rule also applies to the "
                            "inner function (x plus 5).", None)],
                 hint=checks.Hint("Differentiate the square with the chain rule; .sum() passes the gradient 1 "
                                  "to each entry.", "sum_square_grad.values"))
    unchanged(call, [torch.ones(3, 2)], "sum_square_grad")


@weight(1)
@number("2.7")
@tags("sum_square_grad")
def test_sum_square_grad_values(student):
    """sum_square_grad: other values, shape (4,)"""
    x = torch.tensor([-5.0, 0.0, 1.5, -7.0])
    call = call_without_autograd(student, "sum_square_grad", x)
    check_tensor(call.value, torch.tensor([0.0, 10.0, 13.0, -4.0]), name="sum_square_grad",
                 mistakes=[(torch.tensor([0.0, 2.5, 3.25, -1.0]), "sum_square_grad divides by n, but t is a sum, not a mean.", None)],
                 hint=checks.Hint("Differentiate the square with the chain rule.", "sum_square_grad.formula"))
    unchanged(call, [x.clone()], "sum_square_grad")


# ---------------------------------------------------------------- 2.8 mse_grad

def mse_mistakes(pred, target):
    n = pred.numel()
    return [
        (2 * (pred - target), "mse_grad's result is n times too large: it is missing the 1/n of the mean.",
         NEEDS_1_OVER_N),
        (2 * (pred - target) / pred.shape[0], "mse_grad divides by len(pred) instead of the number of elements.",
         "n is pred.numel(), the number of elements."),
        ((pred - target) / n, "mse_grad's result is half the gradient: d(u ** 2)/du = 2 * u.", None),
        (2 * (target - pred) / n, "mse_grad has the wrong sign: d/dpred (pred - target) ** 2 = 2 * (pred - target).",
         None),
    ]


@weight(1)
@number("2.8")
@tags("mse_grad")
def test_mse_grad(student):
    """mse_grad: a (2, 2) example; the mean brings a factor 1/4"""
    pred = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    target = torch.tensor([[0.5, 2.0], [1.0, 5.0]])
    call = call_without_autograd(student, "mse_grad", pred, target)
    check_tensor(call.value, torch.tensor([[0.25, 0.0], [1.0, -0.5]]), name="mse_grad",
                 mistakes=mse_mistakes(pred, target), shape_hint="The gradient has the shape of pred.",
                 hint="The square brings a factor 2 and the mean a factor 1/n, n being the number of elements.")
    unchanged(call, [pred.clone(), target.clone()], "mse_grad")


# ---------------------------------------------------------------- 2.9 sigmoid_backward

def sigmoid_gradient(x: torch.Tensor, grad_out: torch.Tensor) -> torch.Tensor:
    """dL/dx by autograd through the forward pass s = sigmoid(x), with dL/ds = grad_out."""
    leaf = x.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(torch.sigmoid(leaf), leaf, grad_out)
    return gradient

@weight(1)
@number("2.9")
@tags("sigmoid_backward")
def test_sigmoid_backward(student):
    """sigmoid_backward: multiplies sigma'(x) = s (1 - s) by the upstream gradient"""
    x = torch.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
    grad_out = torch.tensor([0.5, -2.0, 3.0, 1.5, -1.0])
    call = call_without_autograd(student, "sigmoid_backward", x, grad_out)
    check_tensor(call.value, sigmoid_gradient(x, grad_out), name="sigmoid_backward",
                 mistakes=[(sigmoid_gradient(x, torch.ones_like(x)), "sigmoid_backward ignores grad_out: the local derivative must be "
                            "multiplied by it.",
                            "The chain rule multiplies the local derivative by the upstream gradient grad_out.")],
                 hint=checks.Hint("The sigmoid's derivative is written with the sigmoid itself; the chain rule "
                                  "multiplies it by grad_out.", "sigmoid_backward.values"))
    unchanged(call, [x.clone(), grad_out.clone()], "sigmoid_backward")


# ---------------------------------------------------------------- 2.10 linear_backward

def linear_inputs():
    x = torch.tensor([[1.0, -0.5, 2.0], [0.0, 1.5, -1.0]])                      # (N=2, in=3)
    weight_ = torch.tensor([[0.5, -1.0, 0.25], [2.0, 0.0, -0.5], [1.0, 1.0, 1.0], [-1.5, 0.5, 2.0]])  # (4, 3)
    bias = torch.tensor([0.1, -0.2, 0.3, 0.0])                                  # (out=4,)
    grad_out = torch.tensor([[1.0, -2.0, 0.5, 3.0], [-1.0, 2.0, 1.5, -0.5]])    # (N=2, out=4)
    return x, weight_, bias, grad_out


LINEAR_PARTS = ["dL/dx", "dL/dweight", "dL/dbias"]
LINEAR_HINTS = {
    "dL/dx": checks.Hint("dL/dx is a matrix product of grad_out and weight, shape (N, in) like x.",
                         "linear_backward.x"),
    "dL/dweight": checks.Hint("dL/dweight is a matrix product of grad_out (transposed) and x, shape (out, in) "
                              "like weight.", "linear_backward.weight"),
    "dL/dbias": checks.Hint("The bias is added to every row, so dL/dbias sums grad_out over the batch.",
                            "linear_backward.bias"),
}


def linear_expected(x, weight_, bias, grad_out):
    """The three gradients by autograd through the forward pass out = x @ weight.T + bias."""
    leaves = [t.clone().requires_grad_(True) for t in (x, weight_, bias)]
    out = leaves[0] @ leaves[1].T + leaves[2]
    return list(torch.autograd.grad(out, leaves, grad_out))


def linear_mistakes(part: int, x, weight_, bias, grad_out) -> list:
    ones = torch.ones_like(grad_out)
    ignored = ("linear_backward ignores grad_out: every gradient must be built from the upstream "
               "gradient grad_out.", None)
    return [
        [(ones @ weight_, *ignored)],
        [(ones.T @ x, *ignored)],
        [(ones.sum(dim=0), *ignored),
         (grad_out.mean(dim=0), "linear_backward averages grad_out over the batch for dL/dbias; sum it.", None)],
    ][part]


def check_linear_part(value, part: int, expected: torch.Tensor, x, weight_, bias, grad_out):
    """One of the three gradients, with a message naming a wrong shape or orientation."""
    name, what = "linear_backward", LINEAR_PARTS[part]
    got = checks.is_tensor(value, name, what)
    shapes = {0: ("x", "(N, in)"), 1: ("weight", "(out, in)"), 2: ("bias", "(out,)")}
    like, pattern = shapes[part]
    if tuple(got.shape) != tuple(expected.shape):
        n, d_in = x.shape
        d_out = weight_.shape[0]
        message = f"linear_backward returned {what} of the wrong shape; it must have the shape of {like}, {pattern}."
        if part == 1 and tuple(got.shape) == (d_in, d_out):
            message = ("linear_backward returned dL/dweight transposed: shape (in, out) instead of weight's "
                       "shape (out, in).")
        elif part == 2 and tuple(got.shape) == (n,):
            message = ("linear_backward summed over the wrong axis for dL/dbias: shape (N,) instead of "
                       "bias's shape (out,).")
        elif part == 2 and tuple(got.shape) in ((n, d_out), (1, d_out)):
            message = "linear_backward did not reduce dL/dbias over the batch: its shape must be (out,)."
        elif part == 0 and tuple(got.shape) == (d_in, n):
            message = "linear_backward returned dL/dx transposed: shape (in, N) instead of x's shape (N, in)."
        checks.fail(message, hint=LINEAR_HINTS[what], details=f"got shape {tuple(got.shape)}, expected "
                    f"{tuple(expected.shape)}")
    check_tensor(got, expected, name=name, what=what, mistakes=linear_mistakes(part, x, weight_, bias, grad_out),
                 hint=LINEAR_HINTS[what])


@pytest.mark.parametrize("part", [0, 1, 2], ids=["dx", "dweight", "dbias"])
@weight(1)
@number("2.10")
@tags("linear_backward")
def test_linear_backward(student, part):
    """linear_backward: one of (dL/dx, dL/dweight, dL/dbias), with the shape of x, weight or bias"""
    inputs = linear_inputs()
    call = call_without_autograd(student, "linear_backward", *inputs)
    result = tuple_of(call.value, 3, "linear_backward", "(grad_x, grad_weight, grad_bias)")
    check_linear_part(result[part], part, linear_expected(*inputs)[part], *inputs)
    unchanged(call, list(linear_inputs()), "linear_backward")


# ---------------------------------------------------------------- 2.11 autograd_grad

def expected_gradient(function: str, x: torch.Tensor) -> torch.Tensor:
    """The gradient of FUNCTIONS[function] at x, by autograd in float64, in x's dtype."""
    point = x.detach().double().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(FUNCTIONS[function](point), point)
    return grad.to(x.dtype)


AUTOGRAD_FRESH_HINT = checks.Hint("Work on a fresh leaf that requires grad, made from a detached copy of x, so "
                                   "that x itself is left alone; then take the gradient of f at it.",
                                   "autograd_grad.fresh")


def check_autograd_grad(report: dict, x: torch.Tensor, requires_grad: bool, expected: torch.Tensor,
                        rtol=None, atol=None) -> None:
    name = "autograd_grad"
    first, second = report["first"], report["second"]
    checks.that(not first["is_x"], "autograd_grad returned x itself instead of its gradient.", hint=AUTOGRAD_FRESH_HINT)
    check_tensor(first["value"], expected, name=name, rtol=rtol, atol=atol,
                 shape_hint="The gradient has the shape of x.", hint=AUTOGRAD_FRESH_HINT)
    checks.that(not first["requires_grad"], "autograd_grad returned a tensor that requires grad.",
                hint="Return grad.detach(): a plain tensor, not part of a graph.")
    when = "when x requires grad" if requires_grad else "when x does not require grad"
    checks.that(torch.equal(report["x_after"], x), f"autograd_grad modified x ({when}).",
                hint="Do not change x: work on x.detach().clone().")
    checks.is_tensor(second["value"], name, "the result of the second call")
    checks.that(second["value"].shape == first["value"].shape
                and torch.equal(second["value"], first["value"]),
                f"autograd_grad gave a different answer the second time it was called ({when}): "
                "gradients accumulate.",
                hint=checks.Hint("x.grad adds up over backward() calls. " + AUTOGRAD_FRESH_HINT.mistake,
                                 "autograd_grad.accumulates"),
                details=f"first: {first['value']}, second: {second['value']}")
    checks.that(report["x_requires_grad_after"] == requires_grad,
                f"autograd_grad changed x.requires_grad ({when}): x must be left as it was.",
                hint="Call requires_grad_(True) on a detached copy of x, not on x.")
    checks.that(report["x_grad_after"] is None,
                f"autograd_grad left a gradient accumulated in x.grad ({when}).",
                hint="Compute the gradient of a detached copy of x, so that x.grad is left as it was "
                     "(None); torch.autograd.grad also accumulates nothing.")


@weight(1)
@number("2.11")
@tags("autograd_grad")
def test_autograd_grad_value(student):
    """autograd_grad: the gradient of (x ** 3).sum() is 3 x ** 2, as a plain float64 tensor"""
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)
    report = student.probe("manual_gradients:autograd_grad_twice", "cubic_sum", x, False, what="autograd_grad")
    check_autograd_grad(report, x, False, 3 * x ** 2)


@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain-x", "x-requires-grad"])
@weight(1)
@number("2.12")
@tags("autograd_grad")
def test_autograd_grad_twice(student, requires_grad):
    """autograd_grad: called twice, same answer; x, x.requires_grad and x.grad left as they were"""
    x = torch.tensor([0.5, -1.0, 2.0, 0.25], dtype=torch.float64)
    report = student.probe("manual_gradients:autograd_grad_twice", "sin_prod", x, requires_grad,
                           what="autograd_grad")
    check_autograd_grad(report, x, requires_grad, expected_gradient("sin_prod", x))


# ---------------------------------------------------------------- 2.13 central_difference

ONE_SIDED = ("central_difference is one-sided: use the central difference (f(x + eps e_i) - f(x - eps e_i)) "
             "/ (2 eps), whose error is O(eps ** 2).")


def check_central_difference(report: dict, x: torch.Tensor, expected: torch.Tensor, *, mistakes=(),
                             rtol=None, atol=None) -> None:
    check_tensor(report["value"], expected, name="central_difference", mistakes=mistakes, rtol=rtol, atol=atol,
                 shape_hint="The numerical gradient has the shape of x.",
                 hint="Entry i is (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), on a copy of x; "
                      "restore each entry before perturbing the next.")
    checks.that(torch.equal(report["x_after"], x), "central_difference changed x.",
                hint="Perturb a copy (x.detach().clone()), never x itself, or restore every entry.")


@pytest.mark.parametrize("eps", [1e-2, 1e-3, 1e-4])
@weight(0.5)
@number("2.13")
@tags("central_difference")
def test_central_difference_cubic(student, eps):
    """central_difference: (x ** 3).sum() in float64 gives exactly 3 x ** 2 + eps ** 2"""
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)
    report = student.probe("manual_gradients:central_difference_run", "cubic_sum", x, eps, what="central_difference")
    mistakes = [(3 * x ** 2 + 3 * x * eps + eps ** 2, ONE_SIDED, None),
                (3 * x ** 2 - 3 * x * eps + eps ** 2, ONE_SIDED, None),
                (6 * x ** 2 + 2 * eps ** 2, "central_difference divides by eps instead of 2 * eps.", None)]
    check_central_difference(report, x, 3 * x ** 2 + eps ** 2, mistakes=mistakes, rtol=1e-8, atol=1e-8)


@weight(1)
@number("2.14")
@tags("central_difference")
def test_central_difference_default_eps(student):
    """central_difference: with the default eps it matches the autograd gradient of prod(sin(x))"""
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    report = student.probe("manual_gradients:central_difference_run", "sin_prod", x, what="central_difference")
    check_central_difference(report, x, expected_gradient("sin_prod", x), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- 2.15 relative_error

RELATIVE_ERROR_HINT = checks.Hint("Divide |a - b| by |a| + |b| (clamped away from 0), take the largest and "
                                   "turn it into a Python float; handle empty inputs first.", "relative_error")


def relative_error_of(a: torch.Tensor, b: torch.Tensor) -> float:
    """The spec's formula entry by entry in Python floats: the largest |a_i - b_i| / max(1e-8, |a_i| + |b_i|),
    0.0 when there are no entries."""
    pairs = zip(a.flatten().tolist(), b.flatten().tolist())
    return max((abs(p - q) / max(1e-8, abs(p) + abs(q)) for p, q in pairs), default=0.0)


RELATIVE_CASES = {
    "equal": ([1.0, -2.0, 3.0], [1.0, -2.0, 3.0], 0.0),
    "both-zero": ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 0.0),
    "empty": ([], [], 0.0),
    "one-vs-three": ([1.0], [3.0], 0.5),
    "max-over-elements": ([0.0, 1.0, 2.0], [0.0, 1.5, 2.0], 0.2),
    "opposite-signs": ([[1.0, 2.0], [-1.0, 4.0]], [[1.0, 2.0], [1.0, 4.0]], 1.0),
}


@pytest.mark.parametrize("case", list(RELATIVE_CASES))
@weight(0.5)
@number("2.15")
@tags("relative_error")
def test_relative_error_cases(student, case):
    """relative_error: max of |a - b| / max(1e-8, |a| + |b|), as a Python float"""
    a, b, expected = RELATIVE_CASES[case]
    a, b = torch.tensor(a), torch.tensor(b)
    call = call_without_autograd(student, "relative_error", a, b)
    hint = RELATIVE_ERROR_HINT
    if case == "both-zero":
        hint = checks.Hint("0 / 0 is NaN: the denominator has a floor of 1e-8, as the definition says.",
                           "relative_error.zero")
    elif case == "empty":
        hint = "The max of an empty tensor raises; inputs without elements have a relative error of 0.0."
    checks.python_float(call.value, expected, name="relative_error", hint=hint)
    unchanged(call, [a.clone(), b.clone()], "relative_error")


@weight(1)
@number("2.16")
@tags("relative_error")
def test_relative_error_scale_invariant(student):
    """relative_error: scaling both inputs by the same factor does not change it; symmetric"""
    a, b = torch.tensor([1.0, 2.0, -3.0]), torch.tensor([1.1, 2.0, -2.5])
    base = call_without_autograd(student, "relative_error", a, b).value
    checks.python_float(base, relative_error_of(a, b), name="relative_error", rel=1e-5, hint=RELATIVE_ERROR_HINT)
    for scale in (1e-3, 1e4):
        scaled = call_without_autograd(student, "relative_error", a * scale, b * scale).value
        checks.python_float(scaled, base, name="relative_error", rel=1e-4, what=f"the result for inputs scaled by {scale:g}",
                            hint="relative_error must not change when both inputs are scaled: divide |a - b| by "
                                 "|a| + |b| elementwise (an absolute error is not scale invariant).")
    swapped = call_without_autograd(student, "relative_error", b, a).value
    checks.python_float(swapped, base, name="relative_error", rel=1e-6, what="relative_error(b, a)",
                        hint="The formula is symmetric in a and b.")
