"""Plain data across the process boundary between the grader and the student's process.

A message is one frame in a format we own (no pickle, no zip, nothing compressed):

    header   request id, length of the JSON part, length of the raw part (three u64)
    JSON     {"regions": [[nbytes, skew], ...], "value": <tree of tagged nodes>}
    raw      the bytes of every memory region, one after the other

Values are turned into a tree of tagged nodes (`dumps`); the memory that tensors and NumPy
arrays live in travels as raw regions, and each tensor/array node says which region it views,
with its dtype, shape, strides and offset. Values that overlap in the sender's memory (views,
`torch.from_numpy(arr)` and `arr`, `x.t()` and `x`) land in one region, so they arrive sharing memory
with the same layout; the same object sent twice arrives as the same object.

Decoding (`loads`) is strict and bounded: frame sizes, JSON tokens, nodes, depth, string
lengths, the number of tensors, each tensor's *logical* size (numel x itemsize, whatever its
strides) and their total are capped; strides and offsets must stay inside their region. It is
linear in the bytes received and checks the caller's deadline as it goes. Anything that is not
plain data (a Tensor subclass, an object with a lying `__eq__`, a function, a tensor over the
size cap) crosses as `Opaque(type_name, text)`, so the grader can say what it got without ever
touching it.

Used by both sides: the child encodes what the student's code returned, the grader decodes
it. Nothing here imports student code or knows about pytest.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import math
import re
import struct
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

MAX_MESSAGE_BYTES = 64 * 2**20      # JSON and raw parts together
MAX_JSON_BYTES = 16 * 2**20
MAX_TOKENS = 1_000_000              # `, : [ {` in the JSON part: bounds what json.loads builds
MAX_DEPTH = 32
MAX_NODES = 200_000
MAX_STRING = 1_000_000              # characters of one str; bytes take two characters each
MAX_ARRAYS = 20_000                 # tensors and arrays in one message (regions too)
MAX_ARRAY_BYTES = 64 * 2**20        # numel x itemsize of one tensor or array
MAX_TOTAL_ARRAY_BYTES = 256 * 2**20
MAX_DIMS = 64
MAX_INT = 2**62                     # shapes, strides, offsets
HEADER = struct.Struct("<QQQ")      # request id, JSON bytes, raw bytes
ALIGN = 16                          # regions keep their address modulo this (every itemsize divides it)
DEADLINE_EVERY = 1024               # nodes between two looks at the clock

_PRIMITIVES = (type(None), bool, int, float, str)
_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64,
    torch.complex128, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
    torch.bool)}
_NP_DTYPES = {np.dtype(name).str for name in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128")}
# Long digit strings become ints in quadratic time, unless this Python limits their length
# (3.11+, and 3.10.7+ with the CVE-2020-10735 fix); without the limit, refuse them ourselves.
_INT = int if hasattr(sys, "get_int_max_str_digits") else (lambda digits: _short_int(digits))


class WireError(Exception):
    """A message that is not well-formed plain data, or one too large to send."""


class WireTimeout(WireError):
    """Decoding did not finish before the caller's deadline."""


@dataclass(frozen=True, repr=False)
class Opaque:
    """A value that could not cross as data: its type's name and a short description."""

    type_name: str
    text: str

    def __str__(self) -> str:
        return f"{self.type_name} object"

    def __repr__(self) -> str:   # what a grader's details show when the value sits in a container
        return f"<{self}>"


# ---------------------------------------------------------------- framing

def frame(request_id: int, message: object) -> bytes:
    """One frame: the header, then `message` encoded. WireError when it is too large to send."""
    text, raw = dumps(message)
    return HEADER.pack(request_id, len(text), len(raw)) + text + raw


def dumps(message: object) -> tuple[bytes, bytes]:
    """The JSON part and the raw part of `message`; WireError when they exceed the caps."""
    encoder = _Encoder()
    tree = encoder.node(message, 0)
    regions, raw = encoder.regions()
    text = json.dumps({"regions": regions, "value": tree}, separators=(",", ":")).encode("ascii")
    if len(text) > MAX_JSON_BYTES or len(text) + len(raw) > MAX_MESSAGE_BYTES or _tokens(text) > MAX_TOKENS:
        raise WireError(f"the message is too large to send ({(len(text) + len(raw)) / 2**20:.1f} MB "
                        f"with {_tokens(text)} JSON tokens)")
    return text, raw


def parse_header(header: bytes) -> tuple[int, int, int]:
    """(request id, JSON bytes, raw bytes) of a frame header; WireError for absurd sizes."""
    request_id, text_size, raw_size = HEADER.unpack(header)
    if text_size > MAX_JSON_BYTES or raw_size > MAX_MESSAGE_BYTES or text_size + raw_size > MAX_MESSAGE_BYTES:
        raise WireError(f"the message declares {text_size + raw_size} bytes (at most {MAX_MESSAGE_BYTES})")
    return request_id, text_size, raw_size


def loads(text: bytes, raw: bytes = b"", deadline: float | None = None) -> object:
    """Rebuild a message from its two parts, strictly; WireTimeout past `deadline` (monotonic)."""
    if len(text) > MAX_JSON_BYTES or len(text) + len(raw) > MAX_MESSAGE_BYTES:
        raise WireError("message too large")
    if _tokens(text) > MAX_TOKENS:
        raise WireError("message with too many JSON tokens")
    collecting = gc.isenabled()
    gc.disable()   # what is built here holds no cycles; collections would make it quadratic
    try:
        try:
            top = json.loads(text.decode("ascii"), parse_int=_INT)
        except RecursionError:
            raise WireError("message nested too deeply") from None
        except ValueError as error:  # also UnicodeDecodeError and json.JSONDecodeError
            raise WireError(f"message is not valid JSON ({type(error).__name__})") from None
        _check_deadline(deadline)
        if type(top) is not dict or type(top.get("regions")) is not list or "value" not in top:
            raise WireError("message without regions and value")
        value = _Decoder(_regions(top["regions"], raw), deadline).value(top["value"], 0)
    finally:
        if collecting:
            gc.enable()
    _check_deadline(deadline)
    return value


def _tokens(text: bytes) -> int:
    return text.count(b",") + text.count(b":") + text.count(b"[") + text.count(b"{")


def _short_int(digits: str) -> int:
    if len(digits) > 24:
        raise ValueError("integer literal too long")
    return int(digits)


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise WireTimeout("decoding the message took past the deadline")


# ---------------------------------------------------------------- encoding (either side)

class _Piece:
    """The memory one tensor/array node views: bytes [lo, hi) of the sender's address space."""

    def __init__(self, node: dict, keep: object, lo: int, hi: int, ptr: int, itemsize: int) -> None:
        self.node, self.keep, self.lo, self.hi, self.ptr, self.itemsize = node, keep, lo, hi, ptr, itemsize


class _Encoder:
    def __init__(self) -> None:
        self.count = 0
        self.path: set[int] = set()
        self.seen: dict[int, object] = {}     # id of a tensor/array -> its node or a ref to it
        self.keep: list[object] = []          # keeps the ids in `seen` valid
        self.pieces: list[_Piece] = []
        self.arrays = 0
        self.total = 0

    def node(self, value: object, depth: int) -> object:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH:
            return _opaque(value, "too large or too deeply nested to send")
        kind = type(value)
        if kind in _PRIMITIVES:
            if kind is str and len(value) > MAX_STRING:
                return _opaque(value, f"a string of {len(value)} characters, too long to send")
            if kind is int and not -2**63 <= value < 2**63:
                return {"$": "int", "hex": format(value, "x")} if value.bit_length() <= 4 * MAX_STRING \
                    else _opaque(value, "an integer too large to send")
            return value
        if kind is bytes:
            return {"$": "bytes", "hex": value.hex()} if 2 * len(value) <= MAX_STRING \
                else _opaque(value, f"{len(value)} bytes, too long to send")
        if kind is complex:
            return {"$": "complex", "v": [value.real, value.imag]}
        if kind is torch.Tensor or kind is np.ndarray:
            return self.array(value)
        if id(value) in self.path:
            return _opaque(value, "refers to itself")
        self.path.add(id(value))
        try:
            return self.container(value, kind, depth)
        finally:
            self.path.discard(id(value))

    def container(self, value, kind, depth):
        if isinstance(value, np.generic) and kind.__module__ == "numpy":
            if value.dtype.str not in _NP_DTYPES:
                return _opaque(value, f"a NumPy scalar of dtype {value.dtype}")
            return {"$": "npscalar", "dtype": value.dtype.str, "v": self.node(value.item(), depth + 1)}
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

    # -- tensors and arrays
    def array(self, value) -> object:
        if id(value) in self.seen:
            return self.seen[id(value)]
        self.keep.append(value)
        try:
            node = self.tensor(value) if type(value) is torch.Tensor else self.ndarray(value)
        except Exception as error:  # noqa: BLE001 - e.g. a tensor without storage (functorch, fake)
            node = _opaque(value, f"its memory could not be read ({type(error).__name__})")
        if node.get("$") == "opaque":
            self.seen[id(value)] = node
        else:
            self.seen[id(value)] = {"$": "ref", "i": self.arrays}
            self.arrays += 1
        return node

    def sized(self, value, nbytes: int, shape, dtype) -> dict | None:
        """An Opaque node when this array would go over the count or size caps, else None."""
        if self.arrays >= MAX_ARRAYS:
            return _opaque(value, "one tensor or array too many to send")
        if nbytes > MAX_ARRAY_BYTES or self.total + nbytes > MAX_TOTAL_ARRAY_BYTES:
            what = f"too large to send: shape {tuple(shape)}, {dtype}, {_megabytes(nbytes)}"
            return {"$": "opaque", "type": f"{_name(value)} ({what})"[:200], "text": what[:300]}
        self.total += nbytes
        return None

    def tensor(self, t: torch.Tensor) -> dict:
        if t.layout != torch.strided:
            return _opaque(t, f"a {t.layout} tensor")
        dtype = str(t.dtype).removeprefix("torch.")
        if dtype not in _DTYPES:
            return _opaque(t, f"a tensor of dtype {t.dtype}")
        if t.device.type not in ("cpu", "cuda", "meta"):
            return _opaque(t, f"a tensor on device {t.device}")
        node = {"$": "tensor", "device": str(t.device), "dtype": dtype, "shape": list(t.shape),
                "stride": list(t.stride()), "requires_grad": bool(t.requires_grad), "region": None, "offset": 0}
        too_large = self.sized(t, 0 if t.device.type == "meta" else t.numel() * t.element_size(), t.shape, t.dtype)
        if too_large is not None or t.device.type == "meta":
            return too_large or node
        data = t.detach()
        if data.device.type != "cpu":
            data = data.cpu()
        if data.is_conj() or data.is_neg():
            data = data.resolve_conj().resolve_neg()
        if data.data_ptr() % data.element_size() or min(data.stride(), default=0) < 0:
            data = data.contiguous().clone()
        node["stride"] = list(data.stride())
        if data.numel():
            extent = sum(s * (n - 1) for s, n in zip(data.stride(), data.shape)) + 1
            ptr = data.data_ptr()
            self.pieces.append(_Piece(node, data, ptr, ptr + extent * data.element_size(), ptr,
                                      data.element_size()))
        return node

    def ndarray(self, a: np.ndarray) -> dict:
        if a.dtype.str not in _NP_DTYPES:
            return _opaque(a, f"a NumPy array of dtype {a.dtype}")
        too_large = self.sized(a, a.size * a.itemsize, a.shape, a.dtype)
        if too_large is not None:
            return too_large
        node = {"$": "ndarray", "dtype": a.dtype.str, "shape": list(a.shape), "strides": list(a.strides),
                "region": None, "offset": 0}
        if a.size:
            ptr = a.__array_interface__["data"][0]
            low = sum(min(0, s * (n - 1)) for s, n in zip(a.strides, a.shape))
            high = sum(max(0, s * (n - 1)) for s, n in zip(a.strides, a.shape)) + a.itemsize
            self.pieces.append(_Piece(node, a, ptr + low, ptr + high, ptr, 1))
        return node

    def regions(self, compacted: bool = False) -> tuple[list, bytes]:
        """Merge overlapping pieces into regions; point every node at its region; the raw bytes."""
        merged: list[list] = []        # [lo, hi, pieces]
        for piece in sorted(self.pieces, key=lambda p: p.lo):
            if merged and piece.lo < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], piece.hi)
                merged[-1][2].append(piece)
            else:
                merged.append([piece.lo, piece.hi, [piece]])
        total = sum(hi - lo for lo, hi, _ in merged)
        if total > MAX_MESSAGE_BYTES and compacted:
            raise WireError(f"the message is too large to send ({total / 2**20:.1f} MB of tensor data)")
        if total > MAX_MESSAGE_BYTES:
            # Views far sparser than their data (x[::1000]): send each one's own elements instead.
            for piece in self.pieces:
                _compact(piece)
            return self.regions(compacted=True)
        table, chunks = [], []
        for index, (lo, hi, pieces) in enumerate(merged):
            base = lo - lo % ALIGN
            table.append([hi - lo, lo - base])
            chunks.append(ctypes.string_at(lo, hi - lo))
            for piece in pieces:
                piece.node["region"] = index
                piece.node["offset"] = (piece.ptr - base) // piece.itemsize
        return table, b"".join(chunks)


def _compact(piece: _Piece) -> None:
    data = piece.keep
    copy = data.contiguous().clone() if type(data) is torch.Tensor else np.array(data, order="C", copy=True)
    ptr = copy.data_ptr() if type(copy) is torch.Tensor else copy.__array_interface__["data"][0]
    nbytes = copy.numel() * copy.element_size() if type(copy) is torch.Tensor else copy.nbytes
    piece.keep, piece.lo, piece.hi, piece.ptr = copy, ptr, ptr + nbytes, ptr
    piece.node["stride" if type(copy) is torch.Tensor else "strides"] = list(
        copy.stride() if type(copy) is torch.Tensor else copy.strides)


def _megabytes(nbytes: int) -> str:
    return f"{nbytes / 2**20:,.1f} MB; at most {MAX_ARRAY_BYTES // 2**20} MB"


def _name(value: object) -> str:
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")
    if isinstance(value, torch.Tensor) and kind is not torch.Tensor:
        name += " (a subclass of torch.Tensor)"
    return name


def _opaque(value: object, why: str = "") -> dict:
    text = why
    if not text:
        try:
            text = repr(value)
        except BaseException:  # noqa: BLE001 - a student's __repr__ may raise anything
            text = "<repr failed>"
    return {"$": "opaque", "type": _name(value)[:200], "text": text[:300]}


# ---------------------------------------------------------------- decoding (strict)

def _regions(table: list, raw: bytes) -> list[torch.Tensor]:
    """One zero-padded uint8 buffer per region, each at its sender's address modulo ALIGN."""
    if len(table) > MAX_ARRAYS:
        raise WireError("message with too many regions")
    buffers, start = [], 0
    for entry in table:
        if (type(entry) is not list or len(entry) != 2 or any(type(v) is not int for v in entry)
                or not 0 < entry[0] <= len(raw) - start or not 0 <= entry[1] < ALIGN):
            raise WireError("bad region")
        size, skew = entry
        buffer = torch.empty(skew + size, dtype=torch.uint8)   # torch allocations are 64-aligned
        array = buffer.numpy()
        array[:skew] = 0
        array[skew:] = np.frombuffer(raw, dtype=np.uint8, count=size, offset=start)
        buffers.append(buffer)
        start += size
    if start != len(raw):
        raise WireError("regions that do not cover the raw part")
    return buffers


class _Decoder:
    def __init__(self, buffers: list[torch.Tensor], deadline: float | None) -> None:
        self.count = 0
        self.buffers = buffers
        self.deadline = deadline
        self.arrays: list[object] = []
        self.total = 0

    def value(self, node: object, depth: int) -> object:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH + 2:
            raise WireError("message too large or too deeply nested")
        if self.count % DEADLINE_EVERY == 0:
            _check_deadline(self.deadline)
        kind = type(node)
        if kind in _PRIMITIVES:
            if kind is str and len(node) > MAX_STRING:
                raise WireError("string too long")
            return node
        if kind is not dict or type(node.get("$")) is not str:
            raise WireError(f"unexpected node of type {kind.__name__}")
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

    def tag_int(self, node, depth):
        text = node.get("hex")
        if type(text) is not str or not 0 < len(text) <= MAX_STRING or not re.fullmatch(r"-?[0-9a-f]+", text):
            raise WireError("bad integer")
        return int(text, 16)    # linear: a power-of-two base

    def tag_bytes(self, node, depth):
        text = node.get("hex")
        if type(text) is not str or len(text) > MAX_STRING:
            raise WireError("bad bytes")
        try:
            return bytes.fromhex(text)
        except ValueError as error:
            raise WireError("bad bytes") from error

    def tag_complex(self, node, depth):
        parts = node.get("v")
        if type(parts) is not list or len(parts) != 2 or any(type(p) is not float for p in parts):
            raise WireError("bad complex number")
        return complex(*parts)

    def tag_size(self, node, depth):
        return torch.Size(_ints(node.get("v"), "size"))

    def tag_dtype(self, node, depth):
        return _dtype(node.get("v"))

    def tag_device(self, node, depth):
        return _device(node.get("v"))

    def tag_ref(self, node, depth):
        index = node.get("i")
        if type(index) is not int or not 0 <= index < len(self.arrays):
            raise WireError("reference to an unknown tensor or array")
        return self.arrays[index]

    def count_bytes(self, nbytes: int) -> None:
        """Refuse a tensor/array before it is built when it goes over the count or size caps."""
        self.total += nbytes
        if len(self.arrays) >= MAX_ARRAYS or nbytes > MAX_ARRAY_BYTES or self.total > MAX_TOTAL_ARRAY_BYTES:
            raise WireError("tensors or arrays over the size caps")

    def remember(self, value: object) -> object:
        self.arrays.append(value)
        return value

    def buffer(self, node) -> torch.Tensor | None:
        index = node.get("region")
        if index is None:
            return None
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise WireError("a tensor or array in an unknown region")
        return self.buffers[index]

    def tag_tensor(self, node, depth):
        dtype, device = _dtype(node.get("dtype")), _device(node.get("device"))
        shape, stride = _ints(node.get("shape"), "shape"), _ints(node.get("stride"), "stride")
        offset = node.get("offset")
        if len(stride) != len(shape) or type(offset) is not int or not 0 <= offset < MAX_INT:
            raise WireError("tensor node with a bad layout")
        numel = math.prod(shape)
        self.count_bytes(0 if device.type == "meta" else numel * dtype.itemsize)
        buffer = self.buffer(node)
        if numel and device.type != "meta":
            last = offset + sum(s * (n - 1) for s, n in zip(stride, shape))
            if buffer is None or (last + 1) * dtype.itemsize > buffer.numel():
                raise WireError("tensor node that reaches outside its region")
        try:
            if device.type == "meta":
                data = torch.empty_strided(shape, stride, dtype=dtype, device="meta")
            elif numel == 0:
                data = torch.empty(shape, dtype=dtype)
            else:
                data = torch.empty(0, dtype=dtype).set_(buffer.untyped_storage(), offset, shape, stride)
        except RuntimeError as error:
            raise WireError(f"tensor node that cannot be built ({error})"[:200]) from None
        if device.type == "cuda" and torch.cuda.is_available():
            data = data.to(device)
        if node.get("requires_grad") is True and (dtype.is_floating_point or dtype.is_complex):
            data.requires_grad_(True)
        return self.remember(data)

    def tag_ndarray(self, node, depth):
        name = node.get("dtype")
        if type(name) is not str or name not in _NP_DTYPES:
            raise WireError(f"unsupported NumPy dtype {name!r}")
        dtype = np.dtype(name)
        shape, strides = _ints(node.get("shape"), "shape"), node.get("strides")
        offset = node.get("offset")
        if (type(strides) is not list or len(strides) != len(shape)
                or any(type(s) is not int or not -MAX_INT < s < MAX_INT for s in strides)
                or type(offset) is not int or not 0 <= offset < MAX_INT):
            raise WireError("ndarray node with a bad layout")
        numel = math.prod(shape)
        self.count_bytes(numel * dtype.itemsize)
        buffer = self.buffer(node)
        if numel:
            low = offset + sum(min(0, s * (n - 1)) for s, n in zip(strides, shape))
            high = offset + sum(max(0, s * (n - 1)) for s, n in zip(strides, shape)) + dtype.itemsize
            if buffer is None or low < 0 or high > buffer.numel():
                raise WireError("ndarray node that reaches outside its region")
        try:
            if numel == 0:
                return self.remember(np.empty(shape, dtype=dtype))
            return self.remember(np.ndarray(tuple(shape), dtype=dtype, buffer=buffer.numpy(), offset=offset,
                                            strides=tuple(strides)))
        except (ValueError, TypeError, OverflowError) as error:
            raise WireError(f"ndarray node that cannot be built ({error})"[:200]) from None

    def tag_npscalar(self, node, depth):
        name = node.get("dtype")
        if type(name) is not str or name not in _NP_DTYPES:
            raise WireError(f"unsupported NumPy dtype {name!r}")
        item = self.value(node.get("v"), depth + 1)
        if type(item) not in (bool, int, float, complex):
            raise WireError("bad NumPy scalar")
        try:
            return np.dtype(name).type(item)
        except (TypeError, ValueError, OverflowError) as error:
            raise WireError("bad NumPy scalar") from error

    def tag_opaque(self, node, depth):
        return Opaque(str(node.get("type"))[:200], str(node.get("text"))[:300])


def _ints(value, what: str) -> list[int]:
    if (type(value) is not list or len(value) > MAX_DIMS
            or any(type(v) is not int or not 0 <= v < MAX_INT for v in value)):
        raise WireError(f"bad {what}")
    return value


def _dtype(name) -> torch.dtype:
    if type(name) is not str or name not in _DTYPES:
        raise WireError(f"unsupported dtype {name!r}")
    return _DTYPES[name]


def _device(name) -> torch.device:
    if type(name) is not str or name.split(":")[0] not in ("cpu", "cuda", "meta"):
        raise WireError(f"unsupported device {name!r}")
    try:
        return torch.device(name)
    except RuntimeError as error:
        raise WireError(f"bad device {name!r}") from error
