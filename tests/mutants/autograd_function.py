"""Wrong `autograd_function` submissions, one per mistake of spec §3: each loses points on its class only."""

from kit import Mutant

MUTANTS = [
    Mutant("square_ignores_grad_output", "Square", '''
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x
''', r"Square\.backward ignores grad_output"),
    Mutant("square_keeps_x_on_ctx", "Square", '''
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x**2

    @staticmethod
    def backward(ctx, grad_output):
        return 2 * ctx.x * grad_output
''', r"Square keeps tensors as attributes of ctx \(ctx\.x\)"),
    Mutant("square_too_many_gradients", "Square", '''
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output, 2 * x * grad_output
''', r"Square raised RuntimeError: function SquareBackward returned an incorrect number of gradients"),
    Mutant("square_extra_none", "Square", '''
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output, None
''', r"Square\.backward returned 2 value\(s\); expected 1"),
    Mutant("square_not_a_function", "Square", '''
class Square:
    @staticmethod
    def apply(x):
        return x**2
''', r"Square is not a subclass of torch\.autograd\.Function"),
    Mutant("square_overrides_apply", "Square", '''
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output

    @staticmethod
    def apply(x):
        return x**2
''', r"Square\.apply\(x\) has grad_fn PowBackward0; expected SquareBackward"),
    Mutant("sigmoid_saves_input", "Sigmoid", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 1 / (1 + torch.exp(-x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        s = 1 / (1 + torch.exp(-x))
        return grad_output * s * (1 - s)
''', r"Sigmoid did not save its output \(it saved x instead\)"),
    Mutant("sigmoid_keeps_output_on_ctx", "Sigmoid", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.out = 1 / (1 + torch.exp(-x))
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.out * (1 - ctx.out)
''', r"Sigmoid keeps tensors as attributes of ctx \(ctx\.out\)"),
    Mutant("sigmoid_wrong_derivative", "Sigmoid", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out
''', r"Sigmoid returned the wrong values in the gradient of x"),
    Mutant("threes_python_loop", "IHateThrees", '''
class IHateThrees(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.tensor([0.0 if v == 3 else v for v in x.tolist()], dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.where(x == 3, torch.zeros_like(grad_output), grad_output)
''', r"IHateThrees raised TypeError"),
    Mutant("threes_in_place", "IHateThrees", '''
class IHateThrees(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        mask = x == 3
        ctx.save_for_backward(mask)
        x[mask] = 0
        return x

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return torch.where(mask, torch.zeros_like(grad_output), grad_output)
''', r"IHateThrees modified its input|IHateThrees raised"),
    Mutant("threes_gradient_passes_threes", "IHateThrees", '''
class IHateThrees(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x == 3, torch.zeros_like(x), x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.clone()
''', r"IHateThrees returned the wrong values in the gradient of x"),
    Mutant("round_true_derivative", "RoundSTE", '''
class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.zeros_like(grad_output)
''', r"RoundSTE returned the wrong values in the gradient of x"),
    Mutant("round_ones", "RoundSTE", '''
class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.ones_like(grad_output)
''', r"RoundSTE\.backward ignores grad_output"),
    Mutant("round_half_up", "RoundSTE", '''
class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.floor(x + 0.5)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
''', r"RoundSTE returned the wrong values in the output of RoundSTE\.apply"),
    Mutant("muladd_no_reduction", "MulAdd", '''
class MulAdd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x * w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        return grad_output * w, grad_output * x, grad_output
''', r"MulAdd\.backward returned a gradient of shape \(4, 3\) for w of shape \(1, 3\)"),
    Mutant("muladd_sum_drops_dimension", "MulAdd", '''
class MulAdd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x * w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        return grad_output * w, (grad_output * x).sum(0), grad_output.sum(0)
''', r"MulAdd raised RuntimeError: Function MulAddBackward returned an invalid gradient at index"),
    Mutant("muladd_ctx_attributes", "MulAdd", '''
class MulAdd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.saved = (x, w, b)
        return x * w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w, b = ctx.saved
        return (grad_output * w).sum_to_size(x.shape), (grad_output * x).sum_to_size(w.shape), \\
            grad_output.sum_to_size(b.shape)
''', r"MulAdd keeps tensors as attributes of ctx \(ctx\.saved\)"),
    Mutant("scale_by_gradient_for_k", "ScaleBy", '''
class ScaleBy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.k, grad_output * ctx.k
''', r"ScaleBy raised RuntimeError: function ScaleByBackward returned a gradient different than None"),
    Mutant("scale_by_one_gradient", "ScaleBy", '''
class ScaleBy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.k
''', r"incorrect number of gradients \(expected 2, got 1\)"),
    Mutant("scale_by_ignores_grad_output", "ScaleBy", '''
class ScaleBy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad_output):
        return torch.full_like(grad_output, ctx.k), None
''', r"ScaleBy\.backward ignores grad_output"),
]
