"""Assignment 1: tensors. Fill in every function below; see handout.md. You practise
PyTorch's core data structure: creating tensors (with a seeded generator), reading their
shape, moving data between NumPy and PyTorch, broadcasting arithmetic, matrix products and
the shape rules of `torch.matmul`, views versus copies, in-place versus out-of-place
operations, indexing, and choosing and moving to a device. Every function must leave its
inputs unchanged unless its docstring says otherwise, and return plain tensors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor


def make_tensors(seed: int = 42) -> dict[str, Tensor]:
    """Create the tensors of the handout's "creating tensors" section and return them in a dict.

    The dict has exactly these keys:

    - "from_list":   the list [[1, 2], [3, 4]] as an int64 tensor, shape (2, 2).
    - "zeros":       float32 zeros, shape (2, 3).
    - "ones":        float32 ones, shape (3, 2).
    - "arange":      the int64 integers 0, 1, 2, 3, 4, 5, shape (6,).
    - "float_range": float32 [0.0, 0.25, 0.5, 0.75], shape (4,).
    - "rand":        torch.rand(2, 3, 4, generator=g), drawn FIRST, and then
    - "randn":       torch.randn(3, generator=g), drawn SECOND,
                     where g is ONE torch.Generator seeded with `seed`.
    - "zeros_like":  zeros with the shape and dtype of "from_list" (int64, (2, 2)).

    Must not change the global random state: do not call torch.manual_seed, and do not draw
    random numbers without `generator=g`.
    """
    g = torch.Generator().manual_seed(seed)
    rand = torch.rand(2, 3, 4, generator=g)
    randn = torch.randn(3, generator=g)
    from_list = torch.tensor([[1, 2], [3, 4]])
    return {
        "from_list": from_list,
        "zeros": torch.zeros(2, 3),
        "ones": torch.ones(3, 2),
        "arange": torch.arange(6),
        "float_range": torch.arange(0.0, 1.0, 0.25),
        "rand": rand,
        "randn": randn,
        "zeros_like": torch.zeros_like(from_list),
    }


def describe(t: Tensor) -> tuple[tuple[int, ...], int, int]:
    """Return `(shape, ndim, numel)` for the tensor `t`.

    - shape: the shape as a tuple of Python ints, e.g. (2, 3, 4); () for a 0-D tensor.
    - ndim:  the number of dimensions as a Python int (3 for shape (2, 3, 4)).
    - numel: the number of elements as a Python int (24 for shape (2, 3, 4)).

    `t` is not modified.
    """
    return tuple(t.shape), t.dim(), t.numel()


def shared_from_numpy(a: np.ndarray) -> Tensor:
    """Return a tensor that SHARES memory with the NumPy array `a`.

    Writing into `a` afterwards must change the tensor (and the other way round). The
    tensor has `a`'s shape and the matching dtype (float64 stays float64, int32 stays int32).
    """
    return torch.from_numpy(a)


def copied_from_numpy(a: np.ndarray) -> Tensor:
    """Return a tensor with the values, shape and dtype of `a` that does NOT share memory with it.

    Writing into `a` afterwards must not change the tensor.
    """
    return torch.tensor(a)


def to_numpy(t: Tensor) -> np.ndarray:
    """Return the values of `t` as a NumPy array with the same shape and matching dtype.

    Must work when `t` requires grad and when `t` is on a GPU. `t` is not modified (and
    does not stop requiring grad).
    """
    return t.detach().cpu().numpy()


def add(x: Tensor, y: Tensor) -> Tensor:
    """Return the elementwise sum of `x` and `y`, with broadcasting.

    Example: shapes (3, 1) and (1, 4) give shape (3, 4). `x` and `y` are not modified.
    """
    return x + y


def matmul_2d(a: Tensor, b: Tensor) -> Tensor:
    """Return the matrix product of the 2-D tensors `a` (n, k) and `b` (k, m), shape (n, m).

    Raises ValueError (not RuntimeError) if `a` or `b` is not 2-D, or if the inner sizes
    differ (a.shape[1] != b.shape[0]). `a` and `b` are not modified.
    """
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError(f"matmul_2d needs 2-D tensors, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul_2d: inner sizes differ: {tuple(a.shape)} @ {tuple(b.shape)}")
    return a @ b


def batched_matmul(a: Tensor, b: Tensor) -> Tensor:
    """Return the product of `a` and `b` with exactly the semantics of torch.matmul.

    1-D @ 1-D is a dot product (0-D result); 2-D @ 2-D is a matrix product; 1-D and 2-D
    operands mix as in torch.matmul; with more dimensions the leading (batch) dimensions
    broadcast, e.g. (5, 1, 3, 4) @ (2, 4, 6) -> (5, 2, 3, 6). `a` and `b` are not modified.
    """
    return torch.matmul(a, b)


def matmul_shape(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Return the shape torch.matmul would return for operands of shapes `a_shape` and `b_shape`.

    Pure Python: work on the tuples of ints only, no torch calls. Return a tuple of ints
    (() when the result is 0-D). The rules:

    - both 1-D, (k,) and (k,): a dot product, shape ().
    - a 1-D first operand (k,) is treated as (1, k) and that 1 is removed from the result;
      a 1-D second operand (k,) is treated as (k, 1) and that 1 is removed from the result.
    - the last two dimensions are multiplied as matrices: (n, k) @ (k, m) -> (n, m).
    - all dimensions before the last two are batch dimensions; they broadcast like in
      elementwise operations (aligned from the right, missing ones count as 1, each pair must
      be equal or contain a 1).

    Raises ValueError wherever torch.matmul would raise: a 0-D operand, mismatched inner sizes,
    or batch dimensions that do not broadcast.
    """
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    if not a_shape or not b_shape:
        raise ValueError("matmul_shape: both operands must have at least one dimension")
    a_vector, b_vector = len(a_shape) == 1, len(b_shape) == 1
    a_mat = (1,) + a_shape if a_vector else a_shape
    b_mat = b_shape + (1,) if b_vector else b_shape
    if a_mat[-1] != b_mat[-2]:
        raise ValueError(f"matmul_shape: inner sizes differ: {a_shape} @ {b_shape}")
    a_batch, b_batch = a_mat[:-2], b_mat[:-2]
    width = max(len(a_batch), len(b_batch))
    a_batch = (1,) * (width - len(a_batch)) + a_batch
    b_batch = (1,) * (width - len(b_batch)) + b_batch
    batch = []
    for m, n in zip(a_batch, b_batch)
        if m != n and m != 1 and n != 1:
            raise ValueError(f"matmul_shape: batch sizes do not broadcast: {a_shape} @ {b_shape}")
        batch.append(n if m == 1 else m)
    rows = () if a_vector else (a_mat[-2],)
    cols = () if b_vector else (b_mat[-1],)
    return tuple(batch) + rows + cols


def flatten_batch(x: Tensor) -> Tensor:
    """For `x` of shape (N, d1, ..., dk) return a tensor of shape (N, d1 * ... * dk).

    A 1-D `x` of shape (N,) gives shape (N, 1). The elements keep their order (row-major).
    When `x` is contiguous the result must be a view that shares `x`'s storage (no copy); it
    must also work when `x` is not contiguous (e.g. after .transpose), and when some sizes
    are 0. `x` is not modified.
    """
    return x.reshape(x.shape[0], x.shape[1:].numel())


def add_inplace(x: Tensor, y: Tensor) -> Tensor:
    """Add `y` into `x` IN PLACE and return `x` itself (the same object, not a copy).

    `y` must broadcast to `x`'s shape. This is the one function here that modifies an
    input: `x` changes, `y` does not.
    """
    return x.add_(y)


def add_new(x: Tensor, y: Tensor) -> Tensor:
    """Return `x + y` as a NEW tensor; `x` and `y` are unchanged."""
    return x + y


def first_row(x: Tensor) -> Tensor:
    """Return row 0 of the 2-D tensor `x` (rows, cols), shape (cols,). `x` is not modified."""
    return x[0]


def second_column(x: Tensor) -> Tensor:
    """Return column 1 of the 2-D tensor `x` (rows, cols), shape (rows,). `x` is not modified."""
    return x[:, 1]


def last_column_first_two_rows(x: Tensor) -> Tensor:
    """Return the first two entries of the last column of the 2-D tensor `x`, shape (2,).

    That is x[0, -1] and x[1, -1], in that order. `x` is not modified.
    """
    return x[:2, -1]


def count_negatives(x: Tensor) -> int:
    """Return the number of entries of `x` that are < 0, as a Python int.

    Any shape. No Python loops or comprehensions: let tensor operations do the counting.
    `x` is not modified.
    """
    return int((x < 0).sum().item())


def get_device() -> torch.device:
    """Return torch.device("cuda") when torch.cuda.is_available(), else torch.device("cpu").

    Ask torch.cuda.is_available() each time the function is called.
    """
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_device(obj: Any, device: torch.device | str) -> Any:
    """Return `obj` with every tensor in it moved to `device`.

    - a tensor: the tensor on `device` (what `.to(device)` returns).
    - a list, tuple or dict: a new container of the same type (same keys for a dict, same
      order) whose items are moved recursively, so nested containers work too.
    - anything else (numbers, strings, None, ...): returned unchanged.

    `obj` itself is not modified.
    """
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return type(obj)((key, to_device(value, device)) for key, value in obj.items())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple
        return type(obj)(*(to_device(item, device) for item in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(item, device) for item in obj)
    return obj


print(make_tensors()["float_range"])
print(matmul_2d(torch.ones(2, 3), torch.ones(3, 4)).shape)
