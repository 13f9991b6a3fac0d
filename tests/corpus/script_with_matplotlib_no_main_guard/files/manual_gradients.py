"""Assignment 2: manual_gradients. Fill in every function below; see handout.md. You
apply the chain rule by hand: for each small computation you write the gradient of its
output with respect to its inputs WITHOUT autograd (no `.backward()`, no `torch.autograd`,
no `torch.func`, no `requires_grad`, no `.data`); those functions are graded under
`torch.inference_mode()`. Then you compute gradients with autograd (`autograd_grad`) and
numerically (`central_difference`), and compare them with `relative_error`. No function may
modify its inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import torch
from torch import Tensor


def product_grads(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """For y = (a * b).sum(), return (dy/da, dy/db), without autograd.

    `a` and `b` are float tensors of the same shape; each gradient has that shape and dtype.
    Example: at a = 3., b = 4. the result is (4., 3.). Return new tensors (not `a` or `b`
    themselves); `a` and `b` are not modified.
    """
    return b.clone(), a.clone()


def mean_poly_forward(x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Return the intermediate values (a, b, c, y) of

        a = x + 2,   b = a ** 2,   c = b + 3,   y = c.mean()

    for a float tensor `x`. `a`, `b`, `c` have the shape of `x`; `y` is 0-D (shape ()).
    Without autograd; `x` is not modified.
    """
    a = x + 2
    b = a**2
    c = b + 3
    y = c.mean()
    return a, b, c, y


def mean_poly_grad(x: Tensor) -> Tensor:
    """Return dy/dx for y = ((x + 2) ** 2 + 3).mean(), without autograd.

    Same shape and dtype as `x`. Example: at x = [0., 1., 2.] the result is
    [4/3, 2, 8/3]. `x` is not modified.
    """
    return 2 * (x + 2) / x.numel()


def sum_square_grad(x: Tensor) -> Tensor:
    """Return dt/dx for t = ((x + 5) ** 2 + 1).sum(), without autograd.

    Same shape and dtype as `x`. Example: at x = torch.ones(3, 2) every entry is 12.
    `x` is not modified.
    """
    return 2 * (x + 5)


def mse_grad(pred: Tensor, target: Tensor) -> Tensor:
    """Return dL/dpred for L = ((pred - target) ** 2).mean(), without autograd.

    `pred` and `target` are float tensors of the same shape; the result has that shape.
    `pred` and `target` are not modified.
    """
    return 2 * (pred - target) / pred.numel()


def sigmoid_backward(x: Tensor, grad_out: Tensor) -> Tensor:
    """Return dL/dx for s = sigmoid(x) = 1 / (1 + exp(-x)), given `grad_out` = dL/ds.

    `x` and `grad_out` have the same shape; the result has that shape. Without autograd
    (computing sigmoid itself with torch.sigmoid is fine). Inputs are not modified.
    """
    s = torch.sigmoid(x)
    return grad_out * s * (1 - s)


def linear_backward(
    x: Tensor, weight: Tensor, bias: Tensor, grad_out: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Backward pass of out = x @ weight.T + bias, without autograd.

    Shapes: `x` (N, in), `weight` (out, in), `bias` (out,), `grad_out` = dL/dout (N, out).
    Return (dL/dx, dL/dweight, dL/dbias) with shapes (N, in), (out, in) and (out,): exactly
    the shapes of `x`, `weight` and `bias`. Inputs are not modified.
    """
    grad_x = grad_out @ weight
    grad_weight = grad_out.T @ x
    grad_bias = grad_out.sum(dim=0)
    return grad_x, grad_weight, grad_bias


def autograd_grad(f: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Return the gradient of the scalar f(x) with respect to `x`, USING autograd.

    `f` maps a tensor shaped like `x` to a 0-D (one-element) tensor. `x` is a float tensor
    that may or may not require grad. Work on a detached copy of `x` that requires grad, so
    that `x` is not modified and no gradient is accumulated anywhere (calling this twice
    gives the same answer; `x.grad` is left as it was). Return a plain tensor with the shape
    and dtype of `x` that does not require grad.
    """
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(f(x), x)
    return grad.detach()


def central_difference(f: Callable[[Tensor], Tensor], x: Tensor, eps: float = 1e-6) -> Tensor:
    """Return the numerical gradient of the scalar-valued `f` at `x` by central differences.

    Entry i of the result is (f(x + eps * e_i) - f(x - eps * e_i)) / (2 * eps), where e_i
    is the tensor that is 1 at position i and 0 elsewhere. The result has the same shape and
    dtype as `x`. `x` must be unchanged afterwards: perturb a copy, never `x` itself.
    Use float64 inputs for accurate results (float32 cannot resolve eps = 1e-6 well).
    """
    point = x.detach().clone(memory_format=torch.contiguous_format)
    flat = point.view(-1)
    grad = torch.empty_like(flat)
    for i in range(flat.numel()):
        original = flat[i].item()
        flat[i] = original + eps
        f_plus = float(f(point))
        flat[i] = original - eps
        f_minus = float(f(point))
        flat[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.view(x.shape)


def relative_error(a: Tensor, b: Tensor) -> float:
    """Return max over elements i of |a_i - b_i| / max(1e-8, |a_i| + |b_i|) as a Python float.

    `a` and `b` have the same shape. Returns 0.0 when both are all zeros or when they are
    empty. Without autograd; inputs are not modified.
    """
    if a.numel() == 0:
        return 0.0
    a, b = a.double(), b.double()
    error = (a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)
    return error.max().item()


# ---- my own check, not graded ----
x = torch.linspace(-6, 6, 121, dtype=torch.float64)
analytic = sigmoid_backward(x, torch.ones_like(x))
numeric = central_difference(lambda t: torch.sigmoid(t).sum(), x)
print("max relative error:", relative_error(analytic, numeric))

plt.plot(x, torch.sigmoid(x), label="sigmoid(x)")
plt.plot(x, analytic, label="d sigmoid / dx")
plt.legend()
plt.savefig("sigmoid_grad.png")
plt.show()
