"""Wrong `manual_gradients` submissions, one per mistake of spec §2: each loses points on its function only."""

from kit import Mutant

MUTANTS = [
    # -- autograd where the contract says "without autograd"
    Mutant("mean_poly_grad_backward", "mean_poly_grad", '''
def mean_poly_grad(x):
    with torch.inference_mode(False), torch.enable_grad():
        xg = x.detach().clone().requires_grad_(True)
        y = ((xg + 2) ** 2 + 3).mean()
        y.backward()
    return xg.grad.detach()
''', r"mean_poly_grad uses autograd: .*`\.backward\(\)` on line \d+"),
    Mutant("sigmoid_backward_autograd_grad", "sigmoid_backward", '''
def sigmoid_backward(x, grad_out):
    with torch.inference_mode(False):
        xg = x.clone().requires_grad_()
        (g,) = torch.autograd.grad(torch.sigmoid(xg), xg, grad_out)
    return g
''', r"sigmoid_backward uses autograd: `(torch\.autograd|requires_grad_\(\))` on line \d+"),
    Mutant("product_grads_via_helper", "product_grads", '''
def product_grads(a, b):
    return _product_helper(a, b)


def _product_helper(a, b):
    a2, b2 = a.detach().clone(), b.detach().clone()
    return b2.data, a2.data
''', r"product_grads uses autograd: `\.data` in its helper `_product_helper` on line \d+"),
    Mutant("sum_square_grad_calls_autograd_grad", "sum_square_grad", '''
def sum_square_grad(x):
    return autograd_grad(lambda t: ((t + 5) ** 2 + 1).sum(), x)
''', r"sum_square_grad uses autograd: `autograd_grad`"),
    # -- forgotten 1/n of a mean
    Mutant("mean_poly_grad_no_1_over_n", "mean_poly_grad", '''
def mean_poly_grad(x):
    return 2 * (x + 2)
''', r"n times too large: it is missing the 1/n of the mean"),
    Mutant("mean_poly_grad_divides_by_len", "mean_poly_grad", '''
def mean_poly_grad(x):
    return 2 * (x + 2) / len(x)
''', r"divides by len\(x\) instead of the number of elements"),
    Mutant("mse_grad_no_1_over_n", "mse_grad", '''
def mse_grad(pred, target):
    return 2 * (pred - target)
''', r"mse_grad's result is n times too large"),
    Mutant("mse_grad_wrong_sign", "mse_grad", '''
def mse_grad(pred, target):
    return 2 * (target - pred) / pred.numel()
''', r"mse_grad has the wrong sign"),
    Mutant("mean_poly_forward_sum", "mean_poly_forward", '''
def mean_poly_forward(x):
    a = x + 2
    b = a ** 2
    c = b + 3
    return a, b, c, c.sum()
''', r"returned the sum of c as y"),
    Mutant("product_grads_swapped", "product_grads", '''
def product_grads(a, b):
    return a.clone(), b.clone()
''', r"product_grads returned the gradients swapped"),
    Mutant("product_grads_returns_inputs", "product_grads", '''
def product_grads(a, b):
    return b, a
''', r"product_grads returned one of its inputs"),
    Mutant("sum_square_grad_modifies_input", "sum_square_grad", '''
def sum_square_grad(x):
    x += 5
    return 2 * x
''', r"sum_square_grad modified its input"),
    # -- linear_backward shapes and orientation; ignored upstream gradients
    Mutant("linear_backward_weight_transposed", "linear_backward", '''
def linear_backward(x, weight, bias, grad_out):
    return grad_out @ weight, x.T @ grad_out, grad_out.sum(dim=0)
''', r"returned dL/dweight transposed"),
    Mutant("linear_backward_bias_wrong_axis", "linear_backward", '''
def linear_backward(x, weight, bias, grad_out):
    return grad_out @ weight, grad_out.T @ x, grad_out.sum(dim=1)
''', r"summed over the wrong axis for dL/dbias"),
    Mutant("linear_backward_bias_mean", "linear_backward", '''
def linear_backward(x, weight, bias, grad_out):
    return grad_out @ weight, grad_out.T @ x, grad_out.mean(dim=0)
''', r"averages grad_out over the batch"),
    Mutant("linear_backward_ignores_grad_out", "linear_backward", '''
def linear_backward(x, weight, bias, grad_out):
    ones = torch.ones_like(grad_out)
    return ones @ weight, ones.T @ x, ones.sum(dim=0)
''', r"linear_backward ignores grad_out"),
    Mutant("sigmoid_backward_ignores_grad_out", "sigmoid_backward", '''
def sigmoid_backward(x, grad_out):
    s = torch.sigmoid(x)
    return s * (1 - s)
''', r"sigmoid_backward ignores grad_out"),
    # -- autograd_grad: accumulation, modifying x, not detaching
    Mutant("autograd_grad_accumulates", "autograd_grad", '''
def autograd_grad(f, x):
    if not x.requires_grad:
        x.requires_grad_(True)
    f(x).backward()
    return x.grad.detach().clone()
''', r"autograd_grad (gave a different answer the second time|changed x\.requires_grad|left a gradient accumulated)"),
    Mutant("autograd_grad_leaves_grad", "autograd_grad", '''
def autograd_grad(f, x):
    if x.requires_grad:
        if x.grad is not None:
            x.grad = None
        f(x).backward()
        return x.grad.detach().clone()
    xg = x.detach().clone().requires_grad_(True)
    f(xg).backward()
    return xg.grad
''', r"autograd_grad left a gradient accumulated in x\.grad"),
    Mutant("autograd_grad_not_detached", "autograd_grad", '''
def autograd_grad(f, x):
    xg = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(xg), xg, create_graph=True)
    return grad
''', r"autograd_grad returned a tensor that requires grad"),
    Mutant("autograd_grad_modifies_x", "autograd_grad", '''
def autograd_grad(f, x):
    xg = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(xg), xg)
    with torch.no_grad():
        x.add_(0.0 * grad + 1.0)
        x.sub_(1.0)
        x.mul_(1.0 + 1e-3)
    return grad
''', r"autograd_grad modified x"),
    # -- central_difference: one-sided, not restoring x
    Mutant("central_difference_forward", "central_difference", '''
def central_difference(f, x, eps=1e-6):
    point = x.detach().clone()
    flat = point.view(-1)
    grad = torch.empty_like(flat)
    f0 = float(f(point))
    for i in range(flat.numel()):
        original = flat[i].item()
        flat[i] = original + eps
        grad[i] = (float(f(point)) - f0) / eps
        flat[i] = original
    return grad.view(x.shape)
''', r"central_difference is one-sided"),
    Mutant("central_difference_changes_x", "central_difference", '''
def central_difference(f, x, eps=1e-6):
    flat = x.view(-1)
    grad = torch.empty_like(flat)
    for i in range(flat.numel()):
        original = flat[i].item()
        flat[i] = original + eps
        f_plus = float(f(x))
        flat[i] = original - eps
        f_minus = float(f(x))
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.view(x.shape)
''', r"central_difference (changed x|returned the wrong values)"),
    Mutant("central_difference_no_restore", "central_difference", '''
def central_difference(f, x, eps=1e-6):
    point = x.detach().clone()
    flat = point.view(-1)
    grad = torch.empty_like(flat)
    for i in range(flat.numel()):
        original = flat[i].item()
        flat[i] = original + eps
        f_plus = float(f(point))
        flat[i] = original - eps
        f_minus = float(f(point))
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.view(x.shape)
''', r"central_difference returned the wrong values"),
    # -- relative_error edge cases
    Mutant("relative_error_nan_on_zeros", "relative_error", '''
def relative_error(a, b):
    if a.numel() == 0:
        return 0.0
    return ((a - b).abs() / (a.abs() + b.abs())).max().item()
''', r"relative_error returned (the wrong number|NaN)|0 / 0 is NaN"),
    Mutant("relative_error_empty_raises", "relative_error", '''
def relative_error(a, b):
    return ((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max().item()
''', r"relative_error raised RuntimeError"),
    Mutant("relative_error_returns_tensor", "relative_error", '''
def relative_error(a, b):
    if a.numel() == 0:
        return torch.tensor(0.0)
    return ((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max()
''', r"relative_error returned a torch\.Tensor.*expected a Python float"),
    Mutant("relative_error_absolute", "relative_error", '''
def relative_error(a, b):
    if a.numel() == 0:
        return 0.0
    return (a - b).abs().max().item()
''', r"relative_error must not change when both inputs are scaled|relative_error returned the wrong number"),
]
