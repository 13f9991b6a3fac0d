"""Public graders for assignment 3, `autograd_function` (shown to students, shipped in their bundle).

Every class is applied in YOUR process by the probe `autograd_function:apply_and_backward`
(`Cls.apply(...)`, then `out.backward(grad_output)` and a direct `Cls.backward(ctx, grad_output)`
on the same graph); it sends back only what it observed: the output, its grad_fn, the tensors
saved with ctx.save_for_backward, the inputs' gradients. Expected values are computed here,
by plain torch on small fixed inputs, in float64 for gradients, with an upstream gradient that
is not all ones (so a backward that ignores grad_output is caught). torch.autograd.gradcheck
on float64 inputs is the way to check your backward yourself.
"""

import pytest
import torch
from gradescope_utils.autograder_utils.decorators import number, tags, weight

from autograder.session import checks
from autograder.session.student import GradingFailure, NotImplementedYet

PROBE = "autograd_function:apply_and_backward"
F64 = torch.float64

# PyTorch's own error messages from a custom Function, and what they mean for the student.
ERROR_HINTS = [
    ("incorrect number of gradients",
     "backward must return one gradient per input of forward, in the same order (ctx does not "
     "count): `return grad_x` for one input, `return grad_x, grad_w, grad_b` for three, and None "
     "for an input that is not a tensor."),
    ("different than None",
     checks.Hint("The gradient of an input that is not a tensor (the float k) must be None, returned "
                 "after the gradient of x.", "ScaleBy.none")),
    ("invalid gradient at index",
     "Each gradient must have exactly the shape of its input: sum over the dimensions that "
     "broadcasting added or stretched."),
    ("Legacy autograd function",
     "forward and backward must be @staticmethod (with ctx as first argument), and the class is "
     "used as Cls.apply(x), never instantiated."),
    ("has no attribute 'save_for_backward'",
     "Call the Function as Cls.apply(x): autograd creates ctx and passes it to forward."),
    ("backward through the graph a second time",
     "Read saved tensors with ctx.saved_tensors inside backward only."),
    ("modified by an inplace operation",
     "Do not change a tensor in place after saving it (or change grad_output in place): build "
     "new tensors."),
]


# ---------------------------------------------------------------- helpers

def apply(student, name, args, grad_output=None, *, call="(x)"):
    """Run the probe and check what `name` is: a Function subclass whose .apply gives <name>Backward."""
    try:
        report = student.probe(PROBE, name, list(args), grad_output, what=name)
    except NotImplementedYet:
        raise
    except GradingFailure as failure:
        if failure.hint is None:
            for fragment, hint in ERROR_HINTS:
                if fragment in failure.message:
                    raise GradingFailure(failure.message, hint=hint, details=failure.details) from None
        raise
    checks.that(report["is_class"], f"{name} is not a class.",
                hint=f"Define `class {name}(torch.autograd.Function):` with static forward and backward.")
    bases = ", ".join(report["bases"][:-1]) or "none"  # the last one is object
    checks.that(report["is_function"], f"{name} is not a subclass of torch.autograd.Function (its base "
                f"classes: {bases}).",
                hint=f"Define `class {name}(torch.autograd.Function):` with @staticmethod forward(ctx, ...) "
                     "and backward(ctx, grad_output).")
    checks.is_tensor(report["out"], name, what=f"the output of {name}.apply{call}")
    expected_node = f"{name}Backward"
    checks.that(report["grad_fn"] == expected_node,
                f"The output of {name}.apply{call} has grad_fn {report['grad_fn']}; expected {expected_node}, "
                f"the node autograd makes for {name}.",
                hint="Subclass torch.autograd.Function and do not override apply: Cls.apply(x) must "
                     "run your static forward (no other Function, no other class).")
    return report


def unchanged(report, name, originals):
    for position, (before, after) in enumerate(zip(originals, report["inputs_after"])):
        if type(before) is torch.Tensor:
            checks.that(type(after) is torch.Tensor and after.shape == before.shape
                        and torch.equal(after.detach(), before),
                        f"{name} modified its input (argument {position + 1}).",
                        hint="forward and backward must not change their inputs in place (x[...] = 0, "
                             "x.mul_(...), x += ...): build new tensors, e.g. with torch.where.")


def oracle(fn, args, grad_output):
    """Gradients of fn(*args) with upstream gradient grad_output, by plain autograd (float64)."""
    leaves = [a.detach().clone().requires_grad_(True) if type(a) is torch.Tensor else a for a in args]
    out = fn(*leaves)
    tensors = [a for a in leaves if type(a) is torch.Tensor]
    grads = iter(torch.autograd.grad(out, tensors, grad_output, allow_unused=True))
    return [next(grads) if type(a) is torch.Tensor else None for a in leaves]


def check_gradients(report, name, args, fn, grad_output, arg_names=("x",), *, hint=None, exact=False,
                    reveal=True):
    """The inputs' gradients after out.backward(grad_output), and what backward itself returned.

    `fn` computes the expected output from the same arguments (plain torch here, the reference
    solution in the hidden tests); `reveal=False` keeps shapes out of the message."""
    expected = oracle(fn, args, grad_output)
    unit = oracle(fn, args, torch.ones_like(grad_output))
    tolerance = {"rtol": 0.0, "atol": 0.0} if exact else {}
    for i, (arg, arg_name) in enumerate(zip(args, arg_names)):
        if type(arg) is not torch.Tensor:
            continue
        got = checks.is_tensor(report["grads"][i], name, what=f"the gradient of {arg_name}")
        if (got.shape == unit[i].shape and torch.allclose(got, unit[i], rtol=1e-9, atol=1e-12)
                and not torch.allclose(got, expected[i], rtol=1e-9, atol=1e-12)):
            checks.fail(f"{name}.backward ignores grad_output: the gradient of {arg_name} is the one for "
                        "an upstream gradient of all ones.",
                        hint="backward receives grad_output = dL/d(output); multiply your local "
                             "derivative by it (the chain rule).")
        checks.tensor(got, expected[i], name=name, what=f"the gradient of {arg_name}", hint=hint, **tolerance)
    raw = report["raw_grads"]
    checks.that(len(raw) == len(args),
                f"{name}.backward returned {len(raw)} value(s); expected {len(args)}, one per input of forward.",
                hint=ERROR_HINTS[0][1])
    for i, (arg, arg_name) in enumerate(zip(args, arg_names)):
        if type(arg) is not torch.Tensor:
            checks.that(raw[i] is None, f"{name}.backward returned {checks.type_name(raw[i])} as the "
                        f"gradient of {arg_name}, which is not a tensor; expected None.", hint=ERROR_HINTS[1][1])
        else:
            got = checks.is_tensor(raw[i], name, what=f"the gradient of {arg_name} returned by backward")
            shapes = f"shape {tuple(got.shape)} for {arg_name} of shape {tuple(arg.shape)}"
            checks.that(tuple(got.shape) == tuple(arg.shape),
                        f"{name}.backward returned a gradient of "
                        f"{shapes if reveal else 'another shape than ' + arg_name}; it must have exactly "
                        f"the shape of {arg_name}.", details=None if reveal else shapes,
                        hint="Autograd quietly sums a gradient that is too big, but backward must do it "
                             "itself: sum over the dimensions that broadcasting added (in front) and "
                             "over those where the input has size 1 (keepdim=True).")


def no_ctx_attributes(report, name):
    attrs = report["ctx_tensor_attributes"]
    checks.that(not attrs, f"{name} keeps tensors as attributes of ctx ({', '.join('ctx.' + a for a in attrs)}) "
                "instead of saving them with ctx.save_for_backward.",
                hint=checks.Hint("Save what backward needs with ctx.save_for_backward in forward and read it "
                                 "back from ctx.saved_tensors. Autograd then checks that nothing changed "
                                 "them in place before backward.", "Square.saved"))


def seeded(shape, seed, dtype=F64):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# ---------------------------------------------------------------- 3.1 Square

SQ_X = torch.tensor([[-1.5, 0.0, 2.0], [3.0, -0.25, 1.0]])
SQ_G = torch.tensor([[0.5, -2.0, 3.0], [1.5, -1.0, 0.25]], dtype=F64)


@weight(0.5)
@number("3.1")
@tags("Square")
def test_square_is_a_function(student):
    """Square: a torch.autograd.Function used through .apply (grad_fn SquareBackward)"""
    apply(student, "Square", [SQ_X])


@weight(1)
@number("3.2")
@tags("Square")
def test_square_forward(student):
    """Square: forward squares x (float32 in, float32 out), x unchanged"""
    report = apply(student, "Square", [SQ_X])
    checks.tensor(report["out"], SQ_X**2, name="Square", what="the output of Square.apply(x)")
    unchanged(report, "Square", [SQ_X])


@weight(1.5)
@number("3.3")
@tags("Square")
def test_square_backward(student):
    """Square: backward is the derivative times grad_output (float64, upstream gradient not all ones)"""
    x = SQ_X.to(F64)
    report = apply(student, "Square", [x], SQ_G)
    check_gradients(report, "Square", [x], lambda t: t**2, SQ_G, hint=checks.Hint("The derivative of the square, times grad_output.",
                                                                            "Square.backward"))
    unchanged(report, "Square", [x])


@weight(1)
@number("3.4")
@tags("Square")
def test_square_saves_x(student):
    """Square: saves x with ctx.save_for_backward (not as an attribute of ctx)"""
    x = SQ_X.to(F64)
    report = apply(student, "Square", [x])
    no_ctx_attributes(report, "Square")
    checks.that(report["saved_count"] == 1, f"Square saved {report['saved_count']} tensors with "
                "ctx.save_for_backward; expected exactly one, x.", hint=checks.Hint("Save the input x, once, in forward.", "Square.save"))
    checks.that(torch.equal(report["saved"][0], x), "Square saved a tensor other than x.",
                hint=checks.Hint("Save the input x: backward computes the derivative from it.", "Square.save_x"))


# ---------------------------------------------------------------- 3.5 Sigmoid

SIG_X = torch.tensor([[-3.0, -0.5, 0.0], [0.25, 1.0, 4.0]])
SIG_G = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 1.5, 0.75]], dtype=F64)


def sigmoid_formula(x):
    """The logistic function, by PyTorch's own implementation."""
    return torch.sigmoid(x)


@weight(0.5)
@number("3.5")
@tags("Sigmoid")
def test_sigmoid_is_a_function(student):
    """Sigmoid: a torch.autograd.Function used through .apply (grad_fn SigmoidBackward)"""
    apply(student, "Sigmoid", [SIG_X])


@weight(1)
@number("3.6")
@tags("Sigmoid")
def test_sigmoid_forward(student):
    """Sigmoid: forward is 1 / (1 + exp(-x)) (float32 in, float32 out), x unchanged"""
    report = apply(student, "Sigmoid", [SIG_X])
    checks.tensor(report["out"], sigmoid_formula(SIG_X), name="Sigmoid", what="the output of Sigmoid.apply(x)",
                  hint=checks.Hint("The logistic function of x; mind the minus sign in the exponent.", "Sigmoid.forward"))
    unchanged(report, "Sigmoid", [SIG_X])


@weight(1.5)
@number("3.7")
@tags("Sigmoid")
def test_sigmoid_backward(student):
    """Sigmoid: backward is grad_output * y * (1 - y) (float64, upstream gradient not all ones)"""
    x = SIG_X.to(F64)
    report = apply(student, "Sigmoid", [x], SIG_G)
    check_gradients(report, "Sigmoid", [x], sigmoid_formula, SIG_G,
                    hint="With y = sigmoid(x), dy/dx = y * (1 - y); multiply by grad_output.")
    unchanged(report, "Sigmoid", [x])


@weight(1)
@number("3.8")
@tags("Sigmoid")
def test_sigmoid_saves_output(student):
    """Sigmoid: saves its OUTPUT with ctx.save_for_backward (not x, not as an attribute of ctx)"""
    x = SIG_X.to(F64)
    report = apply(student, "Sigmoid", [x])
    no_ctx_attributes(report, "Sigmoid")
    saved = report["saved"]
    checks.that(report["saved_count"] >= 1 and saved, "Sigmoid saved no tensor with ctx.save_for_backward.",
                hint=checks.Hint("Save the output y in forward: backward computes the derivative from it.",
                                 "Sigmoid.save"))
    saved_output = any(t.shape == report["out"].shape and torch.equal(t, report["out"]) for t in saved)
    saved_input = any(t.shape == x.shape and torch.equal(t, x) for t in saved)
    checks.that(saved_output, "Sigmoid did not save its output" + (" (it saved x instead)" if saved_input else "")
                + ".", hint="Save y = sigmoid(x) itself and compute backward from it: grad_output * y * (1 - y); "
                            "no need to recompute exp in backward.")
    checks.that(report["saved_count"] == 1, f"Sigmoid saved {report['saved_count']} tensors; expected exactly "
                "one, its output.", hint="Backward needs only y: ctx.save_for_backward(y).")


# ---------------------------------------------------------------- 3.9 IHateThrees

THREES = {
    "0-d-three": torch.tensor(3.0),
    "0-d": torch.tensor(2.5),
    "1-d": torch.tensor([1.0, 3.0, -3.0, 3.5, 3.0, 0.0]),
    "3-d": torch.tensor([[[3.0, 1.0, 2.0], [4.0, 3.0, 3.0]], [[-1.0, 0.5, 3.0], [3.0, 2.9, 7.0]]]),
}


def i_hate_threes_formula(x):
    """x with the entries equal to 3 filled with 0 (differentiable: gradient 0 there, 1 elsewhere)."""
    return x.masked_fill(x == 3, 0.0)


@weight(0.5)
@number("3.9")
@tags("IHateThrees")
def test_i_hate_threes_is_a_function(student):
    """IHateThrees: a torch.autograd.Function used through .apply (grad_fn IHateThreesBackward)"""
    apply(student, "IHateThrees", [THREES["1-d"]])


@pytest.mark.parametrize("case", list(THREES))
@weight(0.25)
@number("3.10")
@tags("IHateThrees")
def test_i_hate_threes_forward(student, case):
    """IHateThrees: forward replaces entries equal to 3 by 0, any shape, x unchanged"""
    x = THREES[case]
    report = apply(student, "IHateThrees", [x])
    checks.tensor(report["out"], i_hate_threes_formula(x), name="IHateThrees",
                  what="the output of IHateThrees.apply(x)",
                  shape_hint="The output has the shape of x, also for a 0-d x.",
                  hint=checks.Hint("Choose elementwise between 0 and x, which works for every shape; only "
                                   "entries exactly equal to 3 change (not -3, not 3.5).", "IHateThrees.forward"))
    unchanged(report, "IHateThrees", [x])


@pytest.mark.parametrize("case", list(THREES))
@weight(0.25)
@number("3.11")
@tags("IHateThrees")
def test_i_hate_threes_backward(student, case):
    """IHateThrees: backward passes grad_output through except where x == 3 (0 there), any shape"""
    x = THREES[case].to(F64)
    g = seeded(x.shape, 11) + 2.0
    report = apply(student, "IHateThrees", [x], g)
    check_gradients(report, "IHateThrees", [x], i_hate_threes_formula, g,
                    hint=checks.Hint("The gradient is grad_output where x != 3 and 0 where x == 3.",
                                     "IHateThrees.backward"))
    unchanged(report, "IHateThrees", [x])


@weight(0.5)
@number("3.12")
@tags("IHateThrees")
def test_i_hate_threes_saves_with_save_for_backward(student):
    """IHateThrees: what backward needs is saved with ctx.save_for_backward, not kept on ctx"""
    report = apply(student, "IHateThrees", [THREES["3-d"].to(F64)])
    no_ctx_attributes(report, "IHateThrees")
    checks.that(report["saved_count"] >= 1, "IHateThrees saved no tensor with ctx.save_for_backward; backward "
                "needs to know where x was 3.", hint=checks.Hint("Save x (or where it was 3) in forward.",
                                                                       "IHateThrees.save"))


# ---------------------------------------------------------------- 3.13 RoundSTE

ROUND_X = torch.tensor([[-2.5, -1.5, -0.5, 0.5, 1.5], [2.5, 0.49, -0.51, 3.7, -4.2]])


@weight(0.5)
@number("3.13")
@tags("RoundSTE")
def test_round_ste_is_a_function(student):
    """RoundSTE: a torch.autograd.Function used through .apply (grad_fn RoundSTEBackward)"""
    apply(student, "RoundSTE", [ROUND_X])


@weight(1)
@number("3.14")
@tags("RoundSTE")
def test_round_ste_forward(student):
    """RoundSTE: forward equals torch.round (halves to even), float32, x unchanged"""
    report = apply(student, "RoundSTE", [ROUND_X])
    checks.tensor(report["out"], torch.round(ROUND_X), name="RoundSTE", what="the output of RoundSTE.apply(x)",
                  rtol=0.0, atol=0.0, dtype_hint="Keep x's float dtype: torch's own rounding does.",
                  hint=checks.Hint("Round halves to the even integer (2.5 -> 2, -0.5 -> -0), as torch's own "
                                   "rounding does; floor(x + 0.5) and Python's int() do not.", "RoundSTE.forward"))
    unchanged(report, "RoundSTE", [ROUND_X])


@weight(1.5)
@number("3.15")
@tags("RoundSTE")
def test_round_ste_backward(student):
    """RoundSTE: backward returns grad_output unchanged (straight-through)"""
    x = ROUND_X.to(F64)
    g = seeded(x.shape, 13) * 3
    report = apply(student, "RoundSTE", [x], g)
    check_gradients(report, "RoundSTE", [x], lambda t: t, g, exact=True,
                    hint="Straight-through: treat round as the identity in backward and return grad_output "
                         "itself (the true derivative of round, 0 almost everywhere, would stop learning).")
    unchanged(report, "RoundSTE", [x])


# ---------------------------------------------------------------- 3.16 MulAdd

MULADD_CASES = {
    "w-row": ((4, 3), (1, 3), (3,)),
    "w-column": ((4, 3), (4, 1), (3,)),
    "b-0-d": ((2, 3), (2, 3), ()),
}


def muladd_inputs(case, dtype=F64):
    shapes = MULADD_CASES[case]
    return [seeded(shape, 20 + i, dtype) for i, shape in enumerate(shapes)]


@weight(0.5)
@number("3.16")
@tags("MulAdd")
def test_muladd_is_a_function(student):
    """MulAdd: a torch.autograd.Function used through .apply (grad_fn MulAddBackward)"""
    apply(student, "MulAdd", muladd_inputs("w-row", torch.float32), call="(x, w, b)")


@pytest.mark.parametrize("case", list(MULADD_CASES))
@weight(0.5)
@number("3.17")
@tags("MulAdd")
def test_muladd_forward(student, case):
    """MulAdd: forward multiplies by w and adds b elementwise, with broadcasting (float32), inputs unchanged"""
    args = muladd_inputs(case, torch.float32)
    report = apply(student, "MulAdd", args, call="(x, w, b)")
    x, w, b = args
    checks.tensor(report["out"], x * w + b, name="MulAdd", what="the output of MulAdd.apply(x, w, b)",
                  hint=checks.Hint("An elementwise product with w plus b, broadcasting w and b against x (not a "
                                   "matrix product).", "MulAdd.forward"))
    unchanged(report, "MulAdd", args)


@pytest.mark.parametrize("case", list(MULADD_CASES))
@weight(1)
@number("3.18")
@tags("MulAdd")
def test_muladd_backward(student, case):
    """MulAdd: gradients of x, w and b, each with exactly the shape of its input"""
    args = muladd_inputs(case)
    x, w, b = args
    g = seeded(torch.broadcast_shapes(x.shape, w.shape, b.shape), 29)
    report = apply(student, "MulAdd", args, g, call="(x, w, b)")
    check_gradients(report, "MulAdd", args, lambda x, w, b: x * w + b, g, ("x", "w", "b"),
                    hint="dL/dx = grad_output * w, dL/dw = grad_output * x, dL/db = grad_output, each "
                         "summed over the dimensions where broadcasting repeated that input.")
    unchanged(report, "MulAdd", args)


@weight(0.5)
@number("3.19")
@tags("MulAdd")
def test_muladd_saves_with_save_for_backward(student):
    """MulAdd: x and w are saved with ctx.save_for_backward, not kept on ctx"""
    report = apply(student, "MulAdd", muladd_inputs("w-row"), call="(x, w, b)")
    no_ctx_attributes(report, "MulAdd")
    checks.that(report["saved_count"] >= 2, f"MulAdd saved {report['saved_count']} tensor(s) with "
                "ctx.save_for_backward; backward needs at least x and w.",
                hint=checks.Hint("Save x, w and b in forward (b for its shape) and read them back in backward.",
                                 "MulAdd.save"))


# ---------------------------------------------------------------- 3.20 ScaleBy

SCALE_X = torch.tensor([[1.0, -2.0], [0.5, 4.0], [-3.0, 0.0]])


@weight(0.5)
@number("3.20")
@tags("ScaleBy")
def test_scale_by_is_a_function(student):
    """ScaleBy: a torch.autograd.Function used through .apply (grad_fn ScaleByBackward)"""
    apply(student, "ScaleBy", [SCALE_X, 2.5], call="(x, k)")


@weight(1)
@number("3.21")
@tags("ScaleBy")
def test_scale_by_forward(student):
    """ScaleBy: forward is x * k for a float k (float32 stays float32), x unchanged"""
    report = apply(student, "ScaleBy", [SCALE_X, 2.5], call="(x, k)")
    checks.tensor(report["out"], SCALE_X * 2.5, name="ScaleBy", what="the output of ScaleBy.apply(x, 2.5)",
                  dtype_hint="x * k keeps x's dtype; do not make k a float64 tensor.")
    unchanged(report, "ScaleBy", [SCALE_X])


@weight(1.5)
@number("3.22")
@tags("ScaleBy")
def test_scale_by_backward(student):
    """ScaleBy: backward returns (grad_output * k, None): None for the float k"""
    x = SCALE_X.to(F64)
    g = torch.tensor([[1.0, 2.0], [-0.5, 3.0], [0.25, -4.0]], dtype=F64)
    report = apply(student, "ScaleBy", [x, -1.5], g, call="(x, k)")
    check_gradients(report, "ScaleBy", [x, -1.5], lambda t, k: t * k, g, ("x", "k"),
                    hint="d(x * k)/dx = k, times grad_output.")
    unchanged(report, "ScaleBy", [x])
