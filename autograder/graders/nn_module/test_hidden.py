"""Hidden graders for assignment 5, `nn_module`: the public rules again, on other inputs.

Expected values come from the reference solution, run here (in the trusted grader) on models
built from the same weights; `train`, `snapshot` and `save_model` act on the probe module's
`TrustedNetwork`, which the grader builds too. Messages never show inputs or expected values.
"""

from contextlib import contextmanager

import pytest
import torch
from gradescope_utils.autograder_utils.decorators import number, tags, visibility, weight

from autograder import memory
from autograder.session import checks
from autograder.session.student import GradingFailure, NotImplementedYet
from autograder.graders.nn_module.test_public import (FORWARD_HINT, LAYER_NAMES_HINT, SAVE_HINT, SNAPSHOT_HINT,
                                                      TRAIN_HINT, check_losses, check_mlp_registered,
                                                      check_optimizer, check_state, generator, linear_init,
                                                      network_state, probe, regression_problem, run_train)
from autograder.child.probes.nn_module import COUNT_MODELS, TrustedNetwork

HIDDEN = "after_due_date"


@contextmanager
def quietly(message):
    """Replace a failure's message (which may name this test's inputs) with `message`; keep its hint."""
    try:
        yield
    except NotImplementedYet:
        raise
    except GradingFailure as failure:
        raise GradingFailure(message, hint=failure.hint, details=failure.message) from None


def reference_network(reference, state):
    model = reference.MyNetwork()
    model.load_state_dict(state)
    return model


def trusted(state):
    model = TrustedNetwork()
    model.load_state_dict(state)
    return model


@weight(1)
@number("5.30")
@tags("MyNetwork")
@visibility(HIDDEN)
def test_network_forward_other_batches(student, reference):
    """MyNetwork: forward matches the reference for other weights and batch sizes"""
    state, g = network_state(101), generator(102)
    inputs = [torch.randn(1, 20, generator=g), torch.randn(17, 20, generator=g) * 3, torch.randn(20, generator=g)]
    result = probe(student, "network_forward", state, inputs, what="MyNetwork", hint=LAYER_NAMES_HINT)
    model = reference_network(reference, state)
    with torch.no_grad():
        for x, got in zip(inputs, result["outputs"]):
            checks.tensor(got, model(x), name="MyNetwork", what="forward(x)", hint=FORWARD_HINT)


@pytest.mark.parametrize("sizes", [[5, 7], [3, 9, 9, 9, 2], [20, 30, 30, 40]], ids=["one-layer", "four-layers",
                                                                                   "network-sizes"])
@weight(0.5)
@number("5.31")
@tags("MLP")
@visibility(HIDDEN)
def test_mlp_registered_other_sizes(student, reference, sizes):
    """MLP: every layer registered, for other lists of sizes"""
    result = probe(student, "structure", "MLP", (sizes,), what="MLP", hint="MLP(sizes) takes the list of sizes.")
    with quietly("MLP does not register the right layers for another list of sizes."):
        check_mlp_registered(result, sizes)
    expected = sum(p.numel() for p in reference.MLP(sizes).parameters())
    checks.that(result["count"] == expected, "MLP has the wrong number of parameters for another list of sizes.")


@pytest.mark.parametrize("sizes", [[5, 7], [3, 9, 9, 9, 2]], ids=["one-layer", "four-layers"])
@weight(0.5)
@number("5.32")
@tags("MLP")
@visibility(HIDDEN)
def test_mlp_forward_other_sizes(student, reference, sizes):
    """MLP: forward matches the reference for other sizes and weights"""
    g = generator(sum(sizes))
    layers = [linear_init(b, a, g) for a, b in zip(sizes[:-1], sizes[1:])]
    inputs = [torch.randn(6, sizes[0], generator=g), torch.randn(sizes[0], generator=g)]
    result = probe(student, "mlp_forward", sizes, layers, inputs, what="MLP", hint="MLP(sizes) takes the sizes.")
    checks.that(result["outputs"] is not None, "MLP's nn.Linear layers have the wrong shapes for another list "
                "of sizes.", hint="Layer i is nn.Linear(sizes[i], sizes[i + 1]).")
    model = reference.MLP(sizes)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for m, (w, b) in zip(linears, layers):
            m.weight.copy_(w)
            m.bias.copy_(b)
        for x, got in zip(inputs, result["outputs"]):
            checks.tensor(got, model(x), name="MLP", what="forward(x)",
                          hint="ReLU between the layers, none after the last one.")


@pytest.mark.parametrize("model", ["linear_no_bias", "network_m1_frozen", "bias_frozen", "shared_layer"])
@weight(0.25)
@number("5.33")
@tags("count_parameters")
@visibility(HIDDEN)
def test_count_parameters_other_models(student, reference, model):
    """count_parameters: other models, with frozen and shared parameters"""
    got = student.probe("nn_module:count", model, what="count_parameters")
    torch.manual_seed(0)
    expected = reference.count_parameters(COUNT_MODELS[model]())
    checks.is_type(got, int, "count_parameters", hint="Return a Python int (sum of p.numel() values).")
    checks.that(got == expected, "count_parameters returned the wrong count for a model with frozen or shared "
                "parameters.", hint="Count p.numel() over model.parameters() (each shared parameter once) where "
                "p.requires_grad is True.")


@weight(0.5)
@number("5.34")
@tags("make_optimizer")
@visibility(HIDDEN)
def test_make_optimizer_keywords(student):
    """make_optimizer: lr and momentum passed as keywords"""
    result = probe(student, "optimizer", network_state(103), (), {"lr": 0.3, "momentum": 0.0},
                   what="make_optimizer", hint="make_optimizer(model, lr=0.01, momentum=0.9)")
    with quietly("make_optimizer did not build SGD over all the model's parameters with the lr and "
                 "momentum given as keywords."):
        check_optimizer(result, 0.3, 0.0)


@weight(1)
@number("5.35")
@tags("train")
@visibility(HIDDEN)
def test_train_matches_reference(student, reference):
    """train: losses and final weights match the reference on another problem"""
    state, (X, Y) = network_state(104), regression_problem(105, n=40)
    result = run_train(student, state, X, Y, epochs=25, lr=0.03)
    model = trusted(state)
    expected = reference.train(model, X.clone(), Y.clone(), epochs=25, lr=0.03)
    check_losses(result["losses"], expected, name="train", hint=TRAIN_HINT)
    check_state(result["state"], {k: v.detach() for k, v in model.state_dict().items()}, name="train",
                what="the trained model's state_dict", hint=TRAIN_HINT)


@weight(0.5)
@number("5.36")
@tags("train")
@visibility(HIDDEN)
def test_train_default_arguments(student, reference):
    """train: defaults epochs=100, lr=0.01"""
    state, (X, Y) = network_state(106), regression_problem(107, n=16)
    result = run_train(student, state, X, Y)
    expected = reference.train(trusted(state), X.clone(), Y.clone())
    check_losses(result["losses"], expected, name="train", rel=1e-3,
                 hint=TRAIN_HINT.after("The defaults are epochs=100 and lr=0.01. "))


@weight(0.5)
@number("5.37")
@tags("save_model")
@visibility(HIDDEN)
def test_save_model_pathlib(student):
    """save_model: also accepts a pathlib.Path"""
    state = network_state(108)
    result = probe(student, "save_run", state, True, what="save_model", hint=SAVE_HINT)
    checks.that(not result["missing"] and result["error"] is None and result["loaded"] is not None,
                "save_model did not write a loadable state_dict when given a pathlib.Path.", hint=SAVE_HINT)
    check_state(result["loaded"], state, name="save_model", what="the saved state_dict", hint=SAVE_HINT)


@weight(0.5)
@number("5.38")
@tags("load_model")
@visibility(HIDDEN)
def test_load_model_other_weights(student):
    """load_model: other weights come back exactly"""
    state = network_state(109)
    result = probe(student, "load_run", state, what="load_model", hint="Build MyNetwork() and load_state_dict.")
    checks.that(result["is_network"], "load_model did not return a MyNetwork.")
    check_state(result["state"], state, name="load_model", what="the loaded model's state_dict")


@weight(0.5)
@number("5.39")
@tags("snapshot")
@visibility(HIDDEN)
def test_snapshot_shares_no_memory(student):
    """snapshot: no tensor of the snapshot shares memory with the model"""
    state, (X, Y) = network_state(110), regression_problem(111, n=8)
    result = probe(student, "snapshot_run", state, "train", X, Y, what="snapshot", hint=SNAPSHOT_HINT)
    checks.that(result["type"] in ("dict", "OrderedDict"), "snapshot did not return a dict.", hint=SNAPSHOT_HINT)
    extents = result.get("extents") or {}
    checks.that(not memory.any_overlap(extents.get("snapshot"), extents.get("live")),
                "snapshot shares memory with the model's live weights.",
                hint=SNAPSHOT_HINT)
