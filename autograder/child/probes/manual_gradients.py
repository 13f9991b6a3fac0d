"""Probes for the `manual_gradients` assignment.

They run in the student's process and only report what happened: the grader decides. Test
functions `f` for `autograd_grad` and `central_difference` cannot cross the process boundary,
so they live in `FUNCTIONS` below and are chosen by name; the grader imports the same table to
compute the expected gradients with autograd in float64.
"""

from __future__ import annotations

import torch

from autograder.child.probes.core import attribute, call


def _weights(x: torch.Tensor) -> torch.Tensor:
    """Fixed, non-uniform weights shaped like `x` (so every entry's gradient differs)."""
    return torch.linspace(-1.0, 2.0, x.numel(), dtype=x.dtype).reshape(x.shape)


# Scalar-valued test functions of one tensor of any shape, each with a non-zero second
# derivative (a one-sided difference is off by O(eps) on all of them).
FUNCTIONS = {
    "cubic_sum": lambda x: (x ** 3).sum(),
    "sin_prod": lambda x: torch.sin(x).prod(),
    "square_mean": lambda x: (x ** 2).mean(),
    "exp_weighted": lambda x: (torch.exp(0.5 * x) * _weights(x)).sum(),
    "tanh_weighted": lambda x: (torch.tanh(x) * _weights(x)).sum(),
    "logsumexp": lambda x: torch.logsumexp(x.reshape(-1), dim=0),
    "norm": lambda x: (x ** 2).sum().sqrt(),
}


def call_in_inference_mode(student, name: str, args: tuple = ()) -> dict:
    """`core.call` of `student.<name>(*args)` under `torch.inference_mode()`.

    The arguments are plain tensors (made outside inference mode) that do not require grad."""
    with torch.inference_mode():
        return call(student, name, tuple(args))


def autograd_grad_twice(student, function: str, x: torch.Tensor, requires_grad: bool) -> dict:
    """Call `autograd_grad(f, x)` twice on the same `x` and report everything around it."""
    autograd_grad = attribute(student, "autograd_grad")
    f = FUNCTIONS[function]
    x = x.detach().clone()
    if requires_grad:
        x.requires_grad_(True)
    results = []
    for _ in range(2):
        value = autograd_grad(f, x)
        is_tensor = type(value) is torch.Tensor
        results.append({
            "value": value.detach().clone() if is_tensor else value,
            "requires_grad": bool(is_tensor and value.requires_grad),
            "is_x": value is x,
            "x_grad_set": x.grad is not None,
        })
    return {
        "first": results[0], "second": results[1],
        "x_after": x.detach().clone(),
        "x_requires_grad_after": bool(x.requires_grad),
        "x_grad_after": None if x.grad is None else x.grad.detach().clone(),
    }


def central_difference_run(student, function: str, x: torch.Tensor, eps: float | None = None) -> dict:
    """Call `central_difference(f, x[, eps])`; report the value and `x` afterwards."""
    central_difference = attribute(student, "central_difference")
    f = FUNCTIONS[function]
    x = x.detach().clone()
    value = central_difference(f, x) if eps is None else central_difference(f, x, eps)
    return {"value": value, "x_after": x}
