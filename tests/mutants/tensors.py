"""Wrong `tensors` submissions, one per contract of spec §1: each must lose points on its function only."""

from kit import Mutant

MUTANTS = [
    Mutant("from_list_as_float", "make_tensors", '''
def make_tensors(seed=42):
    g = torch.Generator().manual_seed(seed)
    from_list = torch.Tensor([[1, 2], [3, 4]])
    return {"from_list": from_list, "zeros": torch.zeros(2, 3), "ones": torch.ones(3, 2),
            "arange": torch.arange(6), "float_range": torch.arange(0.0, 1.0, 0.25),
            "rand": torch.rand(2, 3, 4, generator=g), "randn": torch.randn(3, generator=g),
            "zeros_like": torch.zeros_like(from_list)}
''', r"dtype torch\.float32.*expected torch\.int64"),
    Mutant("global_seed", "make_tensors", '''
def make_tensors(seed=42):
    torch.manual_seed(seed)
    from_list = torch.tensor([[1, 2], [3, 4]])
    return {"from_list": from_list, "zeros": torch.zeros(2, 3), "ones": torch.ones(3, 2),
            "arange": torch.arange(6), "float_range": torch.arange(0.0, 1.0, 0.25),
            "rand": torch.rand(2, 3, 4), "randn": torch.randn(3), "zeros_like": torch.zeros_like(from_list)}
''', r"changed the global random number generator"),
    Mutant("describe_numel_as_tensor", "describe", '''
def describe(t):
    return tuple(t.shape), t.dim(), torch.tensor(t.numel())
''', r"expected a Python int"),
    Mutant("shared_copies", "shared_from_numpy", '''
def shared_from_numpy(a):
    return torch.tensor(a)
''', r"returned a copy"),
    Mutant("copied_shares", "copied_from_numpy", '''
def copied_from_numpy(a):
    return torch.from_numpy(a)
''', r"shares memory"),
    Mutant("to_numpy_without_detach", "to_numpy", '''
def to_numpy(t):
    return t.numpy()
''', r"to_numpy raised RuntimeError.*requires grad"),
    Mutant("add_modifies_input", "add", '''
def add(x, y):
    x += y
    return x
''', r"modified its input|add raised RuntimeError"),
    Mutant("matmul_2d_elementwise", "matmul_2d", '''
def matmul_2d(a, b):
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[0]:
        raise ValueError("matmul_2d needs two 2-D tensors with matching inner sizes")
    return a * b.T
''', r"matmul_2d raised RuntimeError|wrong"),
    Mutant("matmul_2d_lets_torch_raise", "matmul_2d", '''
def matmul_2d(a, b):
    return torch.mm(a, b)
''', r"raised RuntimeError instead of ValueError"),
    Mutant("batched_with_bmm", "batched_matmul", '''
def batched_matmul(a, b):
    return torch.bmm(a, b)
''', r"batched_matmul raised RuntimeError"),
    Mutant("matmul_shape_with_torch", "matmul_shape", '''
def matmul_shape(a_shape, b_shape):
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError("0-d")
    try:
        return tuple(torch.matmul(torch.empty(a_shape), torch.empty(b_shape)).shape)
    except RuntimeError as error:
        raise ValueError(str(error)) from None
''', r"uses torch"),
    Mutant("matmul_shape_with_torch_alias", "matmul_shape", '''
import torch as T


def matmul_shape(a_shape, b_shape):
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError("0-d")
    try:
        return tuple(T.matmul(T.empty(a_shape), T.empty(b_shape)).shape)
    except RuntimeError as error:
        raise ValueError(str(error)) from None
''', r"matmul_shape uses torch: `T` \(line \d+\)"),
    Mutant("matmul_shape_torch_in_helper", "matmul_shape", '''
def _torch_shape(a_shape, b_shape):
    engine = __import__("torch")
    return tuple(engine.matmul(engine.empty(a_shape), engine.empty(b_shape)).shape)


def matmul_shape(a_shape, b_shape):
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError("0-d")
    try:
        return _torch_shape(a_shape, b_shape)
    except RuntimeError as error:
        raise ValueError(str(error)) from None
''', r"matmul_shape uses torch: `__import__\('torch'\)` in its helper `_torch_shape` \(line \d+\)"),
    Mutant("matmul_shape_no_vector_rules", "matmul_shape", '''
def matmul_shape(a_shape, b_shape):
    if len(a_shape) < 1 or len(b_shape) < 1 or a_shape[-1] != b_shape[-2 if len(b_shape) > 1 else -1]:
        raise ValueError("shapes do not match")
    return tuple(a_shape[:-1]) + tuple(b_shape[-1:])
''', r"wrong shape|disagrees with torch\.matmul"),
    Mutant("flatten_copies", "flatten_batch", '''
def flatten_batch(x):
    return x.reshape(x.shape[0], -1).clone()
''', r"copied a contiguous input"),
    Mutant("flatten_with_view", "flatten_batch", '''
def flatten_batch(x):
    return x.view(x.shape[0], -1)
''', r"flatten_batch raised RuntimeError"),
    Mutant("add_inplace_rebinds", "add_inplace", '''
def add_inplace(x, y):
    x = x + y
    return x
''', r"returned a new tensor instead of x itself"),
    Mutant("add_new_in_place", "add_new", '''
def add_new(x, y):
    return x.add_(y)
''', r"modified its input|returned x itself"),
    Mutant("first_row_keeps_dim", "first_row", '''
def first_row(x):
    return x[:1]
''', r"wrong shape"),
    Mutant("second_column_is_a_row", "second_column", '''
def second_column(x):
    return x[:1]
''', r"a column of a \\(rows, cols\\) tensor has shape \\(rows,\\)|wrong shape"),
    Mutant("last_column_wrong_rows", "last_column_first_two_rows", '''
def last_column_first_two_rows(x):
    return x[1:3, -1]
''', r"wrong values"),
    Mutant("count_negatives_with_loop", "count_negatives", '''
def count_negatives(x):
    total = 0
    for value in x.flatten().tolist():
        total += value < 0
    return int(total)
''', r"uses a `for` loop"),
    Mutant("count_negatives_loop_in_helper", "count_negatives", '''
def _negatives(values):
    return sum(1 for value in values if value < 0)


def count_negatives(x):
    return int(_negatives(x.flatten().tolist()))
''', r"uses a comprehension in its helper `_negatives` \(line \d+\)"),
    Mutant("count_negatives_tensor", "count_negatives", '''
def count_negatives(x):
    return (x < 0).sum()
''', r"expected a Python int"),
    Mutant("get_device_hardcoded", "get_device", '''
def get_device():
    return torch.device("cpu")
''', r"get_device returned cpu when CUDA is available"),
    Mutant("to_device_no_recursion", "to_device", '''
def to_device(obj, device):
    if isinstance(obj, torch.Tensor):
        obj.to(device)
    return obj
''', r"to_device left item|did not move"),
    Mutant("to_device_tuple_as_list", "to_device", '''
def to_device(obj, device):
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        return [to_device(item, device) for item in obj]
    if isinstance(obj, dict):
        return {key: to_device(value, device) for key, value in obj.items()}
    return obj
''', r"expected a tuple|container types"),
]
