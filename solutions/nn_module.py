"""Assignment 5: networks as nn.Module. Fill in every class and function below; see handout.md.

You package layers into `nn.Module` classes (a fixed three-layer network and an MLP of any
depth), count their parameters, build an optimizer over them, write a full-batch training
loop that can run on a chosen device, and save, load and snapshot a model's weights.
Floating-point tensors are float32. No function modifies its inputs unless its docstring
says so (`train` trains the model it is given).
"""

from __future__ import annotations

import os

import torch
from torch import Tensor, nn


class MyNetwork(nn.Module):
    """Three linear layers with ReLU between them: 20 -> 30 -> 30 -> 40.

    Attributes (exactly these names): m1 = nn.Linear(20, 30), m2 = nn.Linear(30, 30),
    m3 = nn.Linear(30, 40); 2800 trainable parameters in all.
    forward(x) = m3(relu(m2(relu(m1(x))))): input (N, 20) gives output (N, 40), and a single
    example (20,) gives (40,). No ReLU after m3.
    """

    def __init__(self) -> None:
        """Call the nn.Module constructor first, then create the three layers."""
        # BEGIN SOLUTION
        super().__init__()
        self.m1 = nn.Linear(20, 30)
        self.m2 = nn.Linear(30, 30)
        self.m3 = nn.Linear(30, 40)
        # END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """Return m3(relu(m2(relu(m1(x))))) for float32 `x` of shape (N, 20) or (20,).

        Output shape (N, 40) or (40,). Uses only the layers created in __init__.
        """
        # BEGIN SOLUTION
        x = torch.relu(self.m1(x))
        x = torch.relu(self.m2(x))
        return self.m3(x)
        # END SOLUTION


class MLP(nn.Module):
    """A multi-layer perceptron with layer sizes given by a list.

    `sizes` = [d0, d1, ..., dk] (at least two entries) gives k layers
    nn.Linear(d0, d1), nn.Linear(d1, d2), ..., nn.Linear(d(k-1), dk), applied in order with
    a ReLU between consecutive layers but not after the last one. Every layer must be
    registered with the module (store them in an nn.ModuleList, not a Python list), so
    that .parameters(), .to() and state_dict() see them. Parameter count:
    sum of d(i) * d(i+1) + d(i+1) over the layers.
    """

    def __init__(self, sizes: list[int]) -> None:
        """Create one nn.Linear(sizes[i], sizes[i + 1]) per consecutive pair of sizes."""
        # BEGIN SOLUTION
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        # END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """Apply the layers in order, ReLU between them (not after the last).

        `x` has shape (N, sizes[0]) or (sizes[0],); the output has shape (N, sizes[-1]) or
        (sizes[-1],).
        """
        # BEGIN SOLUTION
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < last:
                x = torch.relu(x)
        return x
        # END SOLUTION


def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable scalar parameters of `model` as a Python int.

    Count the elements of every parameter with requires_grad=True (frozen parameters,
    requires_grad=False, do not count; buffers are not parameters). MyNetwork() has 2800.
    """
    # BEGIN SOLUTION
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
    # END SOLUTION


def make_optimizer(model: nn.Module, lr: float = 0.01, momentum: float = 0.9) -> torch.optim.SGD:
    """Return torch.optim.SGD over exactly `model`'s parameters, with this lr and momentum.

    Pass `model.parameters()` (all of them, in one parameter group); the optimizer's
    param_groups[0] then has "lr" == lr and "momentum" == momentum.
    """
    # BEGIN SOLUTION
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    # END SOLUTION


def train(
    model: nn.Module,
    X: Tensor,
    Y: Tensor,
    epochs: int = 100,
    lr: float = 0.01,
    device: torch.device | str | None = None,
) -> list[float]:
    """Train `model` in place on (X, Y) by full-batch gradient descent; return the losses.

    - Device: with `device=None`, use the device the model's parameters are on (and bring X
      and Y there). Otherwise move the model to `device` (a module moves in place; it stays
      there afterwards) and use copies of X and Y on `device`. X and Y themselves are not
      modified or moved.
    - Optimizer: exactly `make_optimizer(model, lr)` (SGD with its default momentum),
      created once, after the model is on its device. Loss: mean squared error
      (nn.MSELoss()); X is (N, in), Y is the target, with the shape of the model's output.
    - Each epoch, in this order: zero the gradients, forward pass on all of X, loss,
      append loss.item(), backward, optimizer step.

    Returns a list of `epochs` Python floats (the loss before each step).
    """
    # BEGIN SOLUTION
    if device is not None:
        model.to(device)
    else:
        first = next(model.parameters(), None)
        device = first.device if first is not None else X.device
    X = X.to(device)
    Y = Y.to(device)
    optimizer = make_optimizer(model, lr)
    loss_fn = nn.MSELoss()
    model.train()
    losses: list[float] = []
    for _ in range(epochs):
        optimizer.zero_grad()
        pred = model(X)
        loss = loss_fn(pred, Y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses
    # END SOLUTION


def save_model(model: nn.Module, path: str | os.PathLike) -> None:
    """Save `model.state_dict()` (the weights only, not the module object) to `path`.

    The file must load with `torch.load(path, weights_only=True)`.
    """
    # BEGIN SOLUTION
    torch.save(model.state_dict(), path)
    # END SOLUTION


def load_model(path: str | os.PathLike) -> MyNetwork:
    """Build a new MyNetwork on the CPU and load the state_dict saved at `path` into it.

    Read the file with `torch.load`, with `weights_only=True` and a `map_location` that puts
    every tensor on the CPU (so a file saved from a GPU model also loads on a CPU-only
    machine), then `load_state_dict`.
    Returns the model, whose outputs equal those of the model that was saved.
    """
    # BEGIN SOLUTION
    model = MyNetwork()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model
    # END SOLUTION


def snapshot(model: nn.Module) -> dict[str, Tensor]:
    """Return a copy of `model.state_dict()` that later training does not change.

    Same keys, and for each a tensor with the value, shape, dtype and device it has now,
    detached and stored in its own memory (a clone), so that training or modifying the
    model afterwards leaves the snapshot unchanged. `model` is not modified.
    """
    # BEGIN SOLUTION
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    # END SOLUTION
