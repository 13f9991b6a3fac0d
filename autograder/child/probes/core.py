"""Probes every assignment uses: call one function and report what happened around the call."""

from __future__ import annotations

import torch

# Characters of an exception's message sent back. Generous: the grading side quotes what it needs
# (and shortens it at a sentence end, with results.shorten); the wire caps strings anyway.
MESSAGE_LIMIT = 2000


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
    """Call `student.<name>(*args, **kwargs)` and report what the grader needs to judge it.

    Returns {"value", "args_after", "rng_after"}: the value; the arguments as they are after
    the call (in the same reply as the value, so the memory they share arrives shared: see
    `autograder.wire`); the global torch RNG state afterwards. Nothing here is a verdict: the
    grader decides "is argument i", "shares memory" and "changed the RNG" from these
    observations (it knows the state the RNG was seeded to before the call).
    """
    function = attribute(student, name)
    value = function(*args, **(kwargs or {}))
    return {"value": value, "args_after": list(args), "rng_after": torch.get_rng_state()}


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
            outcomes.append({"error": [type(error).__qualname__, message(error)]})
    return outcomes


def message(error: BaseException) -> str:
    """`str(error)`, at most MESSAGE_LIMIT characters, with " ..." marking a cut."""
    try:
        text = str(error)
    except Exception:  # noqa: BLE001 - a hostile __str__
        return "<message could not be read>"
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " ..."
