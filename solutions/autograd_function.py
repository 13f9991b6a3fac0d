"""Assignment 3: custom autograd Functions. Fill in every method below; see handout.md.

Each class is a subclass of `torch.autograd.Function` with a static `forward(ctx, ...)`
and a static `backward(ctx, grad_output)`, and is used through `.apply`, never by calling
`forward` or creating an instance: `y = Square.apply(x)`. Rules that hold for every class:

- Tensors that `backward` needs are saved in `forward` with `ctx.save_for_backward(...)`
  and read back with `ctx.saved_tensors`; never store a tensor as an attribute of `ctx`
  (`ctx.x = x`). Non-tensor values (such as the float `k` of `ScaleBy`) may be stored as
  attributes of `ctx`.
- `backward` receives `grad_output` = dL/d(output), with the shape of the output, and
  multiplies its local derivative by it (the chain rule).
- `backward` returns one gradient per input of `forward`, in the same order, each with
  exactly the shape of that input; `None` for an input that is not a tensor.
- No method modifies its inputs (`x`, `grad_output`, ...); build new tensors instead.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx
# BEGIN SOLUTION


def _sum_to_shape(grad: Tensor, shape: torch.Size) -> Tensor:
    """Sum `grad` over the dimensions that broadcasting added or stretched, giving `shape`."""
    extra = grad.dim() - len(shape)
    if extra > 0:  # dimensions that broadcasting added in front
        grad = grad.sum(dim=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if stretched:  # dimensions of size 1 that broadcasting repeated
        grad = grad.sum(dim=stretched, keepdim=True)
    return grad.reshape(shape)
# END SOLUTION


class Square(torch.autograd.Function):
    """y = x ** 2, elementwise, with a hand-written backward.

    Usage: `y = Square.apply(x)` for a float tensor `x` of any shape; `y` has the shape and
    dtype of `x`, and `y.grad_fn` is a `SquareBackward` node.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor) -> Tensor:
        """Return x ** 2 (a new tensor, shape and dtype of `x`).

        Save `x` with `ctx.save_for_backward` (exactly one saved tensor); `x` is not modified.
        """
        # BEGIN SOLUTION
        ctx.save_for_backward(x)
        return x**2
        # END SOLUTION

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> Tensor:
        """Return dL/dx = 2 * x * grad_output, with the shape of `x`.

        `grad_output` is dL/dy (shape of `x`); read `x` back from `ctx.saved_tensors`.
        """
        # BEGIN SOLUTION
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output
        # END SOLUTION


class Sigmoid(torch.autograd.Function):
    """y = 1 / (1 + exp(-x)), elementwise, with a backward computed from the OUTPUT.

    Usage: `y = Sigmoid.apply(x)` for a float tensor `x` of any shape; `y` has the shape and
    dtype of `x`, and `y.grad_fn` is a `SigmoidBackward` node.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor) -> Tensor:
        """Return 1 / (1 + exp(-x)) (a new tensor, shape and dtype of `x`).

        Save the OUTPUT (not `x`) with `ctx.save_for_backward`: exactly one saved tensor.
        `x` is not modified.
        """
        # BEGIN SOLUTION
        out = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> Tensor:
        """Return dL/dx = grad_output * y * (1 - y), where y is the saved output.

        The result has the shape of `x`. Use only the saved output, not `x`.
        """
        # BEGIN SOLUTION
        (out,) = ctx.saved_tensors
        return grad_output * out * (1 - out)
        # END SOLUTION


class IHateThrees(torch.autograd.Function):
    """Elementwise: every entry of `x` equal to 3 becomes 0, the others stay as they are.

    Its gradient is 1 (times grad_output) where x != 3 and 0 where x == 3. Works on float
    tensors of any shape, including 0-D: no Python `if` on tensor values, no loops.
    Usage: `y = IHateThrees.apply(x)`; `y.grad_fn` is an `IHateThreesBackward` node.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor) -> Tensor:
        """Return a NEW tensor equal to `x` except that entries equal to 3 are 0.

        Shape and dtype of `x`; `x` is not modified. Save what backward needs (for example
        `x`) with `ctx.save_for_backward`.
        """
        # BEGIN SOLUTION
        ctx.save_for_backward(x)
        return torch.where(x == 3, torch.zeros_like(x), x)
        # END SOLUTION

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> Tensor:
        """Return `grad_output` with 0 at every entry where the input was 3.

        Shape of `x`; `grad_output` itself is not modified (build a new tensor).
        """
        # BEGIN SOLUTION
        (x,) = ctx.saved_tensors
        return torch.where(x == 3, torch.zeros_like(grad_output), grad_output)
        # END SOLUTION


class RoundSTE(torch.autograd.Function):
    """Rounding with a straight-through estimator.

    Forward rounds to the nearest integer (`torch.round`, halves to even); backward
    pretends the function was the identity and passes the gradient through unchanged.
    Usage: `y = RoundSTE.apply(x)` for a float tensor `x` of any shape.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor) -> Tensor:
        """Return torch.round(x) (a new float tensor, shape and dtype of `x`).

        Backward needs nothing, so nothing has to be saved. `x` is not modified.
        """
        # BEGIN SOLUTION
        return torch.round(x)
        # END SOLUTION

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> Tensor:
        """Return `grad_output` unchanged (same values and shape): dL/dx = dL/dy."""
        # BEGIN SOLUTION
        return grad_output
        # END SOLUTION


class MulAdd(torch.autograd.Function):
    """out = x * w + b, where `w` and `b` are float tensors that broadcast against `x`.

    Examples of shapes: x (N, n), w (1, n) or (n,), b (n,) or 0-D; the output has the
    broadcast shape of the three. Usage: `out = MulAdd.apply(x, w, b)`.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        """Return x * w + b (a new tensor with the broadcast shape of x, w and b).

        Save the tensors backward needs with `ctx.save_for_backward`. Inputs are not modified.
        """
        # BEGIN SOLUTION
        ctx.save_for_backward(x, w, b)
        return x * w + b
        # END SOLUTION

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Return (dL/dx, dL/dw, dL/db) with EXACTLY the shapes of x, w and b.

        `grad_output` has the broadcast (output) shape. Where broadcasting added a
        dimension or stretched a size-1 dimension of an input, that input's gradient is
        summed over the dimension: e.g. x (4, 3), w (1, 3), b (3,) give gradients of shapes
        (4, 3), (1, 3) and (3,); a 0-D b gets a 0-D gradient. A small helper function of
        your own that sums a gradient down to a given shape keeps this short (handout.md).
        """
        # BEGIN SOLUTION
        x, w, b = ctx.saved_tensors
        grad_x = _sum_to_shape(grad_output * w, x.shape)
        grad_w = _sum_to_shape(grad_output * x, w.shape)
        grad_b = _sum_to_shape(grad_output, b.shape)
        return grad_x, grad_w, grad_b
        # END SOLUTION


class ScaleBy(torch.autograd.Function):
    """out = x * k for a float tensor `x` and a Python float `k` (not a tensor).

    Usage: `out = ScaleBy.apply(x, 2.5)`; out has the shape and dtype of `x`.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, k: float) -> Tensor:
        """Return x * k (a new tensor, shape and dtype of `x`).

        `k` is not a tensor: keep it as an attribute of `ctx` for backward; nothing needs
        `save_for_backward`. `x` is not modified.
        """
        # BEGIN SOLUTION
        ctx.k = k
        return x * k
        # END SOLUTION

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> tuple[Tensor, None]:
        """Return (grad_output * k, None): one entry per forward input, None for `k`."""
        # BEGIN SOLUTION
        return grad_output * ctx.k, None
        # END SOLUTION
