"""Public graders for assignment 5, `nn_module` (shown to students, shipped in their bundle).

Networks and optimizers cannot leave the process that runs your code, so each test asks a
probe (autograder/child/probes/nn_module.py) to build them there and send back plain data: the
state_dict, parameter names and shapes, outputs, losses. Expected values are computed here
with plain torch (functional layers and torch.optim.SGD) on the same weights and data.

Functions that build on another one are graded with a correct version of that other piece:
`train`, `snapshot`, `save_model` and `make_optimizer` get a correct MyNetwork-shaped model,
`train` uses a correct `make_optimizer`, and `load_model` a correct `MyNetwork`. A mistake in
one function therefore costs only that function's points.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from gradescope_utils.autograder_utils.decorators import number, tags, weight

from autograder import results
from autograder.session import checks
from autograder.session.hints import Hint
from autograder.session.student import GradingFailure, NotImplementedYet

NETWORK_SHAPES = {"m1.weight": (30, 20), "m1.bias": (30,), "m2.weight": (30, 30), "m2.bias": (30,),
                  "m3.weight": (40, 30), "m3.bias": (40,)}
MLP_SIZES = [4, 8, 6, 3]
REGISTER_HINT = Hint("Layers kept in a plain Python list are invisible to .parameters(), .to() and "
                     "state_dict(): keep them in a container that nn.Module registers, assigned to self.",
                     "MLP.register")
LAYER_NAMES_HINT = Hint("Create the three linear layers in __init__, as attributes m1, m2 and m3 "
                        "with the sizes of the docstring, after initialising nn.Module.",
                        "MyNetwork.layers")
FORWARD_HINT = "forward(x) = m3(relu(m2(relu(m1(x))))): ReLU after m1 and after m2, none after m3."


# ---------------------------------------------------------------- plain-torch oracle

def generator(seed):
    return torch.Generator().manual_seed(seed)


def linear_init(out_features, in_features, g):
    bound = 1 / math.sqrt(in_features)
    return ((torch.rand(out_features, in_features, generator=g) * 2 - 1) * bound,
            (torch.rand(out_features, generator=g) * 2 - 1) * bound)


def network_state(seed):
    """MyNetwork weights as a state_dict of plain tensors, drawn from a seeded generator."""
    g, state = generator(seed), {}
    for name, (out_f, in_f) in (("m1", (30, 20)), ("m2", (30, 30)), ("m3", (40, 30))):
        state[f"{name}.weight"], state[f"{name}.bias"] = linear_init(out_f, in_f, g)
    return state


def network_forward(state, x):
    h = torch.relu(F.linear(x, state["m1.weight"], state["m1.bias"]))
    h = torch.relu(F.linear(h, state["m2.weight"], state["m2.bias"]))
    return F.linear(h, state["m3.weight"], state["m3.bias"])


def mlp_forward(layers, x):
    for i, (w, b) in enumerate(layers):
        x = F.linear(x, w, b)
        if i < len(layers) - 1:
            x = x.clamp(min=0)   # ReLU: max(0, x)
    return x


def regression_problem(seed, n=64):
    """Inputs (n, 20) and targets (n, 40) from a fixed random teacher."""
    g = generator(seed)
    X = torch.randn(n, 20, generator=g)
    teacher = torch.randn(40, 20, generator=g) / math.sqrt(20)
    return X, torch.tanh(X @ teacher.T) + 0.1 * torch.randn(n, 40, generator=g)


def oracle_train(state, X, Y, epochs, lr, momentum=0.9):
    """What train must do: SGD(lr, momentum 0.9), MSE, zero_grad/forward/loss/backward/step."""
    params = {k: v.clone().requires_grad_(True) for k, v in state.items()}
    opt = torch.optim.SGD(list(params.values()), lr=lr, momentum=momentum)
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        loss = F.mse_loss(network_forward(params, X), Y)
        losses.append(float(loss.detach()))
        loss.backward()
        opt.step()
    return losses, {k: v.detach() for k, v in params.items()}


# ---------------------------------------------------------------- helpers

def probe(student, name, *args, what, hint, **kwargs):
    """student.probe(...), adding `hint` to a failure of the student's code that has none."""
    try:
        result = student.probe(f"nn_module:{name}", *args, what=what, **kwargs)
    except NotImplementedYet:
        raise
    except GradingFailure as failure:
        raise GradingFailure(failure.message, hint=failure.hint or hint, details=failure.details) from None
    if isinstance(result, dict) and isinstance(result.get("parameters"), list):
        # The devices the model is on, read here from the tensors received, not from the probe.
        result["devices"] = sorted({t.device.type for t in result["parameters"] if type(t) is torch.Tensor})
    return result


def check_structure(result, name):
    checks.that(result["is_module"], f"{name} is not an nn.Module (it built {checks.article(result['type'])}).",
                hint=Hint("Subclass nn.Module and initialise it first in __init__.", f"{name}.module"))


def check_state(got, expected, *, name, what, hint=None):
    checks.is_type(got, dict, name, what=what)
    checks.that(set(got) == set(expected), f"{name} returned {what} with the wrong keys.", hint=hint,
                details=f"got {sorted(map(str, got))}, expected {sorted(expected)}")
    for key, value in expected.items():
        checks.tensor(got[key], value, name=name, what=f"{what} entry {key!r}", hint=hint)


def check_losses(losses, expected, *, name, hint, rel=1e-4):
    checks.is_type(losses, list, name, what="the losses", hint="Return a list with one loss per epoch.")
    checks.that(len(losses) == len(expected), f"{name} returned {len(losses)} losses; expected one per "
                f"epoch ({len(expected)}).", hint="Append loss.item() once per epoch, for `epochs` epochs.")
    for i, value in enumerate(losses):
        if type(value) is not float:
            checks.fail(f"{name} returned {checks.article(checks.type_name(value))} as loss {i}; "
                        "expected a Python float.",
                        hint="Append loss.item(), not the loss tensor: tensors keep the whole graph alive.")
    for i, (value, want) in enumerate(zip(losses, expected)):
        if not abs(value - want) <= max(1e-7, rel * abs(want)):
            checks.fail(f"{name}: the loss of epoch {i + 1} differs from the reference trajectory.", hint=hint,
                        details=f"epoch {i + 1}: got {value!r}, expected {want!r}")


TRAIN_HINT = Hint("Each epoch: clear the gradients, predict, compute the MSE loss, record it as a float, "
                  "backpropagate, step; create the optimizer once, with your make_optimizer, before the "
                  "loop. Forgetting to clear makes gradients add up across epochs.", "train.loop")


def run_train(student, state, X, Y, pretend_cuda=False, hint=TRAIN_HINT, **kwargs):
    result = probe(student, "train_run", state, X, Y, kwargs, pretend_cuda=pretend_cuda, what="train",
                   hint=hint, timeout=30)
    calls = result["optimizer_calls"]
    checks.that(len(calls) == 1, f"train called make_optimizer {len(calls)} times; expected once.",
                hint=Hint("Create the optimizer once, before the loop, with your make_optimizer: "
                          "a new SGD each epoch loses the momentum.", "train.once"))
    checks.that(calls[0]["same_model"] and calls[0]["lr"] == kwargs.get("lr", 0.01),
                "train did not pass its own model and learning rate to make_optimizer.",
                hint=Hint("Pass the model you train and the lr argument to make_optimizer.", "train.optimizer"))
    return result


# ---------------------------------------------------------------- 5.1 MyNetwork

@weight(1)
@number("5.1")
@tags("MyNetwork")
def test_network_parameter_count(student):
    """MyNetwork: an nn.Module with 2800 registered parameters"""
    result = probe(student, "structure", "MyNetwork", (), what="MyNetwork", hint=LAYER_NAMES_HINT)
    check_structure(result, "MyNetwork")
    checks.that(result["count"] == 2800, f"MyNetwork has {result['count']} registered parameters; expected 2800 "
                "(20*30 + 30 + 30*30 + 30 + 30*40 + 40).", hint=LAYER_NAMES_HINT)


@weight(1)
@number("5.2")
@tags("MyNetwork")
def test_network_parameter_names(student):
    """MyNetwork: parameters m1.weight, m1.bias, ..., m3.bias with the right shapes"""
    result = probe(student, "structure", "MyNetwork", (), what="MyNetwork", hint=LAYER_NAMES_HINT)
    check_structure(result, "MyNetwork")
    got = {p["name"]: tuple(p["shape"]) for p in result["parameters"]}
    checks.that(checks.same_data(list(got), list(NETWORK_SHAPES)),
                f"MyNetwork's parameters are named {list(got)}; expected {list(NETWORK_SHAPES)}.",
                hint=LAYER_NAMES_HINT)
    for key, shape in NETWORK_SHAPES.items():
        checks.that(checks.same_data(got[key], shape), f"MyNetwork's parameter {key} has shape {got[key]}; expected {shape}.",
                    hint=Hint("nn.Linear(in_features, out_features) has weight (out_features, in_features).",
                              "MyNetwork.shapes"))
    children = dict(result["children"])
    for layer in ("m1", "m2", "m3"):
        checks.that(children.get(layer) == "Linear", f"MyNetwork.{layer} is {children.get(layer)}; "
                    "expected an nn.Linear.", hint=LAYER_NAMES_HINT)


@weight(1)
@number("5.3")
@tags("MyNetwork")
def test_network_forward_batch(student):
    """MyNetwork: forward of a (5, 20) batch matches m3(relu(m2(relu(m1(x))))) under given weights"""
    state, x = network_state(1), torch.randn(5, 20, generator=generator(2))
    result = probe(student, "network_forward", state, [x], what="MyNetwork",
                   hint=LAYER_NAMES_HINT.after("load_state_dict failed or forward raised: "))
    checks.tensor(result["outputs"][0], network_forward(state, x), name="MyNetwork", what="forward(x)",
                  hint=FORWARD_HINT, shape_hint="A (N, 20) input gives a (N, 40) output.")


@weight(0.5)
@number("5.4")
@tags("MyNetwork")
def test_network_forward_single(student):
    """MyNetwork: forward of a single (20,) input gives a (40,) output"""
    state, x = network_state(3), torch.randn(20, generator=generator(4))
    result = probe(student, "network_forward", state, [x], what="MyNetwork", hint=LAYER_NAMES_HINT)
    checks.tensor(result["outputs"][0], network_forward(state, x), name="MyNetwork", what="forward(x)",
                  hint=FORWARD_HINT,
                  shape_hint="A (20,) input gives a (40,) output: do not reshape or add a batch dimension.")


@weight(1)
@number("5.5")
@tags("MyNetwork")
def test_network_layers_made_in_init(student):
    """MyNetwork: layers are created in __init__, not in forward (two forwards agree)"""
    result = probe(student, "forward_twice", "MyNetwork", (), torch.randn(3, 20, generator=generator(5)),
                   what="MyNetwork", hint=LAYER_NAMES_HINT)
    hint = ("Create every nn.Linear once in __init__ and only use it in forward: a layer created in "
            "forward gets new random weights at every call and is never trained.")
    checks.that(result["same_parameters"] and result["count_before"] == result["count_after"],
                f"MyNetwork's parameters changed during forward ({result['count_before']} parameter tensors "
                f"before, {result['count_after']} after): it creates layers inside forward.", hint=hint)
    checks.that(bool(torch.equal(result["first"], result["second"])),
                "MyNetwork gave different outputs for the same input in two calls of forward.", hint=hint)


# ---------------------------------------------------------------- 5.6 MLP

def check_mlp_registered(result, sizes):
    check_structure(result, "MLP")
    pairs = list(zip(sizes[:-1], sizes[1:]))
    expected = sum(a * b + b for a, b in pairs)
    if result["count"] == 0 and pairs:
        where = ", ".join(f"self.{name} ({kind})" for name, kind, _ in result["unregistered"]) or "a container"
        checks.fail(f"MLP({sizes}) has no registered parameters: its layers are in {where}, which "
                    "nn.Module does not see; use nn.ModuleList.", hint=REGISTER_HINT)
    checks.that(result["linear_count"] == len(pairs),
                f"MLP({sizes}) has {result['linear_count']} registered nn.Linear layers; expected {len(pairs)} "
                "(one per consecutive pair of sizes).",
                hint=REGISTER_HINT if result["unregistered"] else
                "Build nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1).")
    checks.that(result["count"] == expected, f"MLP({sizes}) has {result['count']} registered parameters; "
                f"expected {expected}.", hint=REGISTER_HINT)
    shapes = [tuple(p["shape"]) for p in result["parameters"]]
    want = [s for a, b in pairs for s in ((b, a), (b,))]
    checks.that(checks.same_data(shapes, want), f"MLP({sizes})'s parameter shapes are {shapes}; expected {want}, in layer order.",
                hint="Layer i is nn.Linear(sizes[i], sizes[i + 1]), registered in order.")


@weight(1)
@number("5.6")
@tags("MLP")
def test_mlp_layers_registered(student):
    """MLP: one registered nn.Linear per pair of sizes (nn.ModuleList, not a plain list)"""
    result = probe(student, "structure", "MLP", (MLP_SIZES,), what="MLP",
                   hint="MLP(sizes) takes the list of layer sizes, e.g. MLP([4, 8, 6, 3]).")
    check_mlp_registered(result, MLP_SIZES)


def mlp_layers(sizes, seed):
    g = generator(seed)
    return [linear_init(b, a, g) for a, b in zip(sizes[:-1], sizes[1:])]


def check_mlp_forward(student, sizes, seed, batch):
    layers = mlp_layers(sizes, seed)
    g = generator(seed + 1)
    inputs = [torch.randn(batch, sizes[0], generator=g), torch.randn(sizes[0], generator=g)]
    result = probe(student, "mlp_forward", sizes, layers, inputs, what="MLP",
                   hint="MLP(sizes) takes the list of layer sizes.")
    want = [tuple(w.shape) for w, _ in layers]
    checks.that(result["outputs"] is not None, f"MLP({sizes}) has nn.Linear weights of shapes "
                f"{result['shapes']}; expected {want}.", hint="Layer i is nn.Linear(sizes[i], sizes[i + 1]).")
    hint = "Apply the layers in order with ReLU between them and no ReLU after the last layer."
    for x, got, what in zip(inputs, result["outputs"], ("a batch", "a single input")):
        checks.tensor(got, mlp_forward(layers, x), name="MLP", what=f"forward of {what}", hint=hint)


@weight(1)
@number("5.7")
@tags("MLP")
def test_mlp_forward(student):
    """MLP: forward matches Linear/ReLU/.../Linear under given weights (no ReLU after the last layer)"""
    check_mlp_forward(student, MLP_SIZES, 10, 5)


@weight(0.5)
@number("5.8")
@tags("MLP")
def test_mlp_layers_made_in_init(student):
    """MLP: layers are created in __init__, not in forward (two forwards agree)"""
    result = probe(student, "forward_twice", "MLP", (MLP_SIZES,), torch.randn(3, 4, generator=generator(6)),
                   what="MLP", hint="MLP(sizes) takes the list of layer sizes.")
    hint = "Create the layers once in __init__ and only use them in forward."
    checks.that(result["same_parameters"], "MLP's parameters changed during forward: it creates layers "
                "inside forward.", hint=hint)
    checks.that(bool(torch.equal(result["first"], result["second"])),
                "MLP gave different outputs for the same input in two calls of forward.", hint=hint)


# ---------------------------------------------------------------- 5.9 count_parameters

@pytest.mark.parametrize("model,expected", [("linear", 40), ("network", 2800), ("sequential_first_frozen", 8),
                                            ("all_frozen", 0)])
@weight(0.5)
@number("5.9")
@tags("count_parameters")
def test_count_parameters(student, model, expected):
    """count_parameters: counts the trainable scalars (requires_grad) only"""
    descriptions = {"linear": "nn.Linear(7, 5)", "network": "a MyNetwork",
                    "sequential_first_frozen": "Sequential(Linear(4, 3), ReLU(), Linear(3, 2)) with the "
                                               "first layer frozen (requires_grad_(False))",
                    "all_frozen": "a model whose parameters are all frozen"}
    got = student.probe("nn_module:count", model, what="count_parameters")
    hint = Hint("Add up the number of scalars (numel) of each parameter that requires grad: frozen parameters "
                "(requires_grad False) are not trainable.", "count_parameters.sum")
    if type(got) is int and got != expected:
        checks.fail(f"count_parameters returned {got} for {descriptions[model]}; expected {expected}.", hint=hint)
    checks.python_int(got, expected, name="count_parameters", what=f"the count for {descriptions[model]}")


# ---------------------------------------------------------------- 5.10 make_optimizer

OPTIMIZER_HINT = Hint("Return an SGD optimizer over all of the model's parameters (a fresh iterator over "
                      "them), with the lr and momentum arguments.", "make_optimizer.sgd")


def check_optimizer(result, lr, momentum):
    checks.that(result["is_sgd"], f"make_optimizer returned {checks.article(result['type'])}; expected a "
                "torch.optim.SGD.", hint=OPTIMIZER_HINT)
    checks.that(not result["missing"], f"make_optimizer's optimizer leaves out {len(result['missing'])} of the "
                f"model's 6 parameter tensors ({', '.join(result['missing'])}).", hint=OPTIMIZER_HINT)
    checks.that(result["foreign"] == 0, f"make_optimizer's optimizer holds {result['foreign']} tensors that are "
                "not parameters of the model.", hint=OPTIMIZER_HINT)
    checks.that(result["duplicates"] == 0, "make_optimizer's optimizer holds a parameter more than once.",
                hint=OPTIMIZER_HINT)
    checks.that(all(v == lr for v in result["lr"]), f"make_optimizer used lr={result['lr'][0]}; expected {lr}.",
                hint="Pass lr=lr to torch.optim.SGD.")
    checks.that(all(v == momentum for v in result["momentum"]), f"make_optimizer used momentum="
                f"{result['momentum'][0]}; expected {momentum}.", hint="Pass momentum=momentum to torch.optim.SGD.")


@weight(1)
@number("5.10")
@tags("make_optimizer")
def test_make_optimizer_covers_model(student):
    """make_optimizer: an SGD over exactly the model's parameters, with lr and momentum as given"""
    result = probe(student, "optimizer", network_state(7), (0.05, 0.5), what="make_optimizer",
                   hint=OPTIMIZER_HINT)
    check_optimizer(result, 0.05, 0.5)


@weight(0.5)
@number("5.11")
@tags("make_optimizer")
def test_make_optimizer_defaults(student):
    """make_optimizer: defaults lr=0.01, momentum=0.9"""
    result = probe(student, "optimizer", network_state(7), (), what="make_optimizer", hint=OPTIMIZER_HINT)
    check_optimizer(result, 0.01, 0.9)


# ---------------------------------------------------------------- 5.12 train

@weight(1.5)
@number("5.12")
@tags("train")
def test_train_losses(student):
    """train: one loss per epoch, as Python floats, following the reference trajectory"""
    state, (X, Y) = network_state(11), regression_problem(12)
    result = run_train(student, state, X, Y, epochs=15, lr=0.05)
    expected, _ = oracle_train(state, X, Y, 15, 0.05)
    check_losses(result["losses"], expected, name="train", hint=TRAIN_HINT)


@weight(1)
@number("5.13")
@tags("train")
def test_train_final_weights(student):
    """train: the model's final weights match the reference after training"""
    state, (X, Y) = network_state(13), regression_problem(14)
    result = run_train(student, state, X, Y, epochs=10, lr=0.02)
    _, expected = oracle_train(state, X, Y, 10, 0.02)
    check_state(result["state"], expected, name="train", what="the trained model's state_dict",
                hint=TRAIN_HINT.after("Train the model you are given, in place (not a copy). "))
    checks.tensor(result["X_after"], X, name="train", what="X after training", hint="Do not modify X or Y.")
    checks.tensor(result["Y_after"], Y, name="train", what="Y after training", hint="Do not modify X or Y.")


@weight(0.5)
@number("5.14")
@tags("train")
def test_train_device_cpu(student):
    """train: device="cpu" trains on the CPU and leaves the model there"""
    state, (X, Y) = network_state(15), regression_problem(16, n=16)
    result = run_train(student, state, X, Y, epochs=3, lr=0.01, device="cpu")
    checks.that(checks.same_data(result["devices"], ["cpu"]), f"after train(..., device='cpu') the model is on {result['devices']}.",
                hint=Hint("Move the model and the data (X and Y) to `device`.", "train.cpu"))
    expected, _ = oracle_train(state, X, Y, 3, 0.01)
    check_losses(result["losses"], expected, name="train", hint=TRAIN_HINT)


@weight(0.5)
@number("5.15")
@tags("train")
def test_train_device_none_keeps_model_device(student):
    """train: device=None trains where the model is, even when a GPU would be available"""
    state, (X, Y) = network_state(17), regression_problem(18, n=16)
    result = run_train(student, state, X, Y, epochs=3, lr=0.01, pretend_cuda=True,
                       hint="device=None means: keep the model on its current device (here the CPU) and move "
                            "the data there, e.g. device = next(model.parameters()).device; do not pick the "
                            "GPU yourself (this test answers True to torch.cuda.is_available()).")
    checks.that(checks.same_data(result["devices"], ["cpu"]), f"train with device=None moved the model to {result['devices']}.",
                hint="device=None means: keep the model where it is.")
    expected, _ = oracle_train(state, X, Y, 3, 0.01)
    check_losses(result["losses"], expected, name="train", hint=TRAIN_HINT)


# ---------------------------------------------------------------- 5.16 saving and loading

SAVE_HINT = Hint("Save the state_dict only: saving the model object pickles the whole object, "
                 "which torch.load(path, weights_only=True) refuses.",
                 "save_model.state_dict")


@weight(1)
@number("5.16")
@tags("save_model")
def test_save_model(student):
    """save_model: writes the state_dict to path, loadable with torch.load(path, weights_only=True)"""
    state = network_state(21)
    result = probe(student, "save_run", state, what="save_model", hint=SAVE_HINT)
    checks.that(not result["missing"], "save_model did not write a file at the given path.",
                hint="Save to exactly `path`, without adding a suffix or a folder.",
                details=f"files written in the folder: {result['written']}")
    if result["error"] is not None:
        checks.fail("The file save_model wrote cannot be loaded with torch.load(path, weights_only=True): "
                    + results.shorten(result["error"], results.SHORT_LIMIT), hint=SAVE_HINT)
    checks.that(result["loaded"] is not None, f"save_model saved {checks.article(result['loaded_type'])}; "
                "expected the model's state_dict (a dict of tensors).", hint=SAVE_HINT)
    check_state(result["loaded"], state, name="save_model", what="the saved state_dict", hint=SAVE_HINT)


@weight(1)
@number("5.17")
@tags("load_model")
def test_load_model(student):
    """load_model: builds a MyNetwork and loads the saved state_dict into it"""
    state = network_state(22)
    hint = Hint("Build a new MyNetwork, load the saved dict (weights only) and pass it to its load_state_dict; "
                "return the network. load_state_dict takes the loaded dict, not the path.", "load_model.load")
    result = probe(student, "load_run", state, what="load_model", hint=hint)
    checks.that(result["is_network"], f"load_model returned {checks.article(result['type'])}; expected a "
                "MyNetwork.", hint=hint)
    checks.that(checks.same_data(result["devices"], ["cpu"]), f"load_model's network is on {result['devices']}; expected the CPU.",
                hint="Load with map_location='cpu'.")
    check_state(result["state"], state, name="load_model", what="the loaded model's state_dict", hint=hint)


SNAPSHOT_HINT = Hint("model.state_dict() holds the live parameter tensors, which training changes "
                     "in place: copy each tensor, detached, into a new dict.",
                     "snapshot.copy")


@pytest.mark.parametrize("change", ["add", "train"], ids=["in-place-update", "training"])
@weight(0.5)
@number("5.18")
@tags("snapshot")
def test_snapshot_is_a_copy(student, change):
    """snapshot: equals the state_dict and does not change when the model changes afterwards"""
    state, (X, Y) = network_state(23), regression_problem(24, n=16)
    result = probe(student, "snapshot_run", state, change, X, Y, what="snapshot", hint=SNAPSHOT_HINT)
    checks.that(result["type"] in ("dict", "OrderedDict"), f"snapshot returned {checks.article(result['type'])};"
                " expected a dict of tensors (a copy of the state_dict).", hint=SNAPSHOT_HINT)
    check_state(result["at_once"], state, name="snapshot", what="the snapshot", hint=SNAPSHOT_HINT)
    changed = [k for k in state if not torch.equal(result["after"][k], state[k])]
    checks.that(not changed, f"snapshot changed when the model was {'updated in place' if change == 'add' else 'trained'}"
                f" afterwards ({', '.join(changed)}): it shares memory with the live weights.", hint=SNAPSHOT_HINT)


# ---------------------------------------------------------------- 5.19 GPU

@pytest.mark.cuda
@weight(1)
@number("5.19")
@tags("train")
def test_train_on_cuda(student):
    """GPU: train(..., device="cuda") moves the model to the GPU and matches the CPU losses"""
    state, (X, Y) = network_state(31), regression_problem(32)
    result = run_train(student, state, X, Y, epochs=10, lr=0.05, device="cuda")
    checks.that(checks.same_data(result["devices"], ["cuda"]), f"after train(..., device='cuda') the model is on "
                f"{result['devices']}.", hint=Hint("Move the model and the data (X and Y) to `device`.", "train.gpu"))
    expected, _ = oracle_train(state, X, Y, 10, 0.05)
    check_losses(result["losses"], expected, name="train", hint=TRAIN_HINT, rel=1e-3)
