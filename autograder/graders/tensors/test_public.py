"""Public graders for assignment 1, `tensors` (shown to students, shipped in their bundle).

Each test states one rule of the course specification, on small fixed inputs whose answers
are written out here (no reference solution needed). The hidden graders check the same rules
on other inputs against the reference solution.
"""

import numpy as np
import pytest
import torch
from gradescope_utils.autograder_utils.decorators import number, tags, weight

from autograder.session import checks

EXPECTED_KEYS = {"from_list", "zeros", "ones", "arange", "float_range", "rand", "randn", "zeros_like"}
FIXED_ENTRIES = {
    "from_list": torch.tensor([[1, 2], [3, 4]], dtype=torch.int64),
    "zeros": torch.zeros(2, 3, dtype=torch.float32),
    "ones": torch.ones(3, 2, dtype=torch.float32),
    "arange": torch.tensor([0, 1, 2, 3, 4, 5], dtype=torch.int64),
    "float_range": torch.tensor([0.0, 0.25, 0.5, 0.75]),
    "zeros_like": torch.zeros(2, 2, dtype=torch.int64),
}
ENTRY_HINTS = {
    "from_list": checks.Hint("A list of Python ints gives an int64 tensor with torch.tensor; torch.Tensor(...) "
                             "makes float32.", "make_tensors.from_list"),
    "ones": "The shape is (3, 2): three rows, two columns.",
    "arange": "arange excludes its end and gives int64 for int arguments (the function is arange, one r).",
    "float_range": "arange gives float32 when an argument is a float, and excludes its end.",
    "zeros_like": "zeros_like copies the shape AND the dtype of the tensor it is given (int64 here).",
}


def grid() -> torch.Tensor:
    """The 3x4 example from the handout: [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]."""
    return torch.arange(12).reshape(3, 4)


def matmul_by_sums(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The product by the rules of the handout's section 6, written as sums: a 1-D first operand
    becomes one row and a 1-D second operand one column (both removed from the result), the
    last two dimensions multiply as matrices (a sum over the inner index), the others broadcast."""
    rows = a.unsqueeze(0) if a.dim() == 1 else a
    cols = b.unsqueeze(-1) if b.dim() == 1 else b
    product = (rows.unsqueeze(-1) * cols.unsqueeze(-3)).sum(dim=-2)
    product = product.squeeze(-2) if a.dim() == 1 else product
    return product.squeeze(-1) if b.dim() == 1 else product


def entries(student, seed=None) -> dict:
    call = student.call("make_tensors") if seed is None else student.call("make_tensors", seed)
    result = checks.is_type(call.value, dict, "make_tensors")
    return result, call


# ---------------------------------------------------------------- 1.1 make_tensors

@weight(1)
@number("1.1")
@tags("make_tensors")
def test_make_tensors_keys(student):
    """make_tensors: returns a dict with exactly the required keys"""
    result, _ = entries(student)
    keys = set(result)
    missing, extra = sorted(EXPECTED_KEYS - keys), sorted(map(str, keys - EXPECTED_KEYS))
    checks.that(not missing and not extra, "make_tensors returned the wrong keys.",
                hint="Use exactly: " + ", ".join(sorted(EXPECTED_KEYS)) + ".",
                details=f"missing {missing}, unexpected {extra}")


@pytest.mark.parametrize("key", list(FIXED_ENTRIES))
@weight(0.5)
@number("1.2")
@tags("make_tensors")
def test_make_tensors_fixed_entry(student, key):
    """make_tensors: a fixed entry has the right dtype, shape and values"""
    result, _ = entries(student)
    checks.that(key in result, f"make_tensors has no entry {key!r}.")
    checks.tensor(result[key], FIXED_ENTRIES[key], name="make_tensors", what=f"entry {key!r}",
                  hint=ENTRY_HINTS.get(key), dtype_hint=ENTRY_HINTS.get(key))


@weight(1)
@number("1.3")
@tags("make_tensors")
def test_make_tensors_random_entries(student):
    """make_tensors: rand then randn come from one generator seeded with `seed`"""
    result, _ = entries(student)
    g = torch.Generator().manual_seed(42)
    expected = {"rand": torch.rand(2, 3, 4, generator=g), "randn": torch.randn(3, generator=g)}
    hint = checks.Hint("Draw both from ONE generator seeded with `seed`: rand first, then randn, each "
                       "with generator=g.", "make_tensors.random")
    for key, value in expected.items():
        checks.that(key in result, f"make_tensors has no entry {key!r}.")
        checks.tensor(result[key], value, name="make_tensors", what=f"entry {key!r}", hint=hint)


@weight(1)
@number("1.4")
@tags("make_tensors")
def test_make_tensors_leaves_global_rng_alone(student):
    """make_tensors: does not change the global random state"""
    _, call = entries(student)
    checks.rng_untouched(call, name="make_tensors")


# ---------------------------------------------------------------- 1.5 describe

@weight(1)
@number("1.5")
@tags("describe")
def test_describe(student):
    """describe: (shape, number of dimensions, number of elements) as Python values"""
    result = checks.is_type(student.describe(torch.zeros(2, 3, 4)), tuple, "describe")
    checks.that(len(result) == 3, "describe must return three things: (shape, ndim, numel).")
    shape, ndim, numel = result
    checks.that(isinstance(shape, tuple) and all(type(n) is int for n in shape),
                "describe returned a shape that is not a tuple of ints.",
                hint="tuple(t.shape) (or t.shape itself) is a tuple of ints.")
    checks.that(tuple(shape) == (2, 3, 4), "describe returned the wrong shape.",
                details=f"got {tuple(shape)} for a tensor of shape (2, 3, 4)")
    checks.python_int(ndim, 3, name="describe", what="the number of dimensions")
    checks.python_int(numel, 24, name="describe", what="the number of elements")


# ---------------------------------------------------------------- 1.6 NumPy bridges

@weight(1)
@number("1.6")
@tags("shared_from_numpy")
def test_shared_from_numpy(student):
    """shared_from_numpy: same values and dtype, sharing memory with the array"""
    array = np.arange(6, dtype=np.float64).reshape(2, 3)
    call = student.call("shared_from_numpy", array)
    checks.tensor(call.value, torch.arange(6, dtype=torch.float64).reshape(2, 3), name="shared_from_numpy",
                  dtype_hint="Keep the array's dtype: torch.from_numpy does.")
    checks.that(call.shares_memory_with_arg(0),
                "shared_from_numpy returned a copy: writing into the array would not change the tensor.",
                hint=checks.Hint("torch.tensor copies the array's data; use the NumPy bridge that shares it.",
                                 "shared_from_numpy.copy"))


@weight(1)
@number("1.7")
@tags("copied_from_numpy")
def test_copied_from_numpy(student):
    """copied_from_numpy: same values and dtype, NOT sharing memory with the array"""
    array = np.array([[1, 2], [3, 4]], dtype=np.int32)
    call = student.call("copied_from_numpy", array)
    checks.tensor(call.value, torch.tensor([[1, 2], [3, 4]], dtype=torch.int32), name="copied_from_numpy",
                  dtype_hint="Keep the array's dtype (int32 here).")
    checks.that(not call.shares_memory_with_arg(0),
                "copied_from_numpy shares memory with the array: changing the array would change the tensor.",
                hint=checks.Hint("torch.from_numpy shares memory with the array; make a copy instead.",
                                 "copied_from_numpy.shared"))


@weight(1)
@number("1.8")
@tags("to_numpy")
def test_to_numpy_requires_grad(student):
    """to_numpy: works on a tensor that requires grad and keeps its values and dtype"""
    t = torch.tensor([1.5, -2.0, 3.25], requires_grad=True)
    value = student.to_numpy(t)
    checks.is_type(value, np.ndarray, "to_numpy",
                   hint=checks.Hint("Return a NumPy array: detach the tensor from autograd, bring it to the CPU, "
                                    "then convert it.", "to_numpy.type"))
    checks.that(value.dtype == np.float32 and value.shape == (3,), "to_numpy changed the dtype or shape.",
                details=f"got dtype {value.dtype}, shape {value.shape}; expected float32, (3,)")
    checks.that(np.array_equal(value, np.array([1.5, -2.0, 3.25], dtype=np.float32)),
                "to_numpy returned the wrong values.")


# ---------------------------------------------------------------- 1.9 arithmetic

@weight(1)
@number("1.9")
@tags("add")
def test_add_broadcasts(student):
    """add: broadcasting sum of a (3, 1) and a (1, 4) tensor, inputs unchanged"""
    x, y = torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[10.0, 20.0, 30.0, 40.0]])
    call = student.call("add", x, y)
    checks.tensor(call.value, x + y, name="add",
                  shape_hint="(3, 1) + (1, 4) broadcasts to (3, 4).")
    checks.inputs_unchanged(call, [x, y], name="add")


@weight(1)
@number("1.10")
@tags("matmul_2d")
def test_matmul_2d(student):
    """matmul_2d: the matrix product of a (2, 3) and a (3, 2) tensor"""
    a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    checks.tensor(student.matmul_2d(a, b), torch.tensor([[4.0, 5.0], [10.0, 11.0]]), name="matmul_2d",
                  hint="Row i of a times column j of b: a @ b or torch.mm(a, b). a * b is elementwise.")


@pytest.mark.parametrize("shapes", [((2, 3, 4), (4, 5)), ((2, 3), (2, 3)), ((3,), (3, 2))],
                         ids=["3-D", "inner-mismatch", "1-D"])
@weight(0.5)
@number("1.11")
@tags("matmul_2d")
def test_matmul_2d_raises_value_error(student, shapes):
    """matmul_2d: raises ValueError for a non-2-D operand or mismatched inner sizes"""
    a, b = (torch.ones(s) for s in shapes)
    checks.raises(student.call("matmul_2d", a, b), "ValueError", name="matmul_2d",
                  when=f"for operands of shapes {shapes[0]} and {shapes[1]}",
                  hint=checks.Hint("Check both operands' dimensions and inner sizes before multiplying, and "
                                   "raise ValueError yourself: torch's own error is a RuntimeError.",
                                   "matmul_2d.raises"))


@pytest.mark.parametrize("shapes", [((2, 3, 4), (4, 5)), ((5, 1, 3, 4), (2, 4, 6)), ((4,), (4,)),
                                    ((3,), (2, 3, 5))], ids=["batch-2d", "broadcast", "dot", "vector-batch"])
@weight(0.5)
@number("1.12")
@tags("batched_matmul")
def test_batched_matmul(student, shapes):
    """batched_matmul: torch.matmul semantics, including broadcast batch dimensions"""
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(s, generator=g) for s in shapes)
    checks.tensor(student.batched_matmul(a, b), matmul_by_sums(a, b), name="batched_matmul",
                  shape_hint="Batch dimensions broadcast (torch.matmul or @ do it); torch.mm and "
                             "torch.bmm do not.")


@pytest.mark.parametrize("shapes,expected", [
    (((2, 3), (3, 4)), (2, 4)), (((3,), (3,)), ()), (((3,), (3, 4)), (4,)), (((2, 3), (3,)), (2,)),
    (((5, 1, 3, 4), (2, 4, 6)), (5, 2, 3, 6)), (((7, 3, 4), (4,)), (7, 3)),
], ids=["2d", "dot", "vec-mat", "mat-vec", "broadcast", "batch-vec"])
@weight(0.5)
@number("1.13")
@tags("matmul_shape")
def test_matmul_shape(student, shapes, expected):
    """matmul_shape: the shape torch.matmul returns"""
    got = student.matmul_shape(*shapes)
    checks.is_type(got, tuple, "matmul_shape", hint="Return a tuple of ints, e.g. (2, 4); () for a scalar.")
    checks.that(checks.same_data(got, expected), "matmul_shape returned the wrong shape.",
                details=f"for {shapes[0]} and {shapes[1]}: got {got}, expected {expected}",
                hint="1-D operands get a dimension added (and removed afterwards); batch "
                     "dimensions broadcast.")


@pytest.mark.parametrize("shapes", [((), (3,)), ((2, 3), (4, 5)), ((2, 2, 3), (3, 3, 4))],
                         ids=["0-D", "inner-mismatch", "batch-mismatch"])
@weight(0.5)
@number("1.14")
@tags("matmul_shape")
def test_matmul_shape_raises(student, shapes):
    """matmul_shape: raises ValueError where torch.matmul would raise"""
    checks.raises(student.call("matmul_shape", *shapes), "ValueError", name="matmul_shape",
                  when=f"for {shapes[0]} and {shapes[1]}")


@weight(1)
@number("1.15")
@tags("matmul_shape")
def test_matmul_shape_is_pure_python(student):
    """matmul_shape: computed in pure Python, without torch"""
    student.matmul_shape((2, 3), (3, 4))  # it must at least run
    checks.pure_python(student, "matmul_shape", task="the shape",
                       hint="Work on the tuples of ints only: compare sizes, broadcast the batch part by hand.")


# ---------------------------------------------------------------- 1.16 views and in-place

@weight(1)
@number("1.16")
@tags("flatten_batch")
def test_flatten_batch_is_a_view(student):
    """flatten_batch: (N, d1, d2) becomes (N, d1*d2), a view of a contiguous input"""
    x = torch.arange(24.0).reshape(2, 3, 4)
    call = student.call("flatten_batch", x)
    checks.tensor(call.value, x.reshape(2, 12), name="flatten_batch")
    checks.that(call.shares_memory_with_arg(0), "flatten_batch copied a contiguous input instead of returning a view.",
                hint="x.view(x.shape[0], -1) or x.reshape(x.shape[0], -1) return a view when they can; "
                     "avoid .clone(), .contiguous() copies, torch.tensor(...) or .tolist().")


@weight(1)
@number("1.17")
@tags("flatten_batch")
def test_flatten_batch_non_contiguous(student):
    """flatten_batch: also works on a non-contiguous (transposed) input"""
    x = torch.arange(24.0).reshape(4, 3, 2).transpose(0, 2)
    checks.tensor(student.flatten_batch(x), x.reshape(2, 12), name="flatten_batch",
                  hint="view() fails on non-contiguous tensors ('view size is not compatible with input "
                       "tensor's size and stride'); reshape() copies when it must.")


@weight(1)
@number("1.18")
@tags("add_inplace")
def test_add_inplace(student):
    """add_inplace: adds y into x in place and returns x itself"""
    x, y = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([10.0, 20.0, 30.0])
    call = student.call("add_inplace", x, y)
    checks.tensor(call.value, torch.tensor([11.0, 22.0, 33.0]), name="add_inplace")
    checks.that(call.is_arg(0), "add_inplace returned a new tensor instead of x itself.",
                hint=checks.Hint("An out-of-place addition makes a new tensor; use the in-place form, which "
                                 "changes x and returns it.", "add_inplace.new"))
    checks.tensor(call.args_after[0], torch.tensor([11.0, 22.0, 33.0]), name="add_inplace", what="x afterwards")
    checks.tensor(call.args_after[1], y, name="add_inplace", what="y afterwards",
                  hint="Only x may change.")


@weight(1)
@number("1.19")
@tags("add_new")
def test_add_new(student):
    """add_new: returns x + y as a new tensor and leaves x unchanged"""
    x, y = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([10.0, 20.0, 30.0])
    call = student.call("add_new", x, y)
    checks.tensor(call.value, x + y, name="add_new")
    checks.inputs_unchanged(call, [x, y], name="add_new")
    checks.that(not call.shares_memory_with_arg(0), "add_new returned x itself (or a view of it).",
                hint="x + y (or torch.add(x, y)) makes a new tensor.")


# ---------------------------------------------------------------- 1.20 indexing

@weight(1)
@number("1.20")
@tags("first_row")
def test_first_row(student):
    """first_row: row 0 of a (3, 4) tensor, shape (4,)"""
    x = grid()
    call = student.call("first_row", x)
    checks.tensor(call.value, torch.tensor([0, 1, 2, 3]), name="first_row",
                  shape_hint=checks.Hint("Indexing row 0 with an integer gives shape (cols,); a slice keeps a "
                                         "dimension: (1, cols).", "first_row.shape"))
    checks.inputs_unchanged(call, [grid()], name="first_row")


@weight(1)
@number("1.21")
@tags("second_column")
def test_second_column(student):
    """second_column: column 1 of a (3, 4) tensor, shape (3,)"""
    x = grid()
    call = student.call("second_column", x)
    checks.tensor(call.value, torch.tensor([1, 5, 9]), name="second_column",
                  shape_hint=checks.Hint("A column of a (rows, cols) tensor has shape (rows,): index every row "
                                         "and one column. x[:1] is the first ROW, shape (1, cols).",
                                         "second_column.shape"),
                  hint=checks.Hint("Column 1 is all rows at column index 1.", "second_column.values"))
    checks.inputs_unchanged(call, [grid()], name="second_column")


@weight(1)
@number("1.22")
@tags("last_column_first_two_rows")
def test_last_column_first_two_rows(student):
    """last_column_first_two_rows: the last column of rows 0 and 1, shape (2,)"""
    x = grid()
    checks.tensor(student.last_column_first_two_rows(x), torch.tensor([3, 7]),
                  name="last_column_first_two_rows",
                  hint=checks.Hint("Rows 0 and 1 (a slice up to 2), the last column (index -1).",
                                    "last_column_first_two_rows.values"))


@weight(1)
@number("1.23")
@tags("count_negatives")
def test_count_negatives(student):
    """count_negatives: the number of entries < 0, as a Python int"""
    x = torch.tensor([[-1.0, 2.0, -3.0], [0.0, -0.5, 4.0]])
    checks.python_int(student.count_negatives(x), 3, name="count_negatives")


@weight(1)
@number("1.24")
@tags("count_negatives")
def test_count_negatives_without_loops(student):
    """count_negatives: no Python loops"""
    student.count_negatives(torch.tensor([-1.0]))
    checks.no_loops(student, "count_negatives",
                    hint="(x < 0) is a boolean tensor; .sum() counts the True entries; .item() makes an int.")


# ---------------------------------------------------------------- 1.25 devices

@pytest.mark.parametrize("available,expected", [(False, "cpu"), (True, "cuda")], ids=["no-gpu", "gpu"])
@weight(0.5)
@number("1.25")
@tags("get_device")
def test_get_device_follows_cuda_availability(student, available, expected):
    """get_device: cuda when torch.cuda.is_available(), else cpu"""
    device = student.probe("tensors:get_device_when_cuda", available, what="get_device")
    checks.is_type(device, torch.device, "get_device", hint='Return torch.device("cuda") or torch.device("cpu").')
    checks.that(device == torch.device(expected), f"get_device returned {device} when CUDA "
                f"{'is' if available else 'is not'} available; expected {expected}.",
                hint="Ask torch.cuda.is_available() each time get_device is called.")


@weight(1)
@number("1.26")
@tags("to_device")
def test_to_device_nested(student):
    """to_device: moves tensors inside dicts, lists and tuples; keeps the containers and other items"""
    batch = {"x": torch.ones(2, 3), "parts": [torch.zeros(4), 7, "label"], "pair": (torch.arange(3), None)}
    moved = student.to_device(batch, torch.device("meta"))
    checks.is_type(moved, dict, "to_device", hint="Rebuild a dict as a dict with the same keys.")
    checks.that(set(moved) == set(batch), "to_device changed the keys of a dict.")
    checks.is_type(moved["parts"], list, "to_device", what="a list inside the dict")
    checks.is_type(moved["pair"], tuple, "to_device", what="a tuple inside the dict")
    checks.that(len(moved["parts"]) == 3 and len(moved["pair"]) == 2,
                "to_device changed the length of a list or tuple.", hint="Keep every item, in order.")
    for path, value, original in [("x", moved["x"], batch["x"]), ("parts[0]", moved["parts"][0], batch["parts"][0]),
                                  ("pair[0]", moved["pair"][0], batch["pair"][0])]:
        checks.is_tensor(value, "to_device", what=f"item {path}")
        checks.that(value.device.type == "meta", f"to_device left item {path} on {value.device}.",
                    hint="t.to(device) returns a NEW tensor: use what it returns.")
        checks.that(value.shape == original.shape and value.dtype == original.dtype,
                    f"to_device changed the shape or dtype of item {path}.")
    checks.that(checks.same_data(moved["parts"][1:], [7, "label"]) and moved["pair"][1] is None,
                "to_device changed items that are not tensors.", hint="Return anything else unchanged.")


@pytest.mark.cuda
@weight(0.5)
@number("1.27")
@tags("get_device")
def test_get_device_on_a_gpu(student):
    """GPU: get_device returns cuda on a machine with a GPU"""
    checks.that(checks.same_data(student.get_device(), torch.device("cuda")),
                "get_device did not return cuda on a GPU machine.",
                hint="Ask torch.cuda.is_available() each time get_device is called.")


@pytest.mark.cuda
@weight(0.5)
@number("1.28")
@tags("to_device")
def test_to_device_moves_to_the_gpu(student):
    """GPU: to_device moves nested tensors to the GPU"""
    moved = student.to_device([torch.arange(4.0), {"w": torch.ones(2)}], torch.device("cuda"))
    on_gpu = [v for v in (moved[0], moved[1].get("w")) if type(v) is torch.Tensor and v.device.type == "cuda"] \
        if type(moved) is list and len(moved) == 2 and type(moved[1]) is dict else []
    checks.that(len(on_gpu) == 2,
                "to_device did not move every tensor to the GPU.", hint="t.to(device) returns a NEW tensor.")


@pytest.mark.cuda
@weight(0.5)
@number("1.29")
@tags("to_numpy")
def test_to_numpy_from_the_gpu(student):
    """GPU: to_numpy brings a GPU tensor that requires grad back as a NumPy array"""
    back = student.to_numpy(torch.arange(4.0, device="cuda", requires_grad=True))
    checks.is_type(back, np.ndarray, "to_numpy", hint=checks.Hint("A GPU tensor must come to the CPU (and leave autograd) "
                                                      "before it becomes a NumPy array.", "to_numpy.gpu"))
    checks.that(np.array_equal(back, np.arange(4.0, dtype=np.float32)), "to_numpy returned the wrong values.")
