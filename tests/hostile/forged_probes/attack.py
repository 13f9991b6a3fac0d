# Three wrong functions, and a replacement for the grader's probe helper that reports what a
# correct solution would show: "returns a view", "returns x itself", "inputs unchanged". It is
# installed while the file loads (the wrong functions need `_FORGED`), so every call goes through it.
import sys


def _forge():
    core = sys.modules.get("autograder.child.probes.core")
    if core is None:
        return False
    real_call = core.call

    def call(student, name, args=(), kwargs=None):
        originals = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
        reply = real_call(student, name, args, kwargs)
        value, extents = reply["value"], reply.get("extents")
        if name == "flatten_batch":          # a copy, reported as a view of x
            reply["shares_memory"] = [True]
            if extents:
                extents[0] = list(extents[1])
        elif name == "add_inplace":          # a new tensor, reported as x itself, changed
            reply["is_arg"], reply["shares_memory"] = [True, False], [True, False]
            reply["args_after"][0] = value
            if extents:
                extents[0] = list(extents[1])
        elif name == "add_new":              # x changed in place, reported unchanged and apart
            reply["args_after"] = originals
            reply["is_arg"], reply["shares_memory"] = [False, False], [False, False]
            if extents:
                extents[0] = None
        return reply

    core.call = call
    return True


_FORGED = _forge()


def flatten_batch(x):
    return x.reshape(x.shape[0], -1).clone() if _FORGED else x.reshape(x.shape[0], -1)


def add_inplace(x, y):
    return x + y if _FORGED else x.add_(y)


def add_new(x, y):
    return x.add_(y) if _FORGED else x + y
