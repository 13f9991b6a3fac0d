"""Hidden graders for assignment 1, `tensors`: the public rules again, on other inputs.

Expected values come from the reference solution, run here (in the trusted grader) on the
grader's own copy of the inputs. Shapes and values are drawn from fixed seeds, so every grade
of the same submission is identical. Messages never show inputs or expected values.
"""

import random

import numpy as np
import pytest
import torch
from gradescope_utils.autograder_utils.decorators import number, tags, visibility, weight

from autograder.session import checks

HIDDEN = "after_due_date"


def random_tensor(shape, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    if dtype.is_floating_point:
        return torch.randn(shape, generator=g).to(dtype)
    return torch.randint(-9, 10, shape, generator=g, dtype=dtype)


def matmul_shape_cases(count=300, seed=1234):
    """Shape pairs for torch.matmul: 1-D to 4-D, broadcasting and mismatched batch/inner sizes."""
    rng = random.Random(seed)
    cases = [((0,), (0,)), ((1,), (1,)), ((2, 1, 3), (3,)), ((3,), (1, 3, 2)), ((1, 2, 3), (4, 3, 5))]
    while len(cases) < count:
        inner = rng.randint(1, 4)
        a_dims, b_dims = rng.randint(1, 4), rng.randint(1, 4)
        a = [rng.randint(1, 3) for _ in range(a_dims - 1)] + [inner]
        b = ([inner] if b_dims == 1 else [rng.randint(1, 3) for _ in range(b_dims - 2)] + [inner, rng.randint(1, 4)])
        if rng.random() < 0.15:
            b[0 if b_dims == 1 else -2] += 1            # inner-size mismatch
        if rng.random() < 0.3 and a_dims > 2 and b_dims > 2:
            a[0] = rng.choice([1, 2, 3])                # batch sizes that may not broadcast
        cases.append((tuple(a), tuple(b)))
    return cases


def torch_matmul_shape(a, b):
    """torch.matmul itself is the oracle (on tiny CPU tensors: the meta device costs a second to load)."""
    try:
        return tuple(torch.matmul(torch.zeros(a), torch.zeros(b)).shape)
    except RuntimeError:
        return None


@weight(1)
@number("1.30")
@tags("make_tensors")
@visibility(HIDDEN)
def test_make_tensors_other_seed(student, reference):
    """make_tensors: the random entries follow the seed argument"""
    result = checks.is_type(student.make_tensors(7), dict, "make_tensors")
    expected = reference.make_tensors(7)
    for key in ("rand", "randn"):
        checks.that(key in result, f"make_tensors has no entry {key!r}.")
        checks.tensor(result[key], expected[key], name="make_tensors", what=f"entry {key!r}",
                      hint="Seed the generator with the `seed` argument, not a fixed number.")


@pytest.mark.parametrize("shape", [(), (5,), (2, 0, 3), (1, 2, 3, 4, 5)], ids=["0-d", "1-d", "empty", "5-d"])
@weight(0.25)
@number("1.31")
@tags("describe")
@visibility(HIDDEN)
def test_describe_any_shape(student, reference, shape):
    """describe: works for any number of dimensions, including 0-d and empty tensors"""
    result = checks.is_type(student.describe(torch.zeros(shape)), tuple, "describe")
    expected = reference.describe(torch.zeros(shape))
    checks.that(len(result) == 3 and type(result[0]) in (tuple, torch.Size)
                and checks.same_data(tuple(result[0]), tuple(expected[0])) and checks.same_data(result[1:], expected[1:]),
                "describe returned the wrong description for a tensor of another shape.",
                hint="t.shape, t.dim() and t.numel() work for every shape, including () and sizes of 0.")


NUMPY_DTYPES = [np.int64, np.float32, np.uint8]


@pytest.mark.parametrize("dtype", NUMPY_DTYPES, ids=["int64", "float32", "uint8"])
@weight(0.25)
@number("1.32")
@tags("shared_from_numpy")
@visibility(HIDDEN)
def test_shared_from_numpy_keeps_dtype(student, reference, dtype):
    """shared_from_numpy: keeps every dtype and shares memory"""
    array = np.arange(12).reshape(3, 4).astype(dtype)
    shared = student.call("shared_from_numpy", array)
    checks.tensor(shared.value, reference.shared_from_numpy(array.copy()), name="shared_from_numpy")
    checks.that(shared.shares_memory_with_arg(0), "shared_from_numpy does not share memory with the array.")


@pytest.mark.parametrize("dtype", NUMPY_DTYPES, ids=["int64", "float32", "uint8"])
@weight(0.25)
@number("1.32")
@tags("copied_from_numpy")
@visibility(HIDDEN)
def test_copied_from_numpy_keeps_dtype(student, reference, dtype):
    """copied_from_numpy: keeps every dtype and does not share memory"""
    array = np.arange(12).reshape(3, 4).astype(dtype)
    copied = student.call("copied_from_numpy", array)
    checks.tensor(copied.value, reference.copied_from_numpy(array.copy()), name="copied_from_numpy")
    checks.that(not copied.shares_memory_with_arg(0), "copied_from_numpy shares memory with the array.")


@pytest.mark.parametrize("dtype", [torch.float64, torch.int64], ids=["float64", "int64"])
@weight(0.5)
@number("1.33")
@tags("to_numpy")
@visibility(HIDDEN)
def test_to_numpy_other_dtypes(student, reference, dtype):
    """to_numpy: keeps the values and dtype of other tensors"""
    t = random_tensor((3, 2), 5, dtype)
    value = checks.is_type(student.to_numpy(t), np.ndarray, "to_numpy")
    expected = reference.to_numpy(t.clone())
    checks.that(value.dtype == expected.dtype and np.array_equal(value, expected),
                "to_numpy changed the dtype or values of a tensor.")


@pytest.mark.parametrize("shapes", [((4, 1, 3), (2, 1)), ((5,), (3, 1)), ((2, 3), ())], ids=["3d", "vec-col", "scalar"])
@weight(0.5)
@number("1.34")
@tags("add")
@visibility(HIDDEN)
def test_add_broadcast_shapes(student, reference, shapes):
    """add: broadcasting over other shapes, inputs unchanged"""
    x, y = random_tensor(shapes[0], 1), random_tensor(shapes[1], 2)
    call = student.call("add", x, y)
    checks.tensor(call.value, reference.add(x.clone(), y.clone()), name="add")
    checks.inputs_unchanged(call, [x, y], name="add")


@weight(1)
@number("1.35")
@tags("matmul_2d")
@visibility(HIDDEN)
def test_matmul_2d_random(student, reference):
    """matmul_2d: random shapes, float64 and integer inputs"""
    for seed, (n, k, m), dtype in [(3, (5, 7, 2), torch.float64), (4, (1, 3, 1), torch.int64), (5, (6, 1, 4), torch.float32)]:
        a, b = random_tensor((n, k), seed, dtype), random_tensor((k, m), seed + 1, dtype)
        checks.tensor(student.matmul_2d(a, b), reference.matmul_2d(a, b), name="matmul_2d")


@weight(1)
@number("1.36")
@tags("batched_matmul")
@visibility(HIDDEN)
def test_batched_matmul_random(student, reference):
    """batched_matmul: many broadcastable shapes"""
    valid = [c for c in matmul_shape_cases(40, seed=99) if torch_matmul_shape(*c) is not None]
    for index, (a_shape, b_shape) in enumerate(valid[:20]):
        a, b = random_tensor(a_shape, index), random_tensor(b_shape, index + 100)
        checks.tensor(student.batched_matmul(a, b), reference.batched_matmul(a, b), name="batched_matmul")


@weight(2)
@number("1.37")
@tags("matmul_shape")
@visibility(HIDDEN)
def test_matmul_shape_agrees_with_torch(student):
    """matmul_shape: agrees with torch.matmul on 300 shape pairs, raising ValueError where it raises"""
    cases = matmul_shape_cases()
    outcomes = student.probe("core:call_many", "matmul_shape", [list(c) for c in cases], what="matmul_shape")
    wrong = 0
    for (a, b), outcome in zip(cases, outcomes):
        expected = torch_matmul_shape(a, b)
        if expected is None:
            wrong += "error" not in outcome or outcome["error"][0] != "ValueError"
        else:
            value = outcome.get("value")
            wrong += type(value) not in (tuple, torch.Size) or not checks.same_data(tuple(value), expected)
    checks.that(wrong == 0, f"matmul_shape disagrees with torch.matmul on {wrong} of {len(cases)} shape pairs.",
                hint="Check 1-D operands (prepend/append a 1, then remove it), batch broadcasting "
                     "(compare sizes right to left; 1 stretches), and raise ValueError when inner sizes "
                     "or batch sizes do not match.")


@pytest.mark.parametrize("shape", [(3,), (2, 5), (4, 1, 2, 3), (2, 0, 3)], ids=["1-d", "2-d", "4-d", "empty"])
@weight(0.25)
@number("1.38")
@tags("flatten_batch")
@visibility(HIDDEN)
def test_flatten_batch_shapes(student, reference, shape):
    """flatten_batch: other shapes; a view when the input is contiguous"""
    x = random_tensor(shape, 11)
    call = student.call("flatten_batch", x)
    checks.tensor(call.value, reference.flatten_batch(x.clone()), name="flatten_batch")
    if x.numel():
        checks.that(call.shares_memory_with_arg(0), "flatten_batch copied a contiguous input.")


@weight(1)
@number("1.39")
@tags("add_inplace")
@visibility(HIDDEN)
def test_add_inplace_broadcasts_y(student, reference):
    """add_inplace: y broadcasts into x; x itself is returned"""
    x, y = random_tensor((3, 4), 21), random_tensor((1, 4), 22)
    call = student.call("add_inplace", x, y)
    expected = reference.add_inplace(x.clone(), y.clone())
    checks.that(call.is_arg(0), "add_inplace did not return x itself.")
    checks.tensor(call.args_after[0], expected, name="add_inplace", what="x afterwards")


@weight(0.5)
@number("1.40")
@tags("add_new")
@visibility(HIDDEN)
def test_add_new_broadcasts(student, reference):
    """add_new: broadcasting, x unchanged"""
    x, y = random_tensor((2, 3), 31), random_tensor((3,), 32)
    call = student.call("add_new", x, y)
    checks.tensor(call.value, reference.add_new(x.clone(), y.clone()), name="add_new")
    checks.inputs_unchanged(call, [x, y], name="add_new")


def check_indexing(student, reference, function):
    for seed, shape, dtype in [(41, (5, 3), torch.float64), (42, (2, 7), torch.int64)]:
        x = random_tensor(shape, seed, dtype)
        call = student.call(function, x)
        checks.tensor(call.value, getattr(reference, function)(x.clone()), name=function)
        checks.inputs_unchanged(call, [x], name=function)


@weight(0.5)
@number("1.41")
@tags("first_row")
@visibility(HIDDEN)
def test_first_row_other_shapes(student, reference):
    """first_row: other shapes and dtypes, input unchanged"""
    check_indexing(student, reference, "first_row")


@weight(0.5)
@number("1.41")
@tags("second_column")
@visibility(HIDDEN)
def test_second_column_other_shapes(student, reference):
    """second_column: other shapes and dtypes, input unchanged"""
    check_indexing(student, reference, "second_column")


@weight(0.5)
@number("1.41")
@tags("last_column_first_two_rows")
@visibility(HIDDEN)
def test_last_column_first_two_rows_other_shapes(student, reference):
    """last_column_first_two_rows: other shapes and dtypes, input unchanged"""
    check_indexing(student, reference, "last_column_first_two_rows")


@pytest.mark.parametrize("case", ["random", "none", "empty", "int"])
@weight(0.25)
@number("1.42")
@tags("count_negatives")
@visibility(HIDDEN)
def test_count_negatives_cases(student, reference, case):
    """count_negatives: random, all non-negative, empty and integer tensors"""
    x = {"random": random_tensor((6, 7), 51), "none": torch.arange(5.0), "empty": torch.empty(0, 3),
         "int": random_tensor((4, 4), 52, torch.int64)}[case]
    checks.python_int(student.count_negatives(x), reference.count_negatives(x), name="count_negatives")


@weight(1)
@number("1.43")
@tags("to_device")
@visibility(HIDDEN)
def test_to_device_deep_nesting(student):
    """to_device: nested containers and non-tensor leaves; cpu keeps the values"""
    batch = [{"a": (torch.ones(2), [torch.zeros(1, 3)])}, 3.5, "text", None]
    moved = student.to_device(batch, torch.device("meta"))
    checks.that(type(moved) is list and len(moved) == 4 and type(moved[0]) is dict
                and type(moved[0].get("a")) is tuple and len(moved[0]["a"]) == 2
                and type(moved[0]["a"][1]) is list and len(moved[0]["a"][1]) == 1,
                "to_device changed the container types of a nested structure.")
    inner = [moved[0]["a"][0], moved[0]["a"][1][0]]
    checks.that(all(type(t) is torch.Tensor and t.device.type == "meta" for t in inner),
                "to_device did not move tensors nested several levels deep.")
    checks.that(checks.same_data(moved[1:], [3.5, "text", None]), "to_device changed items that are not tensors.")
    same = student.to_device({"x": torch.arange(3.0)}, torch.device("cpu"))
    checks.tensor(same["x"], torch.arange(3.0), name="to_device", what="a tensor moved to the cpu")
