"""Behaviour and source checks that a submission cannot forge (issue 10, item 7), without a grading
session: memory decisions (autograder.memory), what a function reaches (autograder.submission.reach, via
checks.no_loops / checks.pure_python), the RNG decision of `Call`, tamper detection
(autograder.child.integrity) and its line in the regrade summary."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from autograder.course import ROOT
from autograder import memory
from autograder.session import checks

from autograder.instructor import regrade

from autograder import wire
from autograder.session.student import Call, GradingFailure, Student


# ---------------------------------------------------------------- memory: decided by the grader

def test_extents_tell_itself_views_and_copies_apart():
    x = torch.arange(12.0).reshape(3, 4)
    e = memory.extent
    assert memory.same_view(e(x), e(x)) and memory.same_view(e(x), e(x.view(3, 4)))
    assert not memory.same_view(e(x), e(x.reshape(12))) and memory.overlaps(e(x), e(x.reshape(12)))
    assert memory.overlaps(e(x), e(x[1])) and memory.overlaps(e(x), e(x.t()))
    assert not memory.overlaps(e(x), e(x.clone())) and not memory.overlaps(e(x[0]), e(x[1]))
    array = np.arange(6.0)
    assert memory.overlaps(e(array), e(torch.from_numpy(array))) and not memory.overlaps(e(array), e(torch.tensor(array)))
    assert memory.overlaps(e(array), e(array[::-1]))
    assert memory.extent(torch.empty(0)) is not None and not memory.overlaps(e(torch.empty(0)), e(x))
    assert memory.extent([1, 2]) is None and memory.extent(torch.ones(2, device="meta")) is None


@pytest.mark.parametrize("garbage", [None, "x", [1, 2], [0, 0, [1], [1]], [0, 4, [2], [4, 4]], [0, 4, [-1], [4]],
                                     [True, 4, [1], [4]]])
def test_malformed_extents_decide_nothing(garbage):
    good = memory.extent(torch.ones(3))
    assert not memory.overlaps(garbage, good) and not memory.same_view(garbage, garbage)
    assert not memory.any_overlap([garbage], [good]) and not memory.any_overlap(garbage, good)


def call_of(value, *args, rng_after=None, seed=7, tampered=()):
    raw = {"value": value, "args_after": list(args),
           "rng_after": torch.Generator().manual_seed(seed).get_state() if rng_after is None else rng_after}
    return Call("f", raw, None, seed=seed, tampered=tuple(tampered))


def test_call_decides_from_measurements_not_from_booleans():
    x = torch.ones(2, 3)
    forged = call_of(x.clone(), x)
    forged.raw.update(is_arg=[True], shares_memory=[True], rng_changed=False,   # the old, forgeable fields
                      extents=[memory.extent(x)] * 2)   # and measurements made in the student's process
    assert not forged.is_arg(0) and not forged.shares_memory_with_arg(0)
    assert call_of(x, x).is_arg(0) and call_of(x.view(6), x).shares_memory_with_arg(0)
    assert not call_of(x.view(6), x).is_arg(0)


def test_sharing_is_decided_from_what_the_wire_delivers():
    x = torch.arange(6.0).reshape(2, 3)
    array = np.arange(4.0)
    cases = [(x, x, True, True), (x.t(), x, True, False), (x[1], x, True, False), (x.clone(), x, False, False),
             (torch.from_numpy(array), array, True, False), (torch.tensor(array), array, False, False)]
    for value, arg, shares, itself in cases:
        raw = wire.loads(*wire.dumps({"value": value, "args_after": [arg]}))
        call = Call("f", {**raw, "rng_after": None}, None)
        assert (call.shares_memory_with_arg(0), call.is_arg(0)) == (shares, itself), (value, arg)


def test_rng_change_is_judged_against_the_seed_the_grader_sent():
    torch.manual_seed(7)
    torch.rand(3)
    moved = torch.get_rng_state()
    assert not call_of(1, seed=7).rng_changed
    assert call_of(1, rng_after=moved, seed=7).rng_changed
    assert call_of(1, rng_after="forged", seed=7).rng_changed   # no state: not believed


def test_observations_of_a_tampered_call_fail_with_a_clear_message():
    x = torch.ones(2)
    call = call_of(x, x, tampered=["autograder.child.probes.core.call"])
    assert call.value is x   # the value is the student's own: still usable
    for observe in (lambda: call.is_arg(0), lambda: call.args_after, lambda: call.rng_changed):
        with pytest.raises(GradingFailure, match=r"While f ran, your code changed code the grader relies on "
                                                 r"\(`autograder\.child\.probes\.core\.call`\)"):
            observe()


# ---------------------------------------------------------------- source checks follow names

def student_from(source: str) -> Student:
    return Student(process=None, path="/tmp/tensors.py", module_name="tensors", source=textwrap.dedent(source),
                   allowed=("torch", "numpy"), available="")


@pytest.mark.parametrize("source,message", [
    ("import torch as T\ndef f(a):\n    return T.Size(a)\n", r"f uses torch: `T` \(line 3\)"),
    ("from torch import Size as S\ndef f(a):\n    return S(a)\n", r"f uses torch: `S` \(line 3\)"),
    ("import numpy\ndef f(a):\n    return numpy.broadcast_shapes(a)\n", r"f uses numpy: `numpy` \(line 3\)"),
    ("def f(a):\n    return __import__('torch').Size(a)\n", r"f uses torch: `__import__\('torch'\)` \(line 2\)"),
    ("import importlib\ndef f(a):\n    return importlib.import_module('torch.nn').a\n", r"f uses torch: .*\(line 3\)"),
    ("import torch\nmm = torch.matmul\ndef f(a):\n    return mm(a, a)\n", r"f uses torch: `mm` \(line 4\)"),
    ("import torch as T\ndef g(a):\n    return T.Size(a)\ndef f(a):\n    return g(a)\n",
     r"f uses torch: `T` in its helper `g` \(line 3\)"),
    ("from torch import *\ndef f(a):\n    return broadcast_shapes(a)\n", r"f uses torch"),
])
def test_pure_python_sees_aliases_helpers_and_dynamic_imports(source, message):
    with pytest.raises(GradingFailure, match=message):
        checks.pure_python(student_from(source), "f")


def test_pure_python_allows_the_standard_library_and_harmless_aliases_elsewhere():
    student = student_from("""
        import math
        import numpy as np
        import torch as T
        def helper(a):
            return math.prod(a)
        def f(a):
            return (helper(a),)
        def other(x):
            return np.ones(2), T.ones(2)
    """)
    checks.pure_python(student, "f")


@pytest.mark.parametrize("source,message", [
    ("def g(x):\n    n = 0\n    for v in x:\n        n += v\n    return n\ndef f(x):\n    return g(x)\n",
     r"f uses a `for` loop in its helper `g` \(line 3\)"),
    ("h = lambda x: sum(1 for v in x)\ndef f(x):\n    return h(x)\n", r"f uses a comprehension in its helper `h` \(line 1\)"),
    ("def a(x):\n    while x:\n        x -= 1\ndef b(x):\n    return a(x)\ndef f(x):\n    return b(x)\n",
     r"f uses a `while` loop in its helper `a` \(line 2\)"),
])
def test_no_loops_follows_helpers_transitively(source, message):
    with pytest.raises(GradingFailure, match=message):
        checks.no_loops(student_from(source), "f")


def test_no_loops_ignores_code_the_function_does_not_reach():
    checks.no_loops(student_from("import numpy as np\ndef demo(x):\n    return [v for v in x]\n"
                                 "def f(x):\n    return int((x < 0).sum())\n"), "f")


def test_a_long_chain_of_aliases_is_no_problem():
    chain = "import torch\na0 = torch\n" + "".join(f"a{i + 1} = a{i}\n" for i in range(3000))
    with pytest.raises(GradingFailure, match=r"f uses torch: `a3000`"):
        checks.pure_python(student_from(chain + "def f(x):\n    return a3000.ones(1)\n"), "f")


# ---------------------------------------------------------------- tamper detection in the child

TAMPER = r'''
import sys, time
import numpy, torch
from autograder import wire
from autograder.child.main import _import_probes
from autograder.child.integrity import Snapshot
_import_probes()
snapshot = Snapshot()
core = sys.modules["autograder.child.probes.core"]
original = (core.call, torch.equal, torch.Tensor.detach, core.attribute.__code__)
core.call = lambda *a: None
core.len = lambda x: 0
torch.equal = lambda *a: True
torch.Tensor.detach = lambda self: self
core.attribute.__code__ = (lambda student, name: None).__code__
sys.modules["autograder.wire"] = type(sys)("fake")
sys.modules["autograder.supervisor.grade"] = type(sys)("fake")   # not imported in the child: a stand-in
sys.modules["autograder.child.probes.manual_gradients"].FUNCTIONS["cubic_sum"] = None
numpy.brand_new = 1                   # additions outside the kit are not tampering
print(snapshot.restore())
print((core.call, torch.equal, torch.Tensor.detach, core.attribute.__code__) == original, hasattr(core, "len"),
      sys.modules["autograder.wire"].__name__, sys.modules["autograder.child.probes.manual_gradients"].FUNCTIONS["cubic_sum"] is not None,
      "autograder.supervisor.grade" in sys.modules)
print(snapshot.restore())
from torch.overrides import TorchFunctionMode
mode = TorchFunctionMode()
mode.__enter__()
sys.settrace(lambda *a: None)
print(snapshot.restore())   # hooks cannot be put back by the snapshot: they stay reported
mode.__exit__(None, None, None)
sys.settrace(None)
started = time.perf_counter()
for _ in range(50):
    snapshot.restore()
print((time.perf_counter() - started) / 50 * 1000)
'''


def test_snapshot_names_and_puts_back_every_change():
    result = subprocess.run([sys.executable, "-c", TAMPER], cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert eval(lines[0]) == sorted([   # noqa: S307 - our own output
        "autograder.child.probes.core.attribute", "autograder.child.probes.core.call", "autograder.child.probes.core.len",
        "autograder.child.probes.manual_gradients.FUNCTIONS", "sys.modules['autograder.supervisor.grade']",
        "sys.modules['autograder.wire']",
        "torch.Tensor.detach", "torch.equal"])
    assert lines[1] == "True False autograder.wire True False"
    assert lines[2] == "[]"
    assert lines[3] == "['a torch function mode', 'sys.settrace']"
    assert float(lines[4]) < 50, "a check must stay cheap (about 1 ms on an idle core)"


# ---------------------------------------------------------------- the instructor's summary

def test_regrade_summary_names_submissions_that_tampered(tmp_path):
    def row(folder, extra=None):
        outcome = {"score": 1.0, "tests": [{"name": "t", "score": 1.0, "max_score": 1.0}]}
        if extra is not None:
            outcome["extra_data"] = extra
        return regrade.Row(regrade.Submission(folder, None, people=[regrade.Person(name="Ada")]), "graded",
                           results=outcome)

    rows = [row("submission_1"), row("submission_2", {"tampered": [{"name": "autograder.child.probes.core.call",
                                                                     "when": "loading tensors.py"}]}),
            row("submission_3", {"tampered": "garbage"})]
    regrade.write_summary(tmp_path / "summary.md", "tensors", rows, ["t"], [], 1.0, 1)
    text = (tmp_path / "summary.md").read_text()
    assert "## Submissions that changed the grader's code in their process" in text
    assert "- 2 (Ada): autograder.child.probes.core.call" in text
    assert "- 1 " not in text and "- 3 " not in text
