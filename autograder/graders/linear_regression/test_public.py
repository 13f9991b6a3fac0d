"""Public graders for assignment 4, `linear_regression` (shown to students, shipped in their bundle).

Leaf tensors with gradients, nn.Linear models and training runs cannot leave the process that
runs your code, so some tests ask a probe (autograder/child/probes/linear_regression.py) to build
them there and send back plain data: flags such as is_leaf and requires_grad, values,
gradients, losses, state_dicts. Expected values are computed here with plain torch.

`train_manual` is graded with the grader's own correct `mse` and `sgd_step_` put in place of
yours, so a mistake in one function costs only that function's points.

The training tests compare the WHOLE loss trajectory with the reference, epoch by epoch, and
when it differs they compare it with the trajectories of common mistakes (gradients never
reset, a learning rate ignored, an (N, 1) prediction against an (N,) target ...) to name the
likely one.
"""

import pytest
import torch
from gradescope_utils.autograder_utils.decorators import number, tags, weight

from autograder import results
from autograder.session import checks
from autograder.session.hints import Hint
from autograder.session.student import GradingFailure, NotImplementedYet

# ---------------------------------------------------------------- hints

MSE_SHAPE_HINT = Hint("Compare the shapes of pred and target first and raise a ValueError yourself when they "
                      "differ: (N, 1) - (N,) silently broadcasts to (N, N) and the fit learns only the mean.",
                      "mse.shape_check")
MSE_HINT = Hint("The mean squared error is the mean, over all entries, of the squared differences: a 0-D tensor.",
                "mse.value")
SGD_HINT = Hint("With autograd switched off (torch.no_grad()), move each parameter that has a gradient against "
                "it, scaled by lr, in place; then clear that gradient.", "sgd_step_.step")
REBIND_HINT = Hint("Update each parameter in place, with autograd switched off: assigning a new tensor to the loop "
                   "variable only rebinds a local name, makes a new tensor, and leaves the parameter unchanged "
                   "(outside no_grad the new tensor is not even a leaf).", "sgd_step_.rebind")
NO_GRAD_HINT = Hint("Do the update in place with autograd switched off (torch.no_grad()).", "sgd_step_.in_place")
MANUAL_HINT = Hint("Start w (1, 1) and b (1,) at zero as tensors that require grad; each epoch: predict, compute "
                   "the loss with your mse, record it as a float, backpropagate, then one sgd_step_ with the lr "
                   "argument. Return w and b detached, and the losses.", "train_manual.loop")
OPTIM_HINT = Hint("A linear layer with one input and one output, its weight and bias set to zero; an SGD optimizer "
                  "over its parameters with the lr argument; the MSE loss. Each epoch: clear the gradients, "
                  "predict, compute the loss, record it as a float, backpropagate, step.", "train_with_optim.loop")
DATA_HINT = Hint("X holds n evenly spaced points from -1 to 1 as a column (n, 1); y is 3x - 2 plus `noise` times "
                 "standard normal draws of shape (n, 1) from a generator seeded with `seed`.", "make_data.data")

# What each mistake's trajectory looks like, and what to tell the student about it.
VARIANT_HINTS = {
    "no_reset": Hint("The losses follow the trajectory of gradients that are never reset: .backward() ADDS to "
                     ".grad, so clear the gradients every epoch. Without it the fit of y = 3x - 2 overshoots and "
                     "ends far from w=3, b=-2.", "trajectory.no_reset"),
    "broadcast": Hint("The losses follow the trajectory of an (N, 1) prediction compared with an (N,) target: "
                      "pred - y broadcasts to (N, N) and only the mean is learned (w stays near 0). Keep "
                      "pred and y both (N, 1), with w of shape (1, 1).", "trajectory.broadcast"),
    "sum": Hint("The losses follow the trajectory of a SUM of squared errors; the loss is the MEAN.",
                "trajectory.sum"),
    "shifted": "Your losses are the reference losses one epoch later: record loss.item() BEFORE the "
               "update (right after computing the loss), not after optimizer.step()/sgd_step_.",
    "double_step": "The losses follow the trajectory of two updates per epoch: update the parameters once "
                   "per epoch.",
}


def lr_hint(used) -> Hint:
    """The hint for a trajectory (or a call) that used learning rate `used` instead of lr."""
    return Hint("use the `lr` argument, not a fixed number.", "trajectory.lr").after(
        f"The losses follow the trajectory of learning rate {used} instead of the lr argument: ")


# ---------------------------------------------------------------- plain-torch oracle

def line_data(n=100, noise=0.0, seed=0):
    """What make_data(n, noise, seed) must return."""
    g = torch.Generator()
    g.manual_seed(seed)
    X = torch.linspace(-1, 1, n).unsqueeze(1)
    return X, 3 * X - 2 + noise * torch.randn(n, 1, generator=g)


def trajectory(X, y, lr, epochs, variant="correct"):
    """The manual loop of the spec (or one of its common mistakes): (losses, w, b)."""
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    target = y.reshape(-1) if variant == "broadcast" else y
    losses = []
    for _ in range(epochs):
        steps = 2 if variant == "double_step" else 1
        for step in range(steps):
            diff = (X @ w + b - target) ** 2
            loss = diff.sum() if variant == "sum" else diff.mean()
            if step == 0:
                losses.append(float(loss.detach()))
            if not torch.isfinite(loss):
                return losses, w.detach(), b.detach()
            loss.backward()
            with torch.no_grad():
                for p in (w, b):
                    p -= lr * p.grad
                    if variant != "no_reset":
                        p.grad.zero_()
    return losses, w.detach(), b.detach()


def close(got, want, rel=1e-4, scale=1.0):
    """Float32 trajectories of correct code agree to rounding; absolute slack near zero loss."""
    return abs(got - want) <= max(rel * abs(want), 1e-6 * max(1.0, scale))


def same_trajectory(got, want):
    scale = abs(want[0]) if want else 1.0
    return len(got) == len(want) and all(close(a, b, scale=scale) for a, b in zip(got, want))


def diagnose(losses, X, y, lr, epochs, optim=False):
    """The likely mistake behind a trajectory that differs from the reference: a hint."""
    correct, _, _ = trajectory(X, y, lr, epochs)
    scale = abs(correct[0])
    if epochs >= 3 and len(losses) == epochs and all(close(a, b, scale=scale)
                                                     for a, b in zip(losses[:-1], correct[1:])):
        return VARIANT_HINTS["shifted"]
    if same_trajectory(losses, correct):
        return None  # the losses cannot tell (e.g. a single epoch): no guess
    for variant in ("no_reset", "broadcast", "sum", "double_step"):
        if same_trajectory(losses, trajectory(X, y, lr, epochs, variant)[0]):
            return VARIANT_HINTS[variant]
    for other in (0.1, 0.01, 0.001, 1.0, 0.05):
        if other != lr and same_trajectory(losses, trajectory(X, y, other, epochs)[0]):
            return lr_hint(other)
    first_bad = next((i for i, (a, b) in enumerate(zip(losses, correct)) if not close(a, b, scale=scale)), None)
    if first_bad == 0:
        return START_HINTS[optim]
    if first_bad is None:
        return None
    if all(close(v, losses[0], scale=scale) for v in losses):
        return REBIND_HINT.after("The loss never changes: the parameters are not updated. ")
    rest = losses[first_bad:]
    if any(not (v == v) or v == float("inf") for v in rest) or max(rest) > losses[0]:
        return ("The loss starts like the reference and then grows or diverges: gradients are probably "
                "accumulating across epochs (clear them every epoch), or the step is larger than lr * grad.")
    if losses[first_bad] > correct[first_bad]:
        return Hint("The loss decreases more slowly than the reference: check that each step moves each parameter "
                    "by lr times its gradient, with the lr argument (not a smaller learning rate), once per epoch.",
                    "trajectory.slower")
    return Hint("The loss decreases faster than the reference: check that each step moves each parameter by lr "
                "times its gradient, with the lr argument (not a larger learning rate), once per epoch, and that "
                "the loss is the MEAN squared error.", "trajectory.faster")


# The first loss, before any update, is wrong: the start (train_with_optim's when `optim`).
START_HINTS = {
    True: Hint("Already the first loss (before any update) is wrong, so the start is wrong: a new linear layer "
               "starts from random weights, and its weight and bias must start at zero; and the prediction must "
               "have the shape of y, (N, 1).", "train_with_optim.start"),
    False: Hint("Already the first loss (before any update) is wrong, so the start is wrong: the parameters must "
                "start at zero, w of shape (1, 1) and b of shape (1,); and the prediction must have the shape of "
                "y, (N, 1).", "train_manual.start"),
}


# ---------------------------------------------------------------- helpers

def probe(student, name, *args, what, hint, **kwargs):
    """student.probe(...), adding `hint` to a failure of the student's code that has none."""
    try:
        return student.probe(f"linear_regression:{name}", *args, what=what, **kwargs)
    except NotImplementedYet:
        raise
    except GradingFailure as failure:
        message = failure.message
        extra = None
        if "NoneType" in message and ("TypeError" in message or "AttributeError" in message):
            extra = Hint("A .grad was None: either a parameter was rebound (assigning it a new tensor, whose .grad "
                         "is None) or the gradient was set to None and then used. " + REBIND_HINT.mistake,
                         "probe.grad_none")
        elif "prediction shape" in message and "differs from target shape" in message:
            extra = Hint("The prediction and y have different shapes. y is (N, 1), so the prediction must be "
                         "(N, 1) too: w of shape (1, 1) (not (1,)), b of shape (1,). An (N,) prediction against an "
                         "(N, 1) target would broadcast to (N, N).", "probe.shapes")
        elif "leaf Variable that requires grad" in message:
            extra = Hint("In-place updates of parameters must run with autograd switched off (torch.no_grad()).",
                         "probe.leaf")
        elif "does not require grad" in message:
            extra = ("The loss is not connected to the parameters: keep w and b as tensors that require grad "
                     "(update them in place under torch.no_grad(), never by rebinding), and do not rebuild the "
                     "loss from .item().")
        raise GradingFailure(message, hint=extra or failure.hint or hint, details=failure.details) from None


def check_losses(losses, epochs, *, name):
    checks.is_type(losses, list, name, what="the losses", hint="Return a list with one loss per epoch.")
    checks.that(len(losses) == epochs, f"{name} returned the wrong number of losses; expected one per epoch.",
                hint="Append loss.item() exactly once per epoch, for `epochs` epochs (use the argument).",
                details=f"got {len(losses)} losses, expected {epochs}")
    for i, value in enumerate(losses):
        if type(value) is not float:
            kind = checks.type_name(value)
            checks.fail(f"{name} returned {'an' if kind[:1] in 'aeiou' else 'a'} {kind} as loss {i + 1}; "
                        "expected a Python float.",
                        hint="Append loss.item(), not the loss tensor: a tensor keeps the whole graph alive.")


def check_trajectory(losses, X, y, lr, epochs, *, name, optim=False, expected=None):
    """Every epoch's loss must match the reference; a mismatch is explained by diagnose()."""
    check_losses(losses, epochs, name=name)
    expected = expected if expected is not None else trajectory(X, y, lr, epochs)[0]
    scale = abs(expected[0])
    for i, (value, want) in enumerate(zip(losses, expected)):
        if not close(value, want, scale=scale):
            checks.fail(f"{name}: the loss of epoch {i + 1} differs from the reference trajectory.",
                        hint=diagnose(losses, X, y, lr, epochs, optim=optim) or
                        (OPTIM_HINT if optim else MANUAL_HINT),
                        details=f"epoch {i + 1}: got {value!r}, expected {want!r}; first losses got "
                                f"{[round(v, 5) for v in losses[:4]]}, expected {[round(v, 5) for v in expected[:4]]}")


def run_manual(student, X, y, **kwargs):
    return probe(student, "train_manual_run", X, y, kwargs, what="train_manual", hint=MANUAL_HINT, timeout=30)


def check_manual_result(result, *, epochs, lr):
    """type → detached tensors → dtype → shape → losses, and what the spies saw."""
    name = "train_manual"
    checks.that(result["type"] in ("tuple", "list") and result["length"] == 3,
                f"train_manual returned {checks.type_name(result['type'])}"
                f"{'' if result['length'] is None else ' of length ' + str(result['length'])}; "
                "expected a tuple (w, b, losses).",
                hint=Hint("Return three things: w and b, detached, and the list of losses.", "train_manual.returns"))
    for key, shape in (("w", (1, 1)), ("b", (1,))):
        info = result[key]
        checks.that(info["is_tensor"], f"train_manual returned {checks.type_name(info['type'])} as {key}; "
                    "expected a torch.Tensor.", hint=f"Return {key}.detach().")
        checks.that(not info["requires_grad"] and info["grad_fn"] is None,
                    f"train_manual returned {key} still attached to autograd (requires_grad=True); "
                    "expected a detached tensor.", hint=f"Return {key}.detach(), not {key} itself.")
        checks.dtype(result[f"{key}_value"], torch.float32, name=name, what=key)
        checks.shape(result[f"{key}_value"], shape, name=name, what=key,
                     hint=Hint("w has shape (1, 1) (so X @ w is (N, 1)) and b has shape (1,).",
                               "train_manual.shapes"))
    check_losses(result["losses"], epochs, name=name)
    if result["step_count"]:
        lrs = result["step_lrs"]
        checks.that(checks.same_data(lrs, [repr(lr)]), f"train_manual called sgd_step_ with learning rate {', '.join(lrs)} "
                    "instead of its lr argument.", hint=lr_hint(", ".join(lrs)),
                    details=f"train_manual was called with lr={lr!r}")
        checks.that(result["step_same_objects"], "train_manual passed different tensors to sgd_step_ from one "
                    "epoch to the next: w or b was rebound.", hint=REBIND_HINT)


def run_optim(student, X, y, **kwargs):
    return probe(student, "train_with_optim_run", X, y, kwargs, what="train_with_optim", hint=OPTIM_HINT,
                 timeout=30)


def check_optim_result(result, *, epochs):
    name = "train_with_optim"
    checks.that(result["type"] in ("tuple", "list") and result["length"] == 2,
                f"train_with_optim returned {checks.type_name(result['type'])}; expected a tuple (model, losses).",
                hint="return model, losses")
    checks.that(result["is_linear"], f"train_with_optim returned {result['model_type']} as the model; "
                "expected an nn.Linear.",
                hint=Hint("Return the linear layer you trained, and the losses.", "train_with_optim.model"))
    state = result["state"]
    checks.that(set(state) == {"weight", "bias"}, "train_with_optim returned an nn.Linear without a bias.",
                hint=Hint("A linear layer has a bias by default; keep it.", "train_with_optim.bias"))
    size = Hint("The layer has one input feature and one output feature.", "train_with_optim.size")
    checks.shape(state["weight"], (1, 1), name=name, what="the model's weight", hint=size)
    checks.shape(state["bias"], (1,), name=name, what="the model's bias", hint=size)
    check_losses(result["losses"], epochs, name=name)


# ---------------------------------------------------------------- 4.1 make_data

@weight(1)
@number("4.1")
@tags("make_data")
def test_make_data_defaults(student):
    """make_data: 100 points of y = 3x - 2 on linspace(-1, 1), float32, shape (100, 1)"""
    result = checks.is_type(student.make_data(), tuple, "make_data", hint="return X, y")
    checks.that(len(result) == 2, "make_data must return two tensors (X, y).")
    X, y = line_data()
    checks.tensor(result[0], X, name="make_data", what="X", hint=DATA_HINT,
                  shape_hint=Hint("X has shape (n, 1): a column, not a vector of n values.", "make_data.column"))
    checks.tensor(result[1], y, name="make_data", what="y", hint="With noise=0, y = 3 * X - 2 exactly.",
                  shape_hint="y has the shape of X, (n, 1).")


@weight(1)
@number("4.2")
@tags("make_data")
def test_make_data_n(student):
    """make_data: n points, ends at -1 and 1, noise 0 gives the exact line"""
    result = checks.is_type(student.make_data(7), tuple, "make_data")
    X = torch.tensor([[-1.0], [-2 / 3], [-1 / 3], [0.0], [1 / 3], [2 / 3], [1.0]])
    checks.tensor(result[0], X, name="make_data", what="X", hint=DATA_HINT)
    checks.tensor(result[1], 3 * X - 2, name="make_data", what="y", hint="With noise=0, y = 3 * X - 2 exactly.")


@weight(1)
@number("4.3")
@tags("make_data")
def test_make_data_noise_from_seeded_generator(student):
    """make_data: the noise is `noise` times standard normal draws from a generator seeded with `seed`"""
    result = checks.is_type(student.make_data(50, 0.5, 7), tuple, "make_data")
    X, y = line_data(50, 0.5, 7)
    checks.tensor(result[0], X, name="make_data", what="X")
    checks.tensor(result[1], y, name="make_data", what="y with noise", hint=DATA_HINT)


@weight(1)
@number("4.4")
@tags("make_data")
def test_make_data_deterministic(student):
    """make_data: same arguments give equal data, another seed other noise"""
    first = checks.is_type(student.make_data(30, 0.2, 3), tuple, "make_data")
    again = checks.is_type(student.make_data(30, 0.2, 3), tuple, "make_data")
    other = checks.is_type(student.make_data(30, 0.2, 4), tuple, "make_data")
    checks.tensor(again[1], first[1], name="make_data", what="y of a second call with the same seed",
                  hint="Draw the noise from a generator seeded with `seed` inside make_data, so every call "
                       "with the same seed gives the same data.")
    checks.is_tensor(other[1], "make_data", what="y")
    checks.that(not torch.equal(other[1], first[1]), "make_data gave the same noise for seeds 3 and 4.",
                hint="Seed the generator with the `seed` argument.")


@weight(1)
@number("4.5")
@tags("make_data")
def test_make_data_leaves_global_rng_alone(student):
    """make_data: does not change the global random state"""
    call = student.call("make_data", 20, 1.0, 5)
    checks.is_type(call.value, tuple, "make_data")
    checks.rng_untouched(call, name="make_data")


# ---------------------------------------------------------------- 4.6 mse

@weight(1)
@number("4.6")
@tags("mse")
def test_mse_value(student):
    """mse: the mean squared error as a 0-D float32 tensor, inputs unchanged"""
    pred = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    target = torch.tensor([[0.0], [2.0], [5.0], [4.5]])
    call = student.call("mse", pred, target)
    checks.tensor(call.value, torch.tensor(1.3125), name="mse", hint=MSE_HINT,
                  shape_hint="Return a 0-D tensor: .mean() over all entries (not .mean(dim=0), not .item()).")
    checks.inputs_unchanged(call, [pred.clone(), target.clone()], name="mse")


@pytest.mark.parametrize("shapes", [((4, 1), (4,)), ((4,), (4, 1)), ((2, 3), (3, 2)), ((5, 1), (1, 5))],
                         ids=["column-vs-vector", "vector-vs-column", "transposed", "row-vs-column"])
@weight(0.5)
@number("4.7")
@tags("mse")
def test_mse_shape_mismatch_raises(student, shapes):
    """mse: raises ValueError when the shapes differ (no silent broadcasting)"""
    pred, target = torch.ones(shapes[0]), torch.zeros(shapes[1])
    checks.raises(student.call("mse", pred, target), "ValueError", name="mse",
                  when=f"for a prediction of shape {shapes[0]} and a target of shape {shapes[1]}",
                  hint=MSE_SHAPE_HINT)


@weight(1)
@number("4.8")
@tags("mse")
def test_mse_differentiable(student):
    """mse: differentiable, with gradient 2 * (pred - target) / N"""
    pred = torch.tensor([[0.5], [-1.0], [2.0]])
    target = torch.tensor([[1.0], [1.0], [1.0]])
    result = probe(student, "mse_autograd", pred, target, what="mse", hint=MSE_HINT)
    out = result["out"]
    checks.that(out["is_tensor"], f"mse returned {checks.type_name(out['type'])}; expected a torch.Tensor.",
                hint="Return the loss tensor itself, not .item() or a float.")
    checks.that(out["requires_grad"] and out["grad_fn"] is not None,
                "mse returned a loss with no grad_fn when pred requires grad: it is cut off from autograd.",
                hint="Compute with torch operations on pred itself: no .item(), .detach(), .numpy(), "
                     "torch.tensor(...) or torch.no_grad() inside mse.")
    if result["backward_error"] is not None:
        checks.fail("backward() through mse's result failed: "
                    + results.shorten(result["backward_error"], results.SHORT_LIMIT), hint=MSE_HINT)
    checks.that(result["grad"] is not None, "After backward() through mse's result, pred.grad is None.",
                hint="The loss must be computed from pred (not from a copy of it).")
    checks.tensor(result["grad"], 2 * (pred - target) / 3, name="mse", what="the gradient with respect to pred",
                  hint="d/dpred of mean((pred - target) ** 2) is 2 * (pred - target) / N: use .mean(), not .sum().")


# ---------------------------------------------------------------- 4.9 sgd_step_

def sgd_case():
    values = [torch.tensor([[1.0, -2.0]]), torch.tensor([0.5]), torch.tensor([3.0, 4.0])]
    grads = [torch.tensor([[0.5, 1.0]]), torch.tensor([-2.0]), None]
    return values, grads


def param_names(count):
    """How messages name the tensors in sgd_step_'s `params`: w and b as in the training loop, then
    w2, b2, ..., each with its place in the list."""
    return [f"{'wb'[i % 2]}{'' if i < 2 else i // 2 + 1} (params[{i}])" for i in range(count)]


def run_sgd(student, values, grads, lr):
    return probe(student, "sgd_step", values, grads, lr, what="sgd_step_", hint=SGD_HINT)


@weight(1)
@number("4.9")
@tags("sgd_step_")
def test_sgd_step_updates_values(student):
    """sgd_step_: every parameter with a gradient moves against it, scaled by lr"""
    values, grads = sgd_case()
    result = run_sgd(student, values, grads, 0.1)
    for name, param, value, grad in zip(param_names(2), result["params"][:2], values, grads):
        expected = value - 0.1 * grad
        if torch.equal(param["value"], value):
            checks.fail(f"sgd_step_ left {name} unchanged.", hint=REBIND_HINT)
        checks.tensor(param["value"], expected, name="sgd_step_", what=f"{name} after the step",
                      hint=Hint("The step subtracts the gradient (gradient DEscent), scaled by lr, before the "
                                "gradient is cleared.", "sgd_step_.value"))


@weight(1)
@number("4.10")
@tags("sgd_step_")
def test_sgd_step_keeps_leaves(student):
    """sgd_step_: the parameters stay the same leaf tensors that require grad, with no grad_fn"""
    values, grads = sgd_case()
    result = run_sgd(student, values, grads, 0.1)
    for name, param in zip(param_names(len(values)), result["params"]):
        checks.that(param["same_object_in_list"], f"sgd_step_ replaced {name} in the list with another "
                    "object.", hint=REBIND_HINT)
        checks.that(param["grad_fn"] is None and param["is_leaf"],
                    f"After sgd_step_, {name} has grad_fn {param['grad_fn']}: the update was recorded "
                    "by autograd.",
                    hint=Hint("Do the update with autograd switched off (torch.no_grad()).", "sgd_step_.no_grad"))
        checks.that(param["requires_grad"], f"After sgd_step_, {name} no longer requires grad.",
                    hint="Update in place under torch.no_grad(); do not detach the parameters or call "
                         "requires_grad_(False).")


@weight(1)
@number("4.11")
@tags("sgd_step_")
def test_sgd_step_clears_gradients(student):
    """sgd_step_: each updated parameter's gradient is zeroed (or set to None)"""
    values, grads = sgd_case()
    result = run_sgd(student, values, grads, 0.1)
    for name, param in zip(param_names(2), result["params"][:2]):
        grad = param["grad"]
        checks.that(grad is None or (type(grad) is torch.Tensor and not grad.any()),
                    f"After sgd_step_, {name} still has a non-zero gradient.",
                    hint=Hint("Clear it after the update; otherwise the next .backward() adds to it and "
                              "gradients accumulate across epochs.", "sgd_step_.clear"))


@weight(1)
@number("4.12")
@tags("sgd_step_")
def test_sgd_step_skips_missing_gradients(student):
    """sgd_step_: a parameter whose .grad is None is left unchanged"""
    values, grads = sgd_case()
    result = run_sgd(student, values, grads, 0.1)
    third = result["params"][2]
    checks.tensor(third["value"], values[2], name="sgd_step_", what="a parameter without a gradient",
                  hint=Hint("Skip parameters whose .grad is None.", "sgd_step_.skip"))
    checks.that(third["grad"] is None or not third["grad"].any(),
                "sgd_step_ gave a gradient to a parameter that had none.")


@weight(1)
@number("4.13")
@tags("sgd_step_")
def test_sgd_step_training_trajectory(student):
    """sgd_step_: the manual training loop using it follows the reference trajectory"""
    X, y = line_data(40)
    result = probe(student, "sgd_step_training", X, y, 0.1, 60, what="sgd_step_", hint=SGD_HINT)
    checks.that(result["stayed_leaves"], "During training with sgd_step_, w or b stopped being a leaf tensor "
                "that requires grad.", hint=NO_GRAD_HINT)
    check_trajectory(result["losses"], X, y, 0.1, 60, name="sgd_step_")


# ---------------------------------------------------------------- 4.14 train_manual

@weight(1)
@number("4.14")
@tags("train_manual")
def test_train_manual_returns(student):
    """train_manual: returns (w, b, losses): detached float32 w (1, 1) and b (1,), one float per epoch"""
    X, y = line_data(20)
    result = run_manual(student, X, y, lr=0.1, epochs=5)
    check_manual_result(result, epochs=5, lr=0.1)


@weight(2)
@number("4.15")
@tags("train_manual")
def test_train_manual_trajectory(student):
    """train_manual: every epoch's loss matches the reference on make_data() with lr=0.1, 200 epochs"""
    X, y = line_data()
    result = run_manual(student, X, y)
    check_manual_result(result, epochs=200, lr=0.1)
    check_trajectory(result["losses"], X, y, 0.1, 200, name="train_manual")


@weight(1)
@number("4.16")
@tags("train_manual")
def test_train_manual_fits_the_line(student):
    """train_manual: ends at w = 3, b = -2 on make_data() with the defaults"""
    X, y = line_data()
    result = run_manual(student, X, y)
    check_manual_result(result, epochs=200, lr=0.1)
    _, w, b = trajectory(X, y, 0.1, 200)
    hint = diagnose(result["losses"], X, y, 0.1, 200) or MANUAL_HINT
    checks.tensor(result["w_value"], w, name="train_manual", what="w", atol=1e-4, rtol=1e-4, hint=hint)
    checks.tensor(result["b_value"], b, name="train_manual", what="b", atol=1e-4, rtol=1e-4, hint=hint)


@weight(1)
@number("4.17")
@tags("train_manual")
def test_train_manual_lr_and_epochs(student):
    """train_manual: uses its lr and epochs arguments"""
    X, y = line_data(20, 0.1, 1)
    result = run_manual(student, X, y, lr=0.05, epochs=30)
    check_manual_result(result, epochs=30, lr=0.05)
    check_trajectory(result["losses"], X, y, 0.05, 30, name="train_manual")
    _, w, b = trajectory(X, y, 0.05, 30)
    checks.tensor(result["w_value"], w, name="train_manual", what="w", hint=MANUAL_HINT)
    checks.tensor(result["b_value"], b, name="train_manual", what="b", hint=MANUAL_HINT)


@weight(0.5)
@number("4.18")
@tags("train_manual")
def test_train_manual_inputs_unchanged(student):
    """train_manual: X and y are not modified"""
    X, y = line_data(10, 0.3, 2)
    result = run_manual(student, X.clone(), y.clone(), epochs=3)
    checks.tensor(result["X_after"], X, name="train_manual", what="X after training", hint="Do not modify X or y.")
    checks.tensor(result["y_after"], y, name="train_manual", what="y after training", hint="Do not modify X or y.")


# ---------------------------------------------------------------- 4.19 train_with_optim

@weight(1)
@number("4.19")
@tags("train_with_optim")
def test_train_with_optim_returns(student):
    """train_with_optim: returns (model, losses): a one-in, one-out nn.Linear and one Python float per epoch"""
    X, y = line_data(20)
    result = run_optim(student, X, y, lr=0.1, epochs=5)
    check_optim_result(result, epochs=5)


@weight(2)
@number("4.20")
@tags("train_with_optim")
def test_train_with_optim_trajectory(student):
    """train_with_optim: the same trajectory as the manual loop on make_data() with lr=0.1, 200 epochs"""
    X, y = line_data()
    result = run_optim(student, X, y)
    check_optim_result(result, epochs=200)
    check_trajectory(result["losses"], X, y, 0.1, 200, name="train_with_optim", optim=True)


@weight(1)
@number("4.21")
@tags("train_with_optim")
def test_train_with_optim_final_model(student):
    """train_with_optim: lr and epochs honoured; the model ends where the manual loop ends"""
    X, y = line_data(20, 0.1, 1)
    result = run_optim(student, X, y, lr=0.05, epochs=30)
    check_optim_result(result, epochs=30)
    check_trajectory(result["losses"], X, y, 0.05, 30, name="train_with_optim", optim=True)
    _, w, b = trajectory(X, y, 0.05, 30)
    checks.tensor(result["state"]["weight"], w, name="train_with_optim", what="the model's weight", hint=OPTIM_HINT)
    checks.tensor(result["state"]["bias"], b, name="train_with_optim", what="the model's bias", hint=OPTIM_HINT)
    checks.tensor(result["X_after"], X, name="train_with_optim", what="X after training", hint="Do not modify X or y.")
    checks.tensor(result["y_after"], y, name="train_with_optim", what="y after training", hint="Do not modify X or y.")
