"""Probes every assignment uses: call one function and report what happened around the call."""

from __future__ import annotations

import numpy as np
import torch


class MissingName(Exception):
    """The submission does not define a name the assignment requires."""


def attribute(student, name: str):
    """`student.<name>`, with a clear error when the submission does not define it."""
    if student is None:
        raise MissingName("the submission was not imported")
    try:
        return getattr(student, name)
    except AttributeError:
        raise MissingName(name) from None


def call(student, name: str, args: tuple = (), kwargs: dict | None = None) -> dict:
    """Call `student.<name>(*args, **kwargs)` and describe the result and the arguments after it.

    Returns {"value", "args_after", "is_arg", "shares_memory", "rng_changed"}: the value, the
    arguments as they are after the call, whether the value *is* argument i (same object),
    whether it shares memory with argument i, and whether the global torch RNG state changed.
    """
    function = attribute(student, name)
    rng_before = torch.get_rng_state()
    value = function(*args, **(kwargs or {}))
    return {
        "value": value,
        "args_after": list(args),
        "is_arg": [value is arg for arg in args],
        "shares_memory": [shares_memory(value, arg) for arg in args],
        "rng_changed": not torch.equal(rng_before, torch.get_rng_state()),
    }


def shares_memory(a, b) -> bool:
    """Whether two tensors/arrays overlap in memory (False for anything else)."""
    views = [_as_numpy_view(x) for x in (a, b)]
    if any(v is None for v in views):
        return False
    return bool(np.shares_memory(*views))


def _as_numpy_view(x):
    if type(x) is np.ndarray:
        return x
    if type(x) is torch.Tensor and x.device.type == "cpu" and x.layout == torch.strided:
        try:
            return x.detach().resolve_conj().resolve_neg().numpy()
        except (RuntimeError, TypeError):
            return None
    return None


def call_many(student, name: str, arg_lists: list) -> list:
    """Call `student.<name>(*args)` for each args tuple; one reply for many small cases.

    Each entry is {"value": ...} or {"error": [type name, message]}."""
    function = attribute(student, name)
    outcomes = []
    for args in arg_lists:
        try:
            outcomes.append({"value": function(*args)})
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - the student's exception is the data here
            outcomes.append({"error": [type(error).__qualname__, _message(error)]})
    return outcomes


def _message(error: BaseException) -> str:
    try:
        return str(error)[:300]
    except Exception:  # noqa: BLE001 - a hostile __str__
        return "<message could not be read>"
