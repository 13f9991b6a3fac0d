"""Probes for the `nn_module` assignment.

Student modules (`MyNetwork`, `MLP`) and optimizers cannot cross the process boundary, so
every probe builds them here, in the student's process, and returns plain observations:
state_dict tensors, shapes, type names, id-set comparisons. The grader decides.

Where a function builds on another one, the probe puts a trusted piece in its place, so that
one mistake costs only the points of the function that has it:
* `train`, `snapshot`, `save_model` and `make_optimizer` are given a `TrustedNetwork` (the
  MyNetwork architecture, written here), never the student's MyNetwork;
* `train` runs with `student.make_optimizer` replaced by `trusted_make_optimizer`;
* `load_model` runs with `student.MyNetwork` replaced by `TrustedNetwork`.
The grader imports `TrustedNetwork` and `COUNT_MODELS` from here to compute expected values.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import torch
from torch import nn

from autograder.memory import extent
from autograder.child.probes.core import attribute, message


_relu = nn.ReLU()


class TrustedNetwork(nn.Module):
    """MyNetwork as the spec defines it: Linear(20, 30) → ReLU → Linear(30, 30) → ReLU → Linear(30, 40)."""

    def __init__(self) -> None:
        super().__init__()
        self.m1 = nn.Linear(20, 30)
        self.m2 = nn.Linear(30, 30)
        self.m3 = nn.Linear(30, 40)

    def forward(self, x):
        return self.m3(_relu(self.m2(_relu(self.m1(x)))))


def trusted_make_optimizer(model, lr=0.01, momentum=0.9):
    """SGD over exactly the model's parameters, in one group."""
    params = list(model.parameters())
    return torch.optim.SGD(params, lr=lr, momentum=momentum)


def _shared_linear() -> nn.Module:
    layer = nn.Linear(3, 3)
    return nn.Sequential(layer, nn.ReLU(), layer)  # one layer used twice: its parameters count once


def _frozen(model: nn.Module, *prefixes: str) -> nn.Module:
    for name, p in model.named_parameters():
        if name.startswith(prefixes):
            p.requires_grad_(False)
    return model


# Models for count_parameters, built in the probe (the same table builds them in the grader).
COUNT_MODELS = {
    "network": lambda: TrustedNetwork(),
    "linear": lambda: nn.Linear(7, 5),
    "linear_no_bias": lambda: nn.Linear(7, 5, bias=False),
    "sequential_first_frozen": lambda: _frozen(
        nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), "0."),
    "network_m1_frozen": lambda: _frozen(TrustedNetwork(), "m1."),
    "bias_frozen": lambda: _frozen(nn.Sequential(nn.Linear(6, 4), nn.Linear(4, 2)), "0.bias", "1.bias"),
    "all_frozen": lambda: _frozen(nn.Sequential(nn.Linear(5, 5), nn.Linear(5, 1)), ""),
    "shared_layer": _shared_linear,
}


def _plain_state(model_or_dict) -> dict:
    items = model_or_dict.items() if isinstance(model_or_dict, dict) else model_or_dict.state_dict().items()
    return {k: _plain(v) for k, v in items}


def _plain(v):
    """A plain CPU copy of a tensor (a Parameter or subclass becomes a torch.Tensor)."""
    if isinstance(v, torch.Tensor):
        return v.detach().cpu().clone().as_subclass(torch.Tensor)
    return v


def _trusted(state: dict) -> TrustedNetwork:
    model = TrustedNetwork()
    model.load_state_dict(state, strict=True)   # every parameter comes from `state`
    return model


def _parameters(model: nn.Module) -> list[dict]:
    return [{"name": name, "shape": tuple(p.shape), "requires_grad": bool(p.requires_grad)}
            for name, p in model.named_parameters()]


def _children(model: nn.Module) -> list[list[str]]:
    return [[name, type(child).__name__] for name, child in model.named_children()]


def _unregistered_modules(model: nn.Module) -> list[list[str]]:
    """Attributes that are lists/tuples/dicts holding modules (invisible to .parameters())."""
    found = []
    for name, value in vars(model).items():
        items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
        kinds = [type(v).__name__ for v in items if isinstance(v, nn.Module)]
        if kinds:
            found.append([name, type(value).__name__, len(kinds)])
    return found


# ---------------------------------------------------------------- MyNetwork / MLP

def build(student, name: str, args: tuple):
    cls = attribute(student, name)
    return cls(*args)


def structure(student, name: str, args: tuple = ()) -> dict:
    """Construct `student.<name>(*args)` and describe its registered parameters and children."""
    model = build(student, name, args)
    return {
        "is_module": isinstance(model, nn.Module),
        "type": type(model).__name__,
        "parameters": _parameters(model) if isinstance(model, nn.Module) else [],
        "count": sum(p.numel() for p in model.parameters()) if isinstance(model, nn.Module) else 0,
        "children": _children(model) if isinstance(model, nn.Module) else [],
        "linear_count": sum(isinstance(m, nn.Linear) for m in model.modules()) if isinstance(model, nn.Module) else 0,
        "unregistered": _unregistered_modules(model) if isinstance(model, nn.Module) else [],
    }


def network_forward(student, state: dict, inputs: list) -> dict:
    """Build the student's MyNetwork, load `state` into it, and run forward on each input."""
    model = build(student, "MyNetwork", ())
    model.load_state_dict(state, strict=True)   # every key must match: the grader relies on it
    with torch.no_grad():
        outputs = [model(x.clone()) for x in inputs]
    return {"outputs": outputs}


def _linears_in_order(model: nn.Module) -> tuple[list, str]:
    registered = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if registered:
        return registered, "registered"
    for value in vars(model).values():
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, nn.Linear) for v in value):
            return list(value), "plain list"
    return [], "none"


def mlp_forward(student, sizes: list, layers: list, inputs: list) -> dict:
    """Build MLP(sizes), copy `layers` ([(weight, bias), ...]) into its nn.Linear layers in
    order, and run forward on each input. Layers kept in a plain list are used too (that
    mistake is graded by the structure test), so this observes the computation alone."""
    model = build(student, "MLP", (list(sizes),))
    linears, found_in = _linears_in_order(model)
    shapes = [tuple(m.weight.shape) for m in linears]
    if shapes != [tuple(w.shape) for w, _ in layers]:
        return {"found_in": found_in, "shapes": shapes, "outputs": None}
    with torch.no_grad():
        for m, (w, b) in zip(linears, layers):
            m.weight.copy_(w)
            if m.bias is not None:
                m.bias.copy_(b)
        outputs = [model(x.clone()) for x in inputs]
    return {"found_in": found_in, "shapes": shapes, "outputs": outputs}


def forward_twice(student, name: str, args: tuple, x: torch.Tensor) -> dict:
    """Forward the same input twice; report the outputs and whether the parameters changed."""
    model = build(student, name, args)
    before = [id(p) for p in model.parameters()]
    with torch.no_grad():
        first = model(x.clone())
        middle = [id(p) for p in model.parameters()]
        second = model(x.clone())
    after = [id(p) for p in model.parameters()]
    return {"first": first, "second": second, "count_before": len(before), "count_after": len(after),
            "same_parameters": before == middle == after}


# ---------------------------------------------------------------- make_optimizer

def optimizer(student, state: dict, args: tuple = (), kwargs: dict | None = None) -> dict:
    """Call make_optimizer(model, *args, **kwargs) on a trusted model; describe the optimizer."""
    make_optimizer = attribute(student, "make_optimizer")
    model = _trusted(state)
    opt = make_optimizer(model, *args, **(kwargs or {}))
    groups = getattr(opt, "param_groups", None)
    if not isinstance(opt, torch.optim.Optimizer) or not isinstance(groups, list):
        return {"type": type(opt).__name__, "is_sgd": False, "groups": None}
    model_ids = {id(p): name for name, p in model.named_parameters()}
    in_opt = [id(p) for g in groups for p in g["params"]]
    return {
        "type": type(opt).__name__,
        "is_sgd": isinstance(opt, torch.optim.SGD),
        "groups": len(groups),
        "missing": [name for pid, name in model_ids.items() if pid not in set(in_opt)],
        "foreign": sum(pid not in model_ids for pid in in_opt),
        "duplicates": len(in_opt) - len(set(in_opt)),
        "lr": [g.get("lr") for g in groups],
        "momentum": [g.get("momentum") for g in groups],
    }


# ---------------------------------------------------------------- train

def train_run(student, state: dict, X: torch.Tensor, Y: torch.Tensor, kwargs: dict,
              pretend_cuda: bool = False) -> dict:
    """Call train(model, X, Y, **kwargs) on a trusted model loaded with `state`, with
    `make_optimizer` replaced by a trusted one. With `pretend_cuda`, torch.cuda.is_available()
    answers True during the call (device=None must not look for a GPU)."""
    train = attribute(student, "train")
    model = _trusted(state)
    calls = []

    def make_optimizer(model_, lr=0.01, momentum=0.9):
        calls.append({"same_model": model_ is model, "lr": lr, "momentum": momentum})
        return trusted_make_optimizer(model_, lr, momentum)

    had = hasattr(student, "make_optimizer")
    original = getattr(student, "make_optimizer", None)
    original_available = torch.cuda.is_available
    student.make_optimizer = make_optimizer
    if pretend_cuda:
        torch.cuda.is_available = lambda: True
    try:
        losses = train(model, X, Y, **kwargs)
    finally:
        torch.cuda.is_available = original_available
        if had:
            student.make_optimizer = original
        else:
            del student.make_optimizer
    if isinstance(losses, (list, tuple)):
        losses = [v.detach().cpu() if type(v) is torch.Tensor else v for v in losses]
    return {
        "losses": losses,
        "state": _plain_state(model),
        "parameters": _where(model),
        "optimizer_calls": calls,
        "X_after": X, "Y_after": Y,
    }


# ---------------------------------------------------------------- saving and loading

def save_run(student, state: dict, as_path: bool = False) -> dict:
    """save_model(trusted model, path) into a fresh directory; load the file with
    torch.load(path, weights_only=True) and return what it holds (or the error)."""
    save_model = attribute(student, "save_model")
    model = _trusted(state)
    folder = tempfile.mkdtemp(prefix="nn_module_save_")
    try:
        path = os.path.join(folder, "model.pt")
        returned = save_model(model, pathlib.Path(path) if as_path else path)
        written = sorted(os.listdir(folder))
        if not os.path.exists(path):
            return {"written": written, "error": None, "loaded": None, "missing": True,
                    "returned": type(returned).__name__}
        try:
            loaded = torch.load(path, weights_only=True, map_location="cpu")
        except Exception as error:  # noqa: BLE001 - the failure to load is the observation
            first_line = (message(error).strip().splitlines() or [""])[0]
            return {"written": written, "error": f"{type(error).__name__}: {first_line}",
                    "loaded": None, "missing": False, "returned": type(returned).__name__}
        report = {"written": written, "error": None, "missing": False, "returned": type(returned).__name__,
                  "loaded_type": type(loaded).__name__}
        if isinstance(loaded, dict):
            report["loaded"] = {str(k): _plain(v) if isinstance(v, torch.Tensor) else type(v).__name__
                                for k, v in loaded.items()}
        else:
            report["loaded"] = None
        return report
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _where(model: nn.Module) -> list:
    """The parameters as they are, on their own device: the grader reads the devices from the
    tensors it receives, not from names computed here."""
    return [p.detach() for p in model.parameters()]


def load_run(student, state: dict) -> dict:
    """torch.save(state, path) here, then load_model(path) with student.MyNetwork replaced by
    TrustedNetwork; describe what came back."""
    load_model = attribute(student, "load_model")
    folder = tempfile.mkdtemp(prefix="nn_module_load_")
    had = hasattr(student, "MyNetwork")
    original = getattr(student, "MyNetwork", None)
    student.MyNetwork = TrustedNetwork
    try:
        path = os.path.join(folder, "model.pt")
        torch.save(state, path)
        model = load_model(path)
    finally:
        if had:
            student.MyNetwork = original
        else:
            del student.MyNetwork
        shutil.rmtree(folder, ignore_errors=True)
    if not isinstance(model, nn.Module):
        return {"type": type(model).__name__, "is_network": False}
    return {"type": type(model).__name__, "is_network": isinstance(model, TrustedNetwork),
            "state": _plain_state(model), "parameters": _where(model)}


def snapshot_run(student, state: dict, change: str, X=None, Y=None) -> dict:
    """snapshot(trusted model), then change the model in place (`change`: "add" adds 1 to every
    parameter under no_grad; "train" takes 3 SGD steps on (X, Y)); report the snapshot as it
    was at once and as it is afterwards."""
    snapshot = attribute(student, "snapshot")
    trusted = _trusted(state)
    snap = snapshot(trusted)
    if not isinstance(snap, dict):
        return {"type": type(snap).__name__}
    at_once = _plain_state(snap)
    extents = {"snapshot": [extent(v) for v in snap.values()],
               "live": [extent(p) for p in trusted.state_dict().values()]}   # the grader compares them
    if change == "add":
        with torch.no_grad():
            for p in trusted.parameters():
                p.add_(1.0)
    else:
        opt = trusted_make_optimizer(trusted, 0.05)
        for _ in range(3):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(trusted(X), Y)
            loss.backward()
            opt.step()
    return {"type": type(snap).__name__, "at_once": at_once, "after": _plain_state(snap),
            "extents": extents, "model_after": _plain_state(trusted)}


# ---------------------------------------------------------------- count_parameters

def count(student, name: str):
    """count_parameters(model) on a model from COUNT_MODELS."""
    count_parameters = attribute(student, "count_parameters")
    torch.manual_seed(0)
    return count_parameters(COUNT_MODELS[name]())
