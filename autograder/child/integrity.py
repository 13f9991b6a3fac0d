"""Whether the kit's code in the student's process is still the code we shipped.

Probes run in the student's process, next to code that can change anything there: replace a
probe helper (`core.call = forged`), swap a function's `__code__`, patch `torch.get_rng_state`
or a method of `torch.Tensor`, put a fake module in `sys.modules`. `Snapshot()`, taken by the
child right before the submission's first statement, records what our observations rely on:

  * every module of the kit (`autograder.*`, and the child's `__main__`): each attribute, each
    function's `__code__`, `__defaults__` and `__kwdefaults__`, each class's `__dict__`, and the
    items of module-level lists, dicts and sets; also which module `sys.modules` maps its name to
    (and that no stand-in appears under an `autograder` name);
  * the third-party and built-in namespaces probes call into (`WATCHED`): each attribute, and
    the code and defaults of their Python functions (additions there are not tampering: torch
    loads submodules lazily);
  * global hooks that would intercept every torch operation or every line: torch function and
    dispatch modes, `sys.settrace`, `sys.setprofile`.

`restore()` compares the present with the snapshot, puts back whatever changed (a hook it
cannot undo stays reported) and returns the changed names, e.g. ["autograder.child.probes.core.call",
"torch.get_rng_state"]. The child calls it after loading the submission and before and after
every call, and sends the names to the grader (`autograder.child.main`). It costs about a
millisecond a call. It is not a sandbox: code that rewrites memory with ctypes can hide from it;
it makes forging an observation a deliberate act that the instructor sees.
"""

from __future__ import annotations

import os
import sys
import types
from operator import attrgetter, is_not

KIT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep   # the autograder package
# Namespaces (module, or module:Class) whose attributes the probes rely on.
WATCHED = ("builtins", "torch", "torch:Tensor", "torch.nn:Module", "torch.nn:Linear", "torch.nn:Parameter",
           "torch.nn.functional", "torch.autograd", "torch.autograd:Function", "torch.autograd.graph",
           "torch.autograd.function", "torch.serialization", "numpy", "importlib")
# Not watched: torch.optim's classes. torch wraps an optimizer class's `step` when its first
# instance is made, and making one early would import torch._dynamo (seconds) in every child.
_MISSING = object()


def _namespace(spec: str):
    module_name, _, class_name = spec.partition(":")
    module = sys.modules.get(module_name)
    return getattr(module, class_name, None) if class_name and module is not None else module


def _is_kit(module) -> bool:
    file = getattr(module, "__file__", None) if isinstance(module, types.ModuleType) else None
    return isinstance(file, str) and os.path.abspath(file).startswith(KIT)


def _kit_modules() -> dict[str, types.ModuleType]:
    return {name: module for name, module in list(sys.modules.items()) if _is_kit(module)}


class _Watch:
    """One namespace: its attributes, and the parts of its functions that can be swapped."""

    def __init__(self, label: str, owner, kit: bool) -> None:
        self.label, self.owner, self.kit = label, owner, kit
        self.items = dict(vars(owner))
        self.names, self.values = tuple(self.items), tuple(self.items.values())
        functions = [v for v in self.values if type(v) is types.FunctionType]
        self.functions = tuple(functions)
        self.parts = tuple(_parts(f) for f in functions)
        self.getters = [(attrgetter(part), tuple(getattr(f, part) for f in functions)) for part in _PARTS]
        self.containers = {name: _contents(value) for name, value in self.items.items()
                           if kit and type(value) in (list, dict, set) and name != "__builtins__"}
        self.classes = [_Watch(f"{label}.{name}", value, kit) for name, value in self.items.items()
                        if kit and isinstance(value, type) and getattr(value, "__module__", None) == owner.__name__] \
            if isinstance(owner, types.ModuleType) else []

    def unchanged(self) -> bool:
        """The quick test (C-level comparisons of identities); `restore` says what changed."""
        current = vars(self.owner)
        return (not any(map(is_not, map(current.get, self.names), self.values))
                and (not self.kit or len(current) == len(self.names))
                and not any(any(map(is_not, map(get, self.functions), kept)) for get, kept in self.getters)
                and all(_contents(self.items[name]) == contents for name, contents in self.containers.items()))

    def restore(self) -> list[str]:
        found = [] if self.unchanged() else [f"{self.label}.{name}" for name in self._put_back()]
        for watch in self.classes:
            found += watch.restore()
        return found

    def _put_back(self) -> list[str]:
        changed = []
        current = vars(self.owner)
        for name, value in self.items.items():
            if current.get(name, _MISSING) is not value:
                changed.append(name)
                self._set(name, value)
        if self.kit:
            for name in [n for n in current if n not in self.items]:
                changed.append(name)
                self._delete(name)
        for function, parts in zip(self.functions, self.parts):
            if any(map(is_not, _parts(function), parts)):
                changed.append(function.__name__)
                function.__code__, function.__defaults__, function.__kwdefaults__ = parts
        for name, contents in self.containers.items():
            if _contents(self.items[name]) != contents:
                changed.append(name)
                _refill(self.items[name], contents)
        return list(dict.fromkeys(changed))

    def _set(self, name, value) -> None:
        try:
            setattr(self.owner, name, value)
        except (AttributeError, TypeError):
            pass

    def _delete(self, name) -> None:
        try:
            delattr(self.owner, name)
        except (AttributeError, TypeError):
            pass


_PARTS = ("__code__", "__defaults__", "__kwdefaults__")


def _parts(function) -> tuple:
    return function.__code__, function.__defaults__, function.__kwdefaults__


def _contents(value) -> tuple:
    """The identities of a container's items (a dict's keys and values), to see them change."""
    if type(value) is dict:
        return tuple((id(k), id(v)) for k, v in value.items()), dict(value)
    return tuple(id(v) for v in value), list(value)


def _refill(value, contents) -> None:
    kept = contents[1]
    value.clear()
    if type(value) is dict:
        value.update(kept)
    elif type(value) is list:
        value.extend(kept)
    else:
        value.update(kept)


def _hooks() -> list[str]:
    """Global hooks that intercept what probes do; none is set while the kit runs."""
    import torch

    found = []
    for label, length in (("a torch function mode", "_len_torch_function_stack"),
                          ("a torch dispatch mode", "_len_torch_dispatch_stack")):
        counter = getattr(torch._C, length, None)
        if counter is not None and counter() > 0:
            found.append(label)
    if sys.gettrace() is not None:
        found.append("sys.settrace")
    if sys.getprofile() is not None:
        found.append("sys.setprofile")
    return found


class Snapshot:
    """What the kit's observations rely on, as it was when taken; see the module docstring."""

    def __init__(self) -> None:
        self.modules = _kit_modules()
        self.imported = frozenset(sys.modules)   # new names since are found by a C-level difference
        self.watches = [_Watch(name, module, kit=True) for name, module in self.modules.items()]
        for spec in WATCHED:
            owner = _namespace(spec)
            if owner is not None:
                self.watches.append(_Watch(spec.replace(":", "."), owner, kit=False))

    def restore(self) -> list[str]:
        """Put back whatever changed since the snapshot; the names of what did (sorted)."""
        changed = []
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                changed.append(f"sys.modules[{name!r}]")
                sys.modules[name] = module
        added = sys.modules.keys() - self.imported
        for name in [n for n in added if n.startswith("autograder") and n not in self.modules]:
            if not _is_kit(sys.modules[name]):   # a stand-in for a kit module not imported yet
                changed.append(f"sys.modules[{name!r}]")
                del sys.modules[name]
        for watch in self.watches:
            changed += watch.restore()
        changed += _hooks()
        return sorted(set(changed))
