"""Checks that graders use, in the order type → dtype → shape → values → behaviour.

Each check raises `GradingFailure` with a message a student can act on: what was expected, what
they returned, and (via `hint`) the likely mistake. Inputs and expected values go only into
`details`, which hidden tests do not show. Every check works on plain data the grader got
back from the student's process (observations, never verdicts made there) or on the
submission's source; none of them calls student code.
"""

from __future__ import annotations

import ast
import collections

import numpy as np
import torch

from autograder.session.hints import Hint
from autograder.session.student import Call, GradingFailure, Student
from autograder.wire import Opaque

# Tolerances per dtype: (rtol, atol). Float32 results of a correct solution differ from the
# reference only by reduction order; anything a real mistake produces is far larger.
TOLERANCES = {
    torch.float16: (1e-3, 1e-3), torch.bfloat16: (1.6e-2, 1e-2),
    torch.float32: (1e-5, 1e-6), torch.float64: (1e-9, 1e-12),
    torch.complex64: (1e-5, 1e-6), torch.complex128: (1e-9, 1e-12),
}

DTYPE_HINTS = {
    (torch.float32, torch.float64): "float64 usually comes from NumPy arrays or Python floats "
                                    "turned into tensors with dtype=torch.float64; use torch.float32.",
    (torch.float32, torch.int64): "Integer data gives an int64 tensor; pass dtype=torch.float32 "
                                  "or use float literals such as 1.0.",
    (torch.int64, torch.float32): Hint("torch.tensor(...) of Python ints keeps them as int64; "
                                       "torch.Tensor(...) and float literals give float32.", "checks.int64"),
}


def type_name(value: object) -> str:
    if isinstance(value, Opaque):
        return value.type_name
    kind = type(value)
    if value is None:
        return "None"
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module.split('.')[0]}.{kind.__qualname__}"


def fail(message: str, *, hint: str | None = None, details: str | None = None):
    raise GradingFailure(message, hint=hint, details=details)


def that(condition: bool, message: str, *, hint: str | None = None, details: str | None = None) -> None:
    if not condition:
        fail(message, hint=hint, details=details)


# ---------------------------------------------------------------- types

def is_tensor(value: object, name: str, what: str = "the result") -> torch.Tensor:
    """`value` must be a plain torch.Tensor (subclasses and look-alikes are refused)."""
    if type(value) is torch.Tensor:
        return value
    got = type_name(value)
    hint = None
    if "subclass of torch.Tensor" in got or "Parameter" in got:
        hint = "Return a plain tensor, e.g. `t.detach()` of a parameter; subclasses are not accepted."
    elif got == "numpy.ndarray":
        hint = "Convert with torch.from_numpy(...) or build the result with torch operations."
    elif got in ("list", "tuple"):
        hint = "Build a tensor, e.g. with torch.tensor(...) or torch.stack(...)."
    fail(f"{name} returned {article(got)} as {what}; expected a torch.Tensor.", hint=hint)


def is_type(value: object, expected: type, name: str, what: str = "the result", hint: str | None = None):
    """`value` must be exactly of type `expected` (int, float, tuple, ...)."""
    if type(value) is not expected:
        fail(f"{name} returned {article(type_name(value))} as {what}; expected {article(expected.__name__)}.",
             hint=hint)
    return value


def _as(what: str) -> str:
    return "" if what == "the result" else f" as {what}"


def _in(what: str) -> str:
    return "" if what == "the result" else f" in {what}"


def article(noun: object) -> str:
    """'a Linear', 'an Adam', 'None'."""
    noun = str(noun)
    return noun if noun == "None" else ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


# ---------------------------------------------------------------- tensors

def tensor(value: object, expected: torch.Tensor, *, name: str, what: str = "the result",
           rtol: float | None = None, atol: float | None = None, hint: str | None = None,
           shape_hint: str | None = None, dtype_hint: str | None = None) -> torch.Tensor:
    """`value` must be a plain tensor with `expected`'s dtype, shape, device and values."""
    got = is_tensor(value, name, what)
    dtype(got, expected.dtype, name=name, what=what, hint=dtype_hint)
    shape(got, tuple(expected.shape), name=name, what=what, hint=shape_hint)
    if got.device.type != expected.device.type:
        fail(f"{name} returned a tensor on device {got.device}{_as(what)}; expected {expected.device.type}.")
    values(got, expected, name=name, what=what, rtol=rtol, atol=atol, hint=hint)
    return got


def dtype(got: torch.Tensor, expected: torch.dtype, *, name: str, what: str = "the result",
          hint: str | None = None) -> None:
    if got.dtype != expected:
        fail(f"{name} returned a tensor of dtype {got.dtype}{_as(what)}; expected {expected}.",
             hint=hint or DTYPE_HINTS.get((expected, got.dtype)))


def shape(got: torch.Tensor, expected: tuple, *, name: str, what: str = "the result",
          hint: str | None = None) -> None:
    if tuple(got.shape) != tuple(expected):
        fail(f"{name} returned a tensor of the wrong shape{_as(what)}.", hint=hint,
             details=f"got shape {tuple(got.shape)}, expected {tuple(expected)}")


def values(got: torch.Tensor, expected: torch.Tensor, *, name: str, what: str = "the result",
           rtol: float | None = None, atol: float | None = None, hint: str | None = None) -> None:
    got, expected = got.detach().cpu(), expected.detach().cpu()
    if got.numel() == 0:
        return
    if not (expected.dtype.is_floating_point or expected.dtype.is_complex):
        wrong = got != expected
    else:
        default_rtol, default_atol = TOLERANCES.get(expected.dtype, (1e-5, 1e-6))
        rtol = default_rtol if rtol is None else rtol
        atol = default_atol if atol is None else atol
        if not torch.isfinite(got).all() and torch.isfinite(expected).all():
            fail(f"{name} returned NaN or infinity{_in(what)}.", hint=hint)
        wrong = ~torch.isclose(got, expected.to(got.dtype), rtol=rtol, atol=atol, equal_nan=True)
    if wrong.any():
        fail(f"{name} returned the wrong values{_in(what)}.", hint=hint,
             details=_difference(got, expected, wrong))


def _difference(got: torch.Tensor, expected: torch.Tensor, wrong: torch.Tensor) -> str:
    count = int(wrong.sum())
    index = tuple(int(i) for i in (wrong.nonzero()[0] if wrong.dim() else ()))
    text = f"{count} of {wrong.numel()} values differ"
    if index or wrong.dim() == 0:
        text += f"; first at index {index}: got {got[index].item()!r}, expected {expected[index].item()!r}"
    return text


# ---------------------------------------------------------------- numbers

def python_int(value: object, expected: int, *, name: str, what: str = "the result") -> None:
    if type(value) is not int:
        hint = "Convert a 0-d tensor with .item()." if type(value) is torch.Tensor else None
        fail(f"{name} returned {article(type_name(value))} as {what}; expected a Python int.", hint=hint)
    if value != expected:
        fail(f"{name} returned the wrong number as {what}.", details=f"got {value}, expected {expected}")


def python_float(value: object, expected: float, *, name: str, what: str = "the result",
                 rel: float = 1e-6, abs_: float = 1e-9, hint: str | None = None) -> None:
    if type(value) is not float:
        extra = "Convert a 0-d tensor with .item()." if type(value) is torch.Tensor else None
        fail(f"{name} returned {article(type_name(value))} as {what}; expected a Python float.", hint=extra)
    if not abs(value - expected) <= max(abs_, rel * abs(expected)):
        fail(f"{name} returned the wrong number as {what}.", hint=hint,
             details=f"got {value!r}, expected {expected!r}")


# ---------------------------------------------------------------- behaviour

def raises(call: Call, expected_type: str, *, name: str, when: str, hint: str | None = None) -> None:
    """The call must have raised `expected_type` (by class name)."""
    error = call.raised()
    if error is None:
        fail(f"{name} did not raise {expected_type} {when}.", hint=hint)
    if error.type != expected_type:
        fail(f"{name} raised {error.type} instead of {expected_type} {when}.", hint=hint,
             details=str(error))


def inputs_unchanged(call: Call, originals: list, *, name: str) -> None:
    """No argument may be modified by the call."""
    for position, (before, after) in enumerate(zip(originals, call.args_after)):
        if not same_data(before, after):
            fail(f"{name} modified its input {_argument(call, position)}.",
                 hint=Hint("Do not change the tensors you are given: use out-of-place operations "
                           "(not +=, not the methods ending in _), or work on a .clone().",
                           "checks.inputs_unchanged"))


def _argument(call: Call, position: int) -> str:
    """`w` when the function's parameters are known, else "(argument 2)"."""
    names = call.parameters
    return f"`{names[position]}`" if position < len(names) else f"(argument {position + 1})"


MAX_COMPARED = 10_000   # containers and items that one `same_data` looks at


def same_data(got: object, expected: object) -> bool:
    """Whether `got` (from the student's process) holds the same data as `expected`.

    Structural, never `==` on containers: exact types first, tensors and arrays compared only
    when dtype and shape match, containers item by item; at most MAX_COMPARED items are looked
    at (a larger value is not the same). A student's value can make this False, never slow."""
    return _same(got, expected, [MAX_COMPARED], 0)


def _same(a: object, b: object, budget: list, depth: int) -> bool:
    budget[0] -= 1
    kind = type(a)
    if budget[0] < 0 or depth > 64 or kind is not type(b):
        return False
    if kind is torch.Tensor:
        if a.dtype != b.dtype or a.shape != b.shape or a.device.type != b.device.type:
            return False
        return a.device.type == "meta" or bool(torch.equal(a.detach().cpu(), b.detach().cpu()))
    if kind is np.ndarray:
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if kind in (list, tuple, torch.Size):
        return len(a) == len(b) and all(_same(x, y, budget, depth + 1) for x, y in zip(a, b))
    if kind is collections.OrderedDict:
        return _same(list(a.items()), list(b.items()), budget, depth + 1)
    if kind is dict:   # order does not matter; keys are decoded plain values (hashed by us)
        if len(a) != len(b):
            return False
        mine = {(type(k), k): v for k, v in a.items()}
        return all((type(k), k) in mine and _same(mine[type(k), k], v, budget, depth + 1) for k, v in b.items())
    if kind is float or kind is complex:
        return a == b or (a != a and b != b)   # NaN is the same as NaN
    if kind in (type(None), bool, int, str, bytes, torch.dtype, torch.device) or isinstance(a, np.generic):
        return bool(a == b)
    return False


def rng_untouched(call: Call, *, name: str) -> None:
    if call.rng_changed:
        fail(f"{name} changed the global random number generator.",
             hint=Hint("Draw from your own torch.Generator seeded with the seed, passing generator= "
                       "to every draw; torch.manual_seed changes everyone's random numbers.",
                       "checks.rng_untouched"))


# ---------------------------------------------------------------- source structure

LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def no_loops(student: Student, function: str, *, hint: str | None = None) -> None:
    """Neither the function nor any helper of the submission it reaches (`autograder.submission.reach`)
    may contain a Python loop or comprehension."""
    for helper, node, _ in student.reach(function).definitions:
        for inner in ast.walk(node):
            if isinstance(inner, LOOPS):
                kind = "a comprehension" if "Comp" in type(inner).__name__ or isinstance(
                    inner, ast.GeneratorExp) else f"a `{type(inner).__name__.lower()}` loop"
                in_helper = f" in its helper `{helper}`" if helper else ""
                fail(f"{function} uses {kind}{in_helper} ({student.where(inner.lineno)}); this function must "
                     "work without Python loops.", hint=hint)


def pure_python(student: Student, function: str, *, task: str = "its result", hint: str | None = None) -> None:
    """Neither the function nor what it reaches may use a module outside the standard library,
    whatever name it goes by (`import torch as T`, `from torch import tensor`, `__import__`)."""
    used = student.reach(function).outside_standard_library()
    if used:
        module, use = next(iter(used.items()))
        others = sorted(set(used) - {module})
        also = f" (and {', '.join(others)})" if others else ""
        fail(f"{function} uses {module}{also}: {use.describe(student.where)}; it must compute {task} in pure "
             "Python (the standard library only).", hint=hint)
