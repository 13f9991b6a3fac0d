"""Probes for the `linear_regression` assignment.

Each probe runs in the student's process, builds what cannot cross the process boundary
(leaf tensors with gradients, an nn.Linear, a training run), and reports raw observations as
plain data. Nothing here decides pass or fail.

`train_manual` builds on `mse` and `sgd_step_`; while it is observed, both are replaced by
the trusted versions below (which also record how they were called), so that a mistake in
one of them costs only that function's points.
"""

from __future__ import annotations

import torch

from autograder.child.probes.core import attribute, message


# ---------------------------------------------------------------- trusted pieces

def trusted_mse(pred, target):
    """mse as the contract states it: ValueError when the shapes differ, else the 0-D mean squared
    error (torch's own, which the grader's trajectories match to float32 rounding)."""
    shapes = tuple(pred.shape), tuple(target.shape)
    if shapes[0] != shapes[1]:
        raise ValueError(f"mse: prediction shape {shapes[0]} differs from target shape {shapes[1]} "
                         "(this is the grader's correct mse, put in place of yours while train_manual "
                         "is graded)")
    return torch.nn.functional.mse_loss(pred, target)


def trusted_sgd_step_(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * p.grad
            p.grad.zero_()


def _describe(value):
    """A plain description of one object (a tensor's flags, or its type name)."""
    if isinstance(value, torch.Tensor):
        return {"type": type(value).__name__, "is_tensor": type(value) is torch.Tensor,
                "shape": list(value.shape), "dtype": str(value.dtype).removeprefix("torch."),
                "requires_grad": bool(value.requires_grad), "is_leaf": bool(value.is_leaf),
                "grad_fn": None if value.grad_fn is None else type(value.grad_fn).__name__}
    return {"type": type(value).__name__, "is_tensor": False}


def _plain(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone().as_subclass(torch.Tensor)
    return value


def _losses(losses):
    """The losses as sent back: floats stay floats, tensors become detached copies (the grader
    sees their type and says that loss.item() was expected)."""
    if not isinstance(losses, (list, tuple)):
        return losses if not isinstance(losses, torch.Tensor) else _plain(losses)
    return [_plain(v) if isinstance(v, torch.Tensor) else v for v in losses]


# ---------------------------------------------------------------- mse

def mse_autograd(student, pred, target):
    """Call mse(p, target) with p a leaf copy of `pred` that requires grad; report the result's
    flags, then call .backward() on it and report p.grad."""
    mse = attribute(student, "mse")
    p = pred.clone().requires_grad_(True)
    out = mse(p, target.clone())
    report = {"out": _describe(out), "value": _plain(out), "grad": None, "backward_error": None}
    if isinstance(out, torch.Tensor) and out.requires_grad and out.numel() == 1:
        try:
            out.backward()
        except Exception as error:  # noqa: BLE001 - the failure is the observation
            report["backward_error"] = f"{type(error).__name__}: {message(error)}"
        report["grad"] = None if p.grad is None else _plain(p.grad)
    return report


# ---------------------------------------------------------------- sgd_step_

def sgd_step(student, values: list, grads: list, lr: float) -> dict:
    """Build leaf parameters from `values` (requiring grad), give them the gradients `grads`
    (None: no gradient), call sgd_step_(params, lr) and describe each parameter afterwards."""
    sgd_step_ = attribute(student, "sgd_step_")
    originals = [v.clone().requires_grad_(True) for v in values]
    for p, g in zip(originals, grads):
        if g is not None:
            p.grad = g.clone()
    passed = list(originals)
    returned = sgd_step_(passed, lr)
    after = []
    for i, p in enumerate(originals):
        after.append({
            "same_object_in_list": i < len(passed) and passed[i] is p,
            "is_leaf": bool(p.is_leaf), "requires_grad": bool(p.requires_grad),
            "grad_fn": None if p.grad_fn is None else type(p.grad_fn).__name__,
            "value": _plain(p), "grad": None if p.grad is None else _plain(p.grad),
        })
    return {"returned": type(returned).__name__, "params": after, "list_length": len(passed)}


def sgd_step_training(student, X, y, lr: float, epochs: int) -> dict:
    """The trusted manual loop of train_manual with the student's sgd_step_ doing the updates."""
    sgd_step_ = attribute(student, "sgd_step_")
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses, stayed_leaves = [], True
    for _ in range(epochs):
        pred = X @ w + b
        loss = trusted_mse(pred, y)
        losses.append(float(loss.detach()))
        if not (w.requires_grad and b.requires_grad):
            stayed_leaves = False
            break
        loss.backward()
        sgd_step_([w, b], lr)
        stayed_leaves = stayed_leaves and w.is_leaf and b.is_leaf and w.requires_grad and b.requires_grad
    return {"losses": losses, "w": _plain(w), "b": _plain(b), "stayed_leaves": stayed_leaves}


# ---------------------------------------------------------------- train_manual

def train_manual_run(student, X, y, kwargs: dict) -> dict:
    """Call train_manual(X, y, **kwargs) with student.mse and student.sgd_step_ replaced by the
    trusted versions, recording their calls; describe what came back."""
    train_manual = attribute(student, "train_manual")
    mse_calls, step_calls, seen = [], [], []

    def mse(pred, target):
        mse_calls.append({"pred_shape": list(getattr(pred, "shape", ())),
                          "target_shape": list(getattr(target, "shape", ()))})
        return trusted_mse(pred, target)

    def sgd_step_(params, lr):
        params = list(params)
        if not seen:
            seen.extend(params)
        step_calls.append({
            "lr": lr if isinstance(lr, (int, float)) else repr(lr),
            "count": len(params),
            "same_objects": len(params) == len(seen) and all(p is q for p, q in zip(params, seen)),
            "leaves": all(isinstance(p, torch.Tensor) and p.is_leaf and p.requires_grad for p in params),
            "grads_none": [isinstance(p, torch.Tensor) and p.grad is None for p in params],
            "shapes": [list(p.shape) if isinstance(p, torch.Tensor) else None for p in params],
        })
        return trusted_sgd_step_(params, lr)

    saved = {name: getattr(student, name) for name in ("mse", "sgd_step_") if hasattr(student, name)}
    student.mse, student.sgd_step_ = mse, sgd_step_
    try:
        result = train_manual(X, y, **kwargs)
    finally:
        for name in ("mse", "sgd_step_"):
            if name in saved:
                setattr(student, name, saved[name])
            else:
                delattr(student, name)
    report = {"type": type(result).__name__, "length": len(result) if isinstance(result, (tuple, list)) else None,
              "mse_calls": len(mse_calls), "mse_shapes": mse_calls[:1], "step_calls": step_calls[:3],
              "step_count": len(step_calls), "step_lrs": sorted({repr(c["lr"]) for c in step_calls}),
              "step_same_objects": all(c["same_objects"] for c in step_calls),
              "X_after": X, "y_after": y}
    if isinstance(result, (tuple, list)) and len(result) == 3:
        w, b, losses = result
        report.update(w=_describe(w), b=_describe(b), w_value=_plain(w), b_value=_plain(b),
                      losses=_losses(losses))
    return report


# ---------------------------------------------------------------- train_with_optim

def train_with_optim_run(student, X, y, kwargs: dict) -> dict:
    """Call train_with_optim(X, y, **kwargs); describe the model (type, parameters as plain
    tensors) and the losses."""
    train_with_optim = attribute(student, "train_with_optim")
    result = train_with_optim(X, y, **kwargs)
    report = {"type": type(result).__name__, "length": len(result) if isinstance(result, (tuple, list)) else None,
              "X_after": X, "y_after": y}
    if isinstance(result, (tuple, list)) and len(result) == 2:
        model, losses = result
        report["model_type"] = type(model).__name__
        report["is_linear"] = isinstance(model, torch.nn.Linear)
        if isinstance(model, torch.nn.Module):
            report["state"] = {str(k): _plain(v) for k, v in model.state_dict().items()}
            report["parameters"] = [{"name": n, "shape": list(p.shape), "requires_grad": bool(p.requires_grad)}
                                    for n, p in model.named_parameters()]
        report["losses"] = _losses(losses)
    return report
