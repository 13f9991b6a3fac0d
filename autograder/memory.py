"""Where a tensor or array lies in memory, so that the grader decides what shares memory.

`extent(x)` is the raw geometry of a plain tensor or NumPy array (its first element's address,
element size, shape and strides in bytes). The grader *decides* from two extents:
`overlaps(a, b)` (the bytes they span intersect: one is a view of the other, or both of a
third) and `same_view(a, b)` (the same bytes in the same geometry: "x itself"). For a call's
value and arguments the grader measures the tensors it decoded (the wire keeps shared memory
shared); a few probes measure in the student's process and send extents, which tamper
detection guards (`autograder.child.integrity`). No verdict is ever computed in the student's
process, so replacing a helper there cannot turn a copy into a view.

Identity across the process boundary is geometry: a tensor and `t.view(t.shape)` are the same
view of the same memory, which is what "returns x itself" is meant to check (an in-place
operation, not a new tensor).
"""

from __future__ import annotations


def extent(x: object) -> list | None:
    """[address, element size, shape, byte strides] of a plain CPU tensor, parameter or array,
    else None (a tensor subclass may answer with anything, so it is not asked)."""
    import numpy as np   # here: importing autograder.session.plugin must not import torch
    import torch

    if type(x) is torch.Tensor or type(x) is torch.nn.Parameter:
        if x.device.type != "cpu" or x.layout != torch.strided:
            return None
        size = x.element_size()
        return [int(x.data_ptr()), size, [int(n) for n in x.shape], [int(s) * size for s in x.stride()]]
    if type(x) is np.ndarray:
        return [int(x.__array_interface__["data"][0]), int(x.itemsize), [int(n) for n in x.shape],
                [int(s) for s in x.strides]]
    return None


def _valid(e: object) -> bool:
    return (type(e) is list and len(e) == 4 and type(e[0]) is int and type(e[1]) is int and e[1] > 0
            and type(e[2]) is list and type(e[3]) is list and len(e[2]) == len(e[3])
            and all(type(n) is int and n >= 0 for n in e[2]) and all(type(s) is int for s in e[3]))


def span(e: object) -> tuple[int, int] | None:
    """The bytes [start, end) an extent covers; None for nothing (no data, or no elements)."""
    if not _valid(e) or 0 in e[2]:
        return None
    address, size, shape, strides = e
    low = address + sum(min(0, (n - 1) * s) for n, s in zip(shape, strides))
    high = address + sum(max(0, (n - 1) * s) for n, s in zip(shape, strides)) + size
    return low, high


def overlaps(a: object, b: object) -> bool:
    """Whether the bytes of two extents intersect (a view of the other, or of the same data)."""
    first, second = span(a), span(b)
    return first is not None and second is not None and first[0] < second[1] and second[0] < first[1]


def any_overlap(these: object, those: object) -> bool:
    """Whether any extent of the list `these` overlaps any of the list `those`."""
    if type(these) is not list or type(those) is not list:
        return False
    return any(overlaps(a, b) for a in these for b in those)


def same_view(a: object, b: object) -> bool:
    """The same memory in the same geometry: the object itself, as far as memory can tell."""
    return _valid(a) and _valid(b) and a == b
