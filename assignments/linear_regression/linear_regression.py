"""Assignment 4: linear regression. Fill in every function below; see handout.md.

You fit the line y = 3x - 2 twice: once with a hand-written training loop (parameters are
plain tensors that require grad, updated in place under `torch.no_grad()`), and once with
the standard PyTorch tools (`nn.Linear`, `torch.optim.SGD`, `nn.MSELoss`). Started from the
same zero parameters, the two loops follow the same trajectory. All tensors are float32;
losses are recorded as Python floats (`loss.item()`). No function modifies its inputs
unless its docstring says so.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def make_data(n: int = 100, noise: float = 0.0, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Return (X, y): n points on the line y = 3x - 2, optionally with Gaussian noise.

    X = torch.linspace(-1, 1, n).unsqueeze(1), shape (n, 1), float32.
    y = 3 * X - 2 + noise * torch.randn(n, 1, generator=g), shape (n, 1), float32, where g
    is a new torch.Generator seeded with `seed` (draw exactly this one randn with it, even
    when noise is 0). The global random state must not change: no torch.manual_seed, no
    random draw without `generator=g`. Same arguments give equal tensors.
    """
    raise NotImplementedError("make_data: not written yet (see handout.md)")


def mse(pred: Tensor, target: Tensor) -> Tensor:
    """Return the mean squared error ((pred - target) ** 2).mean() as a 0-D tensor.

    Raises ValueError if the shapes of pred and target differ: no silent broadcasting (an
    (N, 1) prediction against an (N,) target would otherwise broadcast to (N, N)). The
    result is differentiable: when `pred` requires grad, the loss has a grad_fn and
    `.backward()` works. Inputs are not modified.
    """
    raise NotImplementedError("mse: not written yet (see handout.md)")


def sgd_step_(params: list[Tensor], lr: float) -> None:
    """One plain gradient-descent step, in place: p -= lr * p.grad for each parameter p.

    `params` are leaf tensors that require grad. The update must not be recorded by
    autograd (do it under `torch.no_grad()`), and must modify each tensor in place, so
    every parameter stays the same object, a leaf, requiring grad, with grad_fn None.
    After its update, each parameter's gradient is zeroed (or set to None), ready for the
    next backward. Parameters whose `.grad` is None are skipped (left unchanged).
    Returns None; the trailing underscore marks the in-place update.
    """
    raise NotImplementedError("sgd_step_: not written yet (see handout.md)")


def train_manual(
    X: Tensor, y: Tensor, lr: float = 0.1, epochs: int = 200
) -> tuple[Tensor, Tensor, list[float]]:
    """Fit pred = X @ w + b by full-batch gradient descent with hand-written updates.

    X and y are float32 of shape (N, 1). Start from w = torch.zeros(1, 1, requires_grad=True)
    and b = torch.zeros(1, requires_grad=True). Each epoch, in this order:
    pred = X @ w + b; loss = mse(pred, y); append loss.item() to the list of losses;
    loss.backward(); sgd_step_([w, b], lr).

    Returns (w.detach(), b.detach(), losses): w of shape (1, 1), b of shape (1,), and
    `losses` a list of `epochs` Python floats (the loss before each update). X and y are
    not modified.
    """
    raise NotImplementedError("train_manual: not written yet (see handout.md)")


def train_with_optim(
    X: Tensor, y: Tensor, lr: float = 0.1, epochs: int = 200
) -> tuple[nn.Linear, list[float]]:
    """The same fit as `train_manual`, with nn.Linear, torch.optim.SGD and nn.MSELoss.

    X and y are float32 of shape (N, 1). Create model = nn.Linear(1, 1) and set its weight
    and bias to zero (in place, under torch.no_grad()); then the optimizer
    torch.optim.SGD(model.parameters(), lr=lr) (no momentum) and an nn.MSELoss() as the
    loss function. Each epoch, in this order: optimizer.zero_grad(); the model's prediction
    for all of X; its loss against y; append loss.item(); loss.backward(); optimizer.step().

    Returns (model, losses): the trained nn.Linear (weight shape (1, 1), bias shape (1,))
    and a list of `epochs` Python floats. From the same data the losses and parameters
    match those of `train_manual` up to float32 rounding. X and y are not modified.
    """
    raise NotImplementedError("train_with_optim: not written yet (see handout.md)")
