"""The boundary lets only plain data through."""

import collections
import io
import pickle

import numpy as np
import pytest
import torch

from autograder import wire


class Sub(torch.Tensor):
    pass


@pytest.mark.parametrize("value", [
    None, True, 3, 2.5, "text", b"bytes", (1, [2, {"a": 3}]), torch.Size([2, 3]), torch.float64,
    torch.device("cpu"), collections.OrderedDict(a=torch.ones(2)), np.arange(4, dtype=np.int32), np.float32(1.5),
])
def test_plain_values_round_trip(value):
    back = wire.loads(wire.dumps(value))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert np.array_equal(back, value) and back.dtype == value.dtype
    elif isinstance(value, dict):
        assert list(back) == list(value)
    else:
        assert back == value


def test_tensor_keeps_dtype_shape_and_requires_grad():
    t = torch.arange(6.0).reshape(2, 3).t().requires_grad_()
    back = wire.loads(wire.dumps(t))
    assert type(back) is torch.Tensor and back.requires_grad and torch.equal(back.detach(), t.detach())
    assert back.stride() == t.stride() and not back.is_contiguous()
    meta = wire.loads(wire.dumps(torch.empty(2, 5, device="meta")))
    assert meta.device.type == "meta" and meta.shape == (2, 5)


@pytest.mark.parametrize("value", [torch.ones(2).as_subclass(Sub), torch.nn.Parameter(torch.ones(2)),
                                   np.float64(1.0).__class__, object(), lambda: 1, np.ma.masked_array([1, 2])])
def test_anything_else_crosses_as_opaque(value):
    back = wire.loads(wire.dumps(value))
    assert isinstance(back, wire.Opaque)


def test_a_pickle_payload_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    with pytest.raises(wire.WireError):
        wire.loads(pickle.dumps(Evil()))
    buffer = io.BytesIO()
    torch.save({"$": "tensor", "data": torch.ones(2).as_subclass(Sub)}, buffer)
    with pytest.raises(wire.WireError):
        wire.loads(buffer.getvalue())
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("tree", [{"$": "nope"}, {"$": "tensor", "data": torch.ones(2), "dtype": "float32",
                                                  "device": "cpu", "shape": [3]}, [1, 2], {"x": 1}])
def test_malformed_trees_are_refused(tree):
    buffer = io.BytesIO()
    torch.save(tree, buffer)
    with pytest.raises(wire.WireError):
        wire.loads(buffer.getvalue())
