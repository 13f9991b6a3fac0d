"""The boundary lets only plain data through, and what it builds is bounded."""

import collections
import json
import pickle
import time

import numpy as np
import pytest
import torch

from autograder import wire


class Sub(torch.Tensor):
    pass


def round_trip(value):
    return wire.loads(*wire.dumps(value))


def message(value, regions=(), raw=b""):
    """A hand-made message: the JSON part and the raw part."""
    return json.dumps({"regions": list(regions), "value": value}).encode(), raw


def tensor_node(shape, stride, offset=0, region=0, dtype="float32", **extra):
    return {"$": "tensor", "device": "cpu", "dtype": dtype, "shape": shape, "stride": stride,
            "requires_grad": False, "region": region, "offset": offset, **extra}


@pytest.mark.parametrize("value", [
    None, True, 3, 2**100, -2**70, 2.5, 1 + 2j, "text", b"bytes\x00\xff", (1, [2, {"a": 3}]), torch.Size([2, 3]),
    torch.float64, torch.device("cpu"), collections.OrderedDict(a=torch.ones(2)), np.arange(4, dtype=np.int32),
    np.float32(1.5), np.complex64(1 - 1j), np.bool_(True), np.arange(3, dtype=">f4").astype("<f4"),
])
def test_plain_values_round_trip(value):
    back = round_trip(value)
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert np.array_equal(back, value) and back.dtype == value.dtype
    elif isinstance(value, dict):
        assert list(back) == list(value)
    else:
        assert back == value


def test_tensor_keeps_dtype_shape_layout_and_requires_grad():
    t = torch.arange(6.0).reshape(2, 3).t().requires_grad_()
    back = round_trip(t)
    assert type(back) is torch.Tensor and back.requires_grad and torch.equal(back.detach(), t.detach())
    assert back.stride() == t.stride() and not back.is_contiguous()
    meta = round_trip(torch.empty(2, 5, device="meta"))
    assert meta.device.type == "meta" and meta.shape == (2, 5)
    empty = round_trip(torch.empty(0, 3, dtype=torch.int64))
    assert empty.shape == (0, 3) and empty.dtype == torch.int64


def test_values_that_share_memory_arrive_sharing_it():
    x = torch.arange(12.0).reshape(3, 4)
    a = np.arange(6.0)
    sent = {"x": x, "xt": x.t(), "row": x[1], "again": x, "bits": x.view(torch.int32), "a": a,
            "from_a": torch.from_numpy(a), "back": a[::-2], "alone": torch.ones(3)}
    got = round_trip(sent)
    assert got["again"] is got["x"]
    storage = got["x"].untyped_storage().data_ptr()
    for key in ("xt", "row", "bits"):
        assert got[key].untyped_storage().data_ptr() == storage, key
        assert got[key].stride() == sent[key].stride() and got[key].storage_offset() == sent[key].storage_offset()
        assert torch.equal(got[key], sent[key]), key
    assert np.shares_memory(got["a"], got["from_a"].numpy()) and np.shares_memory(got["a"], got["back"])
    assert got["back"].strides == (-16,) and np.array_equal(got["back"], a[::-2])
    assert not np.shares_memory(got["alone"].numpy(), got["x"].numpy())
    got["x"][0, 0] = 100.0
    assert got["xt"][0, 0] == 100.0 and got["bits"][0, 0] == got["x"].view(torch.int32)[0, 0]


def test_sparse_views_spanning_more_than_a_message_send_only_what_they_show():
    big = torch.arange(5 * 2**22, dtype=torch.float32)    # 80 MB; the first two views span all of it
    views = [big[::2**20], big[1::2**20], big[5:6]]
    assert len(wire.frame(1, views)) < 2**16
    back = round_trip(views)
    assert all(torch.equal(b, v) for b, v in zip(back, views))
    small = round_trip([big[:2**20:2**10], big[1:2**20:2**10]])   # 4 MB of span: sent as one region
    assert small[0].untyped_storage().data_ptr() == small[1].untyped_storage().data_ptr()


@pytest.mark.parametrize("value", [torch.ones(2).as_subclass(Sub), torch.nn.Parameter(torch.ones(2)),
                                   np.float64(1.0).__class__, object(), lambda: 1, np.ma.masked_array([1, 2]),
                                   np.array([object()]), np.arange(3).astype("datetime64[s]"),
                                   torch.ones(2).to_sparse(), torch.ones(2, dtype=torch.uint16)])
def test_anything_else_crosses_as_opaque(value):
    back = round_trip(value)
    assert isinstance(back, wire.Opaque)


def test_a_huge_expanded_tensor_crosses_as_opaque_that_says_why():
    huge = torch.zeros(1).expand(2**31)
    back = round_trip([huge, torch.ones(2)])
    assert isinstance(back[0], wire.Opaque) and "too large to send" in back[0].type_name
    assert "(2147483648,)" in back[0].type_name and torch.equal(back[1], torch.ones(2))
    small = round_trip(torch.zeros(1).expand(1000))
    assert small.stride() == (0,) and small.shape == (1000,)


def test_too_many_large_tensors_become_opaque_past_the_total():
    parts = [torch.zeros(1).expand(2**24 - 1) for _ in range(5)]   # 64 MB each, 320 MB in all
    back = round_trip(parts)
    assert [type(b) for b in back] == [torch.Tensor] * 4 + [wire.Opaque]


def test_a_pickle_payload_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    with pytest.raises(wire.WireError):
        wire.loads(pickle.dumps(Evil()))
    with pytest.raises(wire.WireError):
        wire.loads(b"{}", pickle.dumps(Evil()))
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("value,regions,raw", [
    ({"$": "nope"}, [], b""),
    ({"$": "tensor"}, [], b""),
    ({"x": 1}, [], b""),
    (tensor_node([3], [1]), [[8, 0]], bytes(8)),                       # reaches past its region
    (tensor_node([2, 2], [1, 2**40]), [[16, 0]], bytes(16)),           # strides point outside
    (tensor_node([2], [1], offset=-1), [[16, 0]], bytes(16)),          # negative offset
    (tensor_node([2], [-1], offset=1), [[16, 0]], bytes(16)),          # negative stride
    (tensor_node([2], [1], region=1), [[16, 0]], bytes(16)),           # unknown region
    (tensor_node([2], [1], region=None), [], b""),                     # data missing
    (tensor_node([2], [1], dtype="float128"), [[16, 0]], bytes(16)),
    (tensor_node([2**40], [0]), [[4, 0]], bytes(4)),                    # 4 TB from 4 bytes
    (tensor_node([2**20] * 3, [0, 0, 0]), [[4, 0]], bytes(4)),
    ({"$": "ndarray", "dtype": "<f8", "shape": [3], "strides": [-8], "offset": 8, "region": 0}, [[24, 0]], bytes(24)),
    ({"$": "ndarray", "dtype": "|O", "shape": [1], "strides": [8], "offset": 0, "region": 0}, [[8, 0]], bytes(8)),
    ({"$": "ref", "i": 0}, [], b""),
    ({"$": "int", "hex": "12g"}, [], b""),
    ({"$": "list", "v": [1]}, [[4, 0]], bytes(8)),                       # raw part not covered
    ({"$": "list", "v": [1]}, [[4, 16]], bytes(4)),                      # absurd skew
    ({"$": "list", "v": [1]}, [[-4, 0]], b""),
    ("x" * (wire.MAX_STRING + 1), [], b""),
])
def test_malformed_messages_are_refused(value, regions, raw):
    with pytest.raises(wire.WireError):
        wire.loads(*message(value, regions, raw))


@pytest.mark.parametrize("text", [b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe", b"not json", b"[1,2]",
                                  b'{"regions": [], "value": ' + b"9" * 100_000 + b"}"])
def test_broken_json_is_refused_quickly(text):
    started = time.perf_counter()
    with pytest.raises(wire.WireError):
        wire.loads(text)
    assert time.perf_counter() - started < 0.5


def test_a_frame_declaring_a_huge_size_is_refused_before_reading_it():
    with pytest.raises(wire.WireError):
        wire.parse_header(wire.HEADER.pack(1, 2**63, 0))
    with pytest.raises(wire.WireError):
        wire.parse_header(wire.HEADER.pack(1, 10, wire.MAX_MESSAGE_BYTES))
    assert wire.parse_header(wire.HEADER.pack(7, 10, 20)) == (7, 10, 20)


def test_64_mb_of_tiny_nodes_is_refused_quickly():
    tiny = b'{"regions":[],"value":{"$":"list","v":[' + b"0," * (wire.MAX_JSON_BYTES // 2 - 40) + b"0]}}"
    started = time.perf_counter()
    with pytest.raises(wire.WireError):
        wire.loads(tiny)
    with pytest.raises(wire.WireError):
        wire.loads(tiny + b" " * (wire.MAX_MESSAGE_BYTES - len(tiny)))
    assert time.perf_counter() - started < 0.5


def test_the_slowest_message_within_the_caps_decodes_in_bounded_time():
    # As many nodes as allowed, each as costly as we know how to make it: a NumPy scalar node.
    nodes = [{"$": "npscalar", "dtype": "<f8", "v": 1.5}] * (wire.MAX_NODES // 2 - 2)
    text, raw = message({"$": "list", "v": nodes})
    started = time.perf_counter()
    assert len(wire.loads(text, raw)) == len(nodes)
    assert time.perf_counter() - started < 2.0


def test_decoding_stops_at_the_deadline():
    text, raw = wire.dumps(list(range(50_000)))
    with pytest.raises(wire.WireTimeout):
        wire.loads(text, raw, deadline=time.monotonic() - 1)
    assert wire.loads(text, raw, deadline=time.monotonic() + 60) == list(range(50_000))


def test_a_reply_too_large_to_send_is_refused_by_the_sender():
    with pytest.raises(wire.WireError, match="too large to send"):
        wire.dumps(["x" * (wire.MAX_STRING - 1)] * 20)
    with pytest.raises(wire.WireError, match="too large to send"):   # each under the caps, 100 MB in all
        wire.dumps([torch.ones(5 * 2**20) for _ in range(5)])


# ---------------------------------------------------------------- through a real child process

@pytest.fixture
def student(tmp_path):
    from test_engine import close_student, make_student

    made = []

    def build(source):
        made.append(make_student(tmp_path, source))
        made[-1].begin_test("test")
        return made[-1]

    yield build
    for s in made:
        close_student(s)


LATE_FRAME = '''
import fcntl, os, struct, threading, time

def _late_frame():
    time.sleep(0.3)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:") \\
                    and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                text = b'{"regions":[],"value":{"$":"dict","ordered":false,"k":["ok","value"],"v":[true,99]}}'
                os.write(fd, struct.pack("<QQQ", 1, len(text), 0) + text)
        except OSError:
            pass

def echo(n):
    if n == 1:
        threading.Thread(target=_late_frame).start()
    return n

def huge():
    return ["x" * 999_999] * 20
'''


def test_a_frame_written_after_the_reply_shifts_nothing(student):
    from autograder.session.student import GradingFailure

    s = student(LATE_FRAME)
    assert s.echo(1) == 1
    time.sleep(1.0)
    with pytest.raises(GradingFailure, match="more than one reply"):
        s.echo(2)
    assert s.echo(3) == 3 and s.process.starts == 2


def test_a_result_too_large_to_send_fails_only_its_call_with_a_message(student):
    from autograder.session.student import GradingFailure

    s = student(LATE_FRAME)
    with pytest.raises(GradingFailure, match="could not be sent to the grader: the message is too large"):
        s.huge()
    assert s.echo(5) == 5 and s.process.starts == 1


def test_meta_tensors_count_towards_the_number_of_tensors():
    back = round_trip([torch.empty(3, device="meta")] * 2 + [torch.empty(1, device="meta") for _ in range(wire.MAX_ARRAYS)])
    assert back[0] is back[1] and back[0].device.type == "meta"
    assert isinstance(back[-1], wire.Opaque) and type(back[-2]) is torch.Tensor
    node = {"$": "tensor", "device": "meta", "dtype": "float32", "shape": [1], "stride": [1],
            "requires_grad": False, "region": None, "offset": 0}
    with pytest.raises(wire.WireError):
        wire.loads(*message({"$": "list", "v": [node] * (wire.MAX_ARRAYS + 1)}))
