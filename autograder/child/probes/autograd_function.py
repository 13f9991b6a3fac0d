"""Probes for the `autograd_function` assignment: apply a student's Function and observe it.

`apply_and_backward` is the only probe. It runs in the student's process and returns raw
observations; the grader computes every expected value (in its own process) and decides.

How the rules of spec §3 are observed (and why this way):

- "used through .apply": the probe itself calls `Cls.apply(...)`; `type(out.grad_fn).__name__`
  is "<Name>Backward" only when `Cls` is a real `torch.autograd.Function` whose forward ran
  through the autograd machinery (a plain class with its own `apply` gives e.g. "PowBackward0").
- "saved with ctx.save_for_backward": a `saved_tensors_hooks` pack hook counts the tensors
  saved during `apply` (it fires once per tensor given to `ctx.save_for_backward`, never for
  `ctx.x = x`); the saved tensors themselves come back so the grader can check, for example,
  that Sigmoid saved its output. The ctx of a custom Function IS `out.grad_fn`, so the names
  of the ctx attributes that hold tensors are reported too (`ctx.x = x` shows up there).
- gradients: the grader sends float64 inputs and a non-unit upstream gradient. The probe
  runs `out.backward(grad_output)` through the autograd engine and returns each input's
  `.grad`. PyTorch's own errors (a wrong number of gradients, a gradient for a non-tensor
  argument such as ScaleBy's `k`, a shape that cannot be reduced) propagate unchanged, so the
  message names the class. The engine silently sums a gradient whose shape merely broadcasts
  to its input's shape, so the probe also calls `Cls.backward(ctx, grad_output)` itself on the
  same ctx (the graph is retained) and returns what it returned, unmodified: the grader checks
  the raw shapes (MulAdd must sum over broadcast dimensions itself) and the `None` for `k`.
- gradcheck is never the verdict here; the grader compares values it computed itself.
"""

from __future__ import annotations

import torch

from autograder.child.probes.core import attribute


def _contains_tensor(value, depth: int = 0) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    if depth < 3 and isinstance(value, (list, tuple)):
        return any(_contains_tensor(v, depth + 1) for v in value)
    if depth < 3 and isinstance(value, dict):
        return any(_contains_tensor(v, depth + 1) for v in value.values())
    return False


def _plain(value):
    """A tensor as a plain detached copy; anything else as it is (the wire describes it)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone() if type(value) is torch.Tensor else value
    return value


def apply_and_backward(student, name: str, args: list, grad_output=None) -> dict:
    """Apply `student.<name>` to `args` and, if `grad_output` is given, run its backward.

    Tensor arguments are copied; floating ones require grad (they are the leaves whose
    gradients are reported). Returns a dict:
      is_class, is_function, bases: what `<name>` is;
      out, out_type: the output of `Cls.apply(*args)` (detached);
      grad_fn: the class name of `out.grad_fn` (None when it has none);
      saved_count: tensors packed by `ctx.save_for_backward` during apply;
      saved: those tensors (detached), as `out.grad_fn.saved_tensors` gives them back;
      ctx_tensor_attributes: names of ctx attributes that hold tensors;
      inputs_after: the arguments after apply (and after backward, when run);
      grads: each argument's `.grad` after `out.backward(grad_output)` (None for non-tensors);
      raw_grads, raw_type: what `Cls.backward(ctx, grad_output)` returned, as a list.
    """
    cls = attribute(student, name)
    report = {"is_class": isinstance(cls, type), "is_function": False,
              "bases": [b.__name__ for b in getattr(cls, "__mro__", ())[1:]][:6]}
    if not (isinstance(cls, type) and issubclass(cls, torch.autograd.Function)):
        return report
    report["is_function"] = True

    inputs = []
    for arg in args:
        if type(arg) is torch.Tensor:
            arg = arg.detach().clone()
            if arg.is_floating_point():
                arg.requires_grad_(True)
        inputs.append(arg)

    packed = []

    def pack(t):
        packed.append(1)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = cls.apply(*inputs)
    report["out_type"] = type(out).__name__
    report["out"] = _plain(out)
    report["inputs_after"] = [_plain(a) for a in inputs]
    if not isinstance(out, torch.Tensor):
        return report
    grad_fn = out.grad_fn
    report["grad_fn"] = None if grad_fn is None else type(grad_fn).__name__
    own_node = isinstance(grad_fn, torch.autograd.function.BackwardCFunction) and \
        getattr(grad_fn, "_forward_cls", None) is cls
    report["saved_count"] = len(packed)
    report["saved"] = [_plain(t) for t in grad_fn.saved_tensors if t is not None] if own_node else []
    report["ctx_tensor_attributes"] = sorted(
        key for key, value in vars(grad_fn).items() if _contains_tensor(value)) if own_node else []
    if grad_output is None or not own_node:
        return report

    out.backward(grad_output.detach().clone(), retain_graph=True)
    report["grads"] = [_plain(a.grad) if type(a) is torch.Tensor else None for a in inputs]
    report["inputs_after"] = [_plain(a) for a in inputs]
    with torch.no_grad():
        raw = cls.backward(grad_fn, grad_output.detach().clone())
    report["raw_type"] = type(raw).__name__
    report["raw_grads"] = [_plain(g) for g in (raw if isinstance(raw, tuple) else (raw,))]
    return report
