"""Plain data across the process boundary between the grader and the student's process.

Values are turned into a tree of tagged nodes and sent as one `torch.save` blob, prefixed by
its length. The receiver loads it with `torch.load(..., weights_only=True)`, which never runs
code and rejects tensor subclasses, then rebuilds values from the tags, strictly. Anything that
is not plain data (a Tensor subclass, an object with a lying `__eq__`, a function) crosses as
`Opaque(type_name, text)`, so the grader can say what it got without ever touching it.

Used by both sides: the child encodes what the student's code returned, the grader decodes
it. Nothing here imports student code or knows about pytest.
"""

from __future__ import annotations

import collections
import io
import struct
from dataclasses import dataclass

import numpy as np
import torch

MAX_MESSAGE_BYTES = 64 * 2**20
MAX_DEPTH = 32
MAX_NODES = 200_000
HEADER = struct.Struct("<Q")

_PRIMITIVES = (type(None), bool, int, float, complex, str, bytes)
_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64,
    torch.complex128, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
    torch.bool)}


class WireError(Exception):
    """A message that is not well-formed plain data."""


@dataclass(frozen=True)
class Opaque:
    """A value that could not cross as data: its type's name and a short description."""

    type_name: str
    text: str

    def __str__(self) -> str:
        return f"{self.type_name} object"


# ---------------------------------------------------------------- encoding (either side)

def encode(value: object) -> dict | object:
    """Turn a Python value into a tree of plain, tagged nodes."""
    return _Encoder().node(value, 0)


class _Encoder:
    def __init__(self) -> None:
        self.count = 0
        self.path: set[int] = set()

    def node(self, value: object, depth: int) -> object:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH:
            return _opaque(value, "too large or too deeply nested to send")
        kind = type(value)
        if kind in _PRIMITIVES:
            return value
        if id(value) in self.path:
            return _opaque(value, "refers to itself")
        self.path.add(id(value))
        try:
            return self.container(value, kind, depth)
        finally:
            self.path.discard(id(value))

    def container(self, value, kind, depth):
        if kind is torch.Tensor:
            return _tensor_node(value)
        if kind is np.ndarray:
            return _ndarray_node(value)
        if isinstance(value, np.generic) and kind.__module__ == "numpy":
            return {"$": "npscalar", "dtype": value.dtype.str, "v": value.item()}
        if kind is torch.Size:
            return {"$": "size", "v": [int(n) for n in value]}
        if kind is torch.dtype:
            return {"$": "dtype", "v": str(value).removeprefix("torch.")}
        if kind is torch.device:
            return {"$": "device", "v": str(value)}
        if kind in (list, tuple):
            return {"$": kind.__name__, "v": [self.node(v, depth + 1) for v in value]}
        if kind in (dict, collections.OrderedDict):
            items = list(value.items())
            return {"$": "dict", "ordered": kind is collections.OrderedDict,
                    "k": [self.node(k, depth + 1) for k, _ in items],
                    "v": [self.node(v, depth + 1) for _, v in items]}
        return _opaque(value)


def _tensor_node(t: torch.Tensor) -> dict:
    if t.layout != torch.strided:
        return _opaque(t, f"a {t.layout} tensor")
    node = {"$": "tensor", "device": str(t.device), "dtype": str(t.dtype).removeprefix("torch."),
            "shape": list(t.shape), "requires_grad": bool(t.requires_grad), "data": None}
    if t.device.type != "meta":
        # Keep the layout (strides, views): some contracts are about non-contiguous inputs.
        node["data"] = t.detach().resolve_conj().resolve_neg().cpu()
    return node


def _ndarray_node(a: np.ndarray) -> dict:
    try:
        data = torch.from_numpy(np.array(a, copy=True, order="C"))
    except TypeError:
        return _opaque(a, f"a NumPy array of dtype {a.dtype}")
    return {"$": "ndarray", "dtype": a.dtype.str, "data": data}


def _opaque(value: object, why: str = "") -> dict:
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")
    if isinstance(value, torch.Tensor) and kind is not torch.Tensor:
        name += " (a subclass of torch.Tensor)"
    text = why
    if not text:
        try:
            text = repr(value)
        except BaseException:  # noqa: BLE001 - a student's __repr__ may raise anything
            text = "<repr failed>"
    return {"$": "opaque", "type": name[:200], "text": text[:300]}


# ---------------------------------------------------------------- decoding (strict)

def decode(node: object) -> object:
    """Rebuild a value from a tree produced by `encode`, rejecting anything else."""
    return _Decoder().value(node, 0)


class _Decoder:
    def __init__(self) -> None:
        self.count = 0

    def value(self, node: object, depth: int) -> object:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH + 2:
            raise WireError("message too large or too deeply nested")
        if type(node) in _PRIMITIVES:
            return node
        if type(node) is not dict or type(node.get("$")) is not str:
            raise WireError(f"unexpected node of type {type(node).__name__}")
        tag = node["$"]
        method = getattr(self, f"tag_{tag}", None)
        if method is None:
            raise WireError(f"unknown tag {tag!r}")
        return method(node, depth)

    def items(self, node, key, depth) -> list:
        seq = node.get(key)
        if type(seq) is not list:
            raise WireError(f"{node['$']} node without a list {key!r}")
        return [self.value(v, depth + 1) for v in seq]

    def tag_list(self, node, depth):
        return self.items(node, "v", depth)

    def tag_tuple(self, node, depth):
        return tuple(self.items(node, "v", depth))

    def tag_dict(self, node, depth):
        keys, values = self.items(node, "k", depth), self.items(node, "v", depth)
        if len(keys) != len(values):
            raise WireError("dict node with mismatched keys and values")
        try:
            pairs = dict(zip(keys, values))
        except TypeError as error:
            raise WireError("dict node with unhashable keys") from error
        return collections.OrderedDict(pairs) if node.get("ordered") is True else pairs

    def tag_size(self, node, depth):
        return torch.Size(_int_list(node.get("v")))

    def tag_dtype(self, node, depth):
        return _dtype(node.get("v"))

    def tag_device(self, node, depth):
        return _device(node.get("v"))

    def tag_tensor(self, node, depth):
        dtype, device = _dtype(node.get("dtype")), _device(node.get("device"))
        shape = _int_list(node.get("shape"))
        data = node.get("data")
        if device.type == "meta":
            return torch.empty(shape, dtype=dtype, device="meta")
        if type(data) is not torch.Tensor or data.dtype != dtype or list(data.shape) != shape:
            raise WireError("tensor node whose data does not match its description")
        if device.type == "cuda" and torch.cuda.is_available():
            data = data.to(device)
        if node.get("requires_grad") is True and (dtype.is_floating_point or dtype.is_complex):
            data.requires_grad_(True)
        return data

    def tag_ndarray(self, node, depth):
        data = node.get("data")
        if type(data) is not torch.Tensor:
            raise WireError("ndarray node without data")
        try:
            dtype = np.dtype(str(node.get("dtype")))
        except TypeError as error:
            raise WireError("ndarray node with a bad dtype") from error
        return data.numpy().astype(dtype, copy=False)

    def tag_npscalar(self, node, depth):
        try:
            return np.dtype(str(node.get("dtype"))).type(node.get("v"))
        except (TypeError, ValueError) as error:
            raise WireError("bad NumPy scalar") from error

    def tag_opaque(self, node, depth):
        return Opaque(str(node.get("type"))[:200], str(node.get("text"))[:300])


def _int_list(value) -> list[int]:
    if type(value) is not list or any(type(v) is not int or v < 0 for v in value):
        raise WireError("bad shape")
    return value


def _dtype(name) -> torch.dtype:
    if name not in _DTYPES:
        raise WireError(f"unsupported dtype {name!r}")
    return _DTYPES[name]


def _device(name) -> torch.device:
    if type(name) is not str or name.split(":")[0] not in ("cpu", "cuda", "meta"):
        raise WireError(f"unsupported device {name!r}")
    try:
        return torch.device(name)
    except RuntimeError as error:
        raise WireError(f"bad device {name!r}") from error


# ---------------------------------------------------------------- framing

def dumps(message: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(encode(message), buffer)
    return buffer.getvalue()


def loads(payload: bytes) -> object:
    if len(payload) > MAX_MESSAGE_BYTES:
        raise WireError("message too large")
    try:
        tree = torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - any failure to load means a bad message
        raise WireError(f"could not load message: {type(error).__name__}") from error
    return decode(tree)


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload
