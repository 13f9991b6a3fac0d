"""Hidden graders for assignment 3, `autograd_function`: the public rules again, on other inputs.

Expected outputs and gradients come from the reference solution's Functions, applied here (in
the trusted grader) with plain autograd on the grader's own float64 copies of the inputs and
the same non-unit upstream gradient. Inputs come from fixed seeds, so every grade of the same
submission is identical. Messages never show inputs or expected values.

The helpers (the probe call with its checks of .apply/grad_fn, the gradient comparison) are
those of test_public.py, imported from it.
"""


import pytest
import torch
from gradescope_utils.autograder_utils.decorators import number, tags, visibility, weight

from autograder.session import checks

HIDDEN = "after_due_date"
F64 = torch.float64


from autograder.graders.autograd_function import test_public as public
apply, unchanged, no_ctx_attributes = public.apply, public.unchanged, public.no_ctx_attributes


def rand(shape, seed, scale=1.0, dtype=F64):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype) * scale


def grads(report, name, args, fn, seed, arg_names=("x",), **kwargs):
    shape = fn(*args).shape
    g = rand(shape, seed) + 0.5
    public.check_gradients(report(g), name, args, fn, g, arg_names, reveal=False, **kwargs)


def forward(student, name, args, expected_fn, call="(x)", **kwargs):
    report = apply(student, name, args, call=call)
    checks.tensor(report["out"], expected_fn(*args), name=name, what=f"the output of {name}.apply{call}", **kwargs)
    unchanged(report, name, args)


# ---------------------------------------------------------------- Square, Sigmoid

SHAPES = {"0-d": (), "1-d": (7,), "3-d": (2, 3, 4)}


@pytest.mark.parametrize("case", list(SHAPES))
@weight(0.5)
@number("3.23")
@tags("Square")
@visibility(HIDDEN)
def test_square_other_shapes(student, reference, case):
    """Square: forward and backward on tensors of other shapes"""
    x = rand(SHAPES[case], 100, 3.0)
    forward(student, "Square", [x.float()], reference.Square.apply)
    grads(lambda g: apply(student, "Square", [x], g), "Square", [x], reference.Square.apply, 101)


@pytest.mark.parametrize("case", list(SHAPES))
@weight(0.5)
@number("3.24")
@tags("Sigmoid")
@visibility(HIDDEN)
def test_sigmoid_other_shapes(student, reference, case):
    """Sigmoid: forward and backward on tensors of other shapes and larger values"""
    x = rand(SHAPES[case], 110, 6.0)
    forward(student, "Sigmoid", [x.float()], reference.Sigmoid.apply)
    grads(lambda g: apply(student, "Sigmoid", [x], g), "Sigmoid", [x], reference.Sigmoid.apply, 111)


@weight(0.5)
@number("3.25")
@tags("Sigmoid")
@visibility(HIDDEN)
def test_sigmoid_saves_output_other_input(student):
    """Sigmoid: the saved tensor is the output, on another input"""
    x = rand((3, 5), 120, 2.0)
    report = apply(student, "Sigmoid", [x])
    no_ctx_attributes(report, "Sigmoid")
    checks.that(any(t.shape == report["out"].shape and torch.equal(t, report["out"]) for t in report["saved"]),
                "Sigmoid did not save its output with ctx.save_for_backward.",
                hint="ctx.save_for_backward(y) with y the output; backward uses y * (1 - y).")


# ---------------------------------------------------------------- IHateThrees

def threes(shape, seed):
    """Random integers -4..4 (many 3s and -3s) mixed with values near 3."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(-4, 5, shape, generator=g).to(F64)
    near = torch.tensor([2.9999999, 3.0000001, 3.5, -3.0, 3.0], dtype=F64)
    flat = x.reshape(-1)
    flat[: min(5, flat.numel())] = near[: min(5, flat.numel())]
    return flat.reshape(shape)


THREE_SHAPES = {"empty": (0,), "2-d": (4, 5), "4-d": (2, 1, 3, 4)}


@pytest.mark.parametrize("case", list(THREE_SHAPES))
@weight(0.5)
@number("3.26")
@tags("IHateThrees")
@visibility(HIDDEN)
def test_i_hate_threes_other_shapes(student, reference, case):
    """IHateThrees: forward and backward on other shapes, with values close to 3"""
    x = threes(THREE_SHAPES[case], 130)
    forward(student, "IHateThrees", [x.float()], reference.IHateThrees.apply,
            hint="Only entries exactly equal to 3 become 0.")
    grads(lambda g: apply(student, "IHateThrees", [x], g), "IHateThrees", [x], reference.IHateThrees.apply, 131,
          hint="The gradient is 0 exactly where x == 3 and grad_output elsewhere.")


# ---------------------------------------------------------------- RoundSTE

@weight(1)
@number("3.27")
@tags("RoundSTE")
@visibility(HIDDEN)
def test_round_ste_other_values(student, reference):
    """RoundSTE: forward and straight-through backward on other values, halves included"""
    x = torch.cat([rand((12,), 140, 5.0), torch.arange(-4.5, 5.0, 1.0, dtype=F64)]).reshape(2, 11)
    forward(student, "RoundSTE", [x.float()], reference.RoundSTE.apply, rtol=0.0, atol=0.0,
            hint="torch.round rounds halves to even.")
    grads(lambda g: apply(student, "RoundSTE", [x], g), "RoundSTE", [x], reference.RoundSTE.apply, 141,
          exact=True, hint="Return grad_output unchanged.")


# ---------------------------------------------------------------- MulAdd

MULADD_SHAPES = {
    "batch-w-column-b-0-d": ((2, 3, 4), (3, 1), ()),
    "1-d": ((5,), (5,), (1,)),
    "x-broadcast": ((3, 1), (1, 4), (4,)),
    "three-way": ((2, 1, 3), (4, 1), (1, 1, 1)),
    "w-0-d": ((3, 2), (), (3, 1)),
}


@pytest.mark.parametrize("case", list(MULADD_SHAPES))
@weight(0.5)
@number("3.28")
@tags("MulAdd")
@visibility(HIDDEN)
def test_muladd_other_broadcasts(student, reference, case):
    """MulAdd: forward and gradients with other broadcast shapes (gradients keep each input's shape)"""
    args = [rand(shape, 150 + i) for i, shape in enumerate(MULADD_SHAPES[case])]
    forward(student, "MulAdd", [a.float() for a in args], reference.MulAdd.apply, call="(x, w, b)")
    grads(lambda g: apply(student, "MulAdd", args, g, call="(x, w, b)"), "MulAdd", args, reference.MulAdd.apply,
          151, ("x", "w", "b"),
          hint="Multiply grad_output by the other factor, then sum over the dimensions broadcasting "
               "added or stretched for that input.")


# ---------------------------------------------------------------- ScaleBy

@pytest.mark.parametrize("k", [0.0, -3.25, 1e-3], ids=["zero", "negative", "small"])
@weight(0.5)
@number("3.29")
@tags("ScaleBy")
@visibility(HIDDEN)
def test_scale_by_other_k(student, reference, k):
    """ScaleBy: forward and backward for other values of k"""
    x = rand((4, 5), 160)
    forward(student, "ScaleBy", [x.float(), k], reference.ScaleBy.apply, call="(x, k)")
    grads(lambda g: apply(student, "ScaleBy", [x, k], g, call="(x, k)"), "ScaleBy", [x, k],
          reference.ScaleBy.apply, 161, ("x", "k"), hint="The gradient of x is grad_output * k.")
