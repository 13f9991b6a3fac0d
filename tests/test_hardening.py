"""Grading as root without trusting the submission (Gradescope runs the autograder as root).

These tests need root: they create the unprivileged user `student` that runs student code,
and let it reach the Python installation. Elsewhere they are skipped, with that reason.
"""

import json
import os
import pwd
import socket
import subprocess
import time

import pytest

from autograder import reaper, sandbox
from autograder.grading import Options, grade_batch
from kit import ROOT, failing, grade_file, solution_source

pytestmark = pytest.mark.slow
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create and switch to the 'student' user")


@pytest.fixture(scope="module")
def student_user():
    """The user `student`, able to reach Python and the kit (restored afterwards)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create and switch to the 'student' user")
    created = False
    try:
        pwd.getpwnam(sandbox.USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        sandbox.USER], check=True)
        created = True
    modes = {path: os.stat(path).st_mode for path in sandbox.blocked_paths()}
    for path, mode in modes.items():
        os.chmod(path, mode | 0o001)
    assert sandbox.identity() is not None
    yield pwd.getpwnam(sandbox.USER).pw_uid
    for path, mode in modes.items():
        os.chmod(path, mode)
    if created:
        subprocess.run(["userdel", sandbox.USER], check=False)


def processes_of(uid: int) -> list[int]:
    """Processes of `uid` below this test process (grading made it the subreaper, so a
    daemon that escaped its process group would still be one of them)."""
    found = []
    for pid in reaper.descendants(os.getpid()):
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                found.append(pid)
        except OSError:
            pass
    return found


def grade_attack(tmp_path, attack: str, base: str = "solution", **options) -> dict:
    folder = tmp_path / "submission"
    folder.mkdir(exist_ok=True)
    source = solution_source("tensors") if base == "solution" else (ROOT / "assignments/tensors/tensors.py").read_text()
    (folder / "tensors.py").write_text(source + "\n\n" + attack)
    return grade_file("tensors", folder, tmp_path / "results" / "results.json", call_timeout=5, **options)


@needs_root
def test_student_code_runs_as_the_unprivileged_user(tmp_path, student_user):
    outcome = grade_attack(tmp_path, "import os\ndef count_negatives(x):\n    return os.getuid()\n")
    failures = failing(outcome)
    assert failures and all("count_negatives" in t["tags"] for t in failures)
    assert any(f"got {student_user}" in t["output"] for t in failures), failures[0]["output"]
    assert processes_of(student_user) == []


@needs_root
def test_reading_the_reference_solution_fails(tmp_path, student_user):
    # `first_row` needs `_reference`, so the statements that set it run while the file loads.
    attack = (f"_reference = {{}}\ntry:\n    exec(open({str(ROOT / 'solutions' / 'tensors.py')!r}).read(), _reference)\n"
              "except OSError as error:\n    print('blocked', error)\n"
              "def first_row(x):\n    return _reference['first_row'](x)\n")
    outcome = grade_attack(tmp_path, attack, base="stub")
    assert outcome["score"] == 0
    for test in outcome["tests"]:
        if test["max_score"]:
            assert ("KeyError: 'first_row'" if "first_row" in test["tags"] else "not implemented yet") in test["output"]


def test_a_symlink_to_the_reference_is_refused(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "tensors.py").symlink_to(ROOT / "solutions" / "tensors.py")
    outcome = grade_file("tensors", folder, tmp_path / "results.json")
    assert outcome["score"] == 0 and "not a regular file" in outcome["output"]


FORGE = '''
import json, os, sys, time
FORGED = {"score": 1000, "output": "forged", "tests": []}
def _targets():
    found = {"/autograder/results/results.json"}
    for pid in os.listdir("/proc"):
        try:
            args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
        except OSError:
            continue
        found.update(a.decode(errors="ignore") for a in args if a.endswith(b"results.json"))
    return found
def _forge():
    for target in _targets():
        try:
            with open(target, "w") as handle:
                json.dump(FORGED, handle)
        except OSError:
            pass
'''


def test_forging_results_directly_and_from_a_daemon_fails(tmp_path):
    # `first_row` needs `_STARTED`, so the daemon starts while the file loads.
    attack = FORGE + '''
def _start():
    _forge()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for _ in range(40):
                time.sleep(0.25)
                _forge()
        os._exit(0)
    return True
_STARTED = _start()
def first_row(x):
    _forge()
    return x[1] if _STARTED else x[0]
'''
    outcome = grade_attack(tmp_path, attack)
    out = tmp_path / "results" / "results.json"
    time.sleep(3)
    written = json.loads(out.read_text())
    assert written == outcome and written["score"] < 1000 and written["tests"]
    assert all("first_row" in t["tags"] for t in failing(written))


@needs_root
def test_fork_bomb_costs_only_its_test(tmp_path, student_user):
    attack = "import os\ndef count_negatives(x):\n    while True:\n        os.fork()\n"
    started = time.monotonic()
    outcome = grade_attack(tmp_path, attack)
    assert time.monotonic() - started < 120
    lost = failing(outcome)
    assert lost and all("count_negatives" in t["tags"] for t in lost)
    assert any("too many processes" in t["output"] or "did not finish" in t["output"] for t in lost)
    assert processes_of(student_user) == []


@needs_root
def test_no_network_no_writes_outside_scratch_no_tampering(tmp_path, student_user):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    private = sandbox.private_folders()  # /tmp is not among them when the kit itself lives there
    leak = (private[0] if private else tmp_path) / f"autograder-leak-{os.getpid()}"
    grader_file = ROOT / "autograder" / "plugin.py"
    before = grader_file.read_bytes()
    attack = f'''
import socket
def describe(t):
    problems = []
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2)
        problems.append("network")
    except OSError:
        pass
    try:
        open({str(leak)!r}, "w").write("private /tmp: allowed, but never seen outside")
    except OSError:
        pass
    for path in ({str(grader_file)!r}, {str(ROOT / 'solutions' / 'leak.py')!r}):
        try:
            with open(path, "a") as handle:
                handle.write("# tampered")
            problems.append(path)
        except OSError:
            pass
    return tuple(t.shape), t.dim(), t.numel() + len(problems)
'''
    try:
        outcome = grade_attack(tmp_path, attack)
    finally:
        listener.close()
    assert not leak.exists()
    assert grader_file.read_bytes() == before
    assert not (ROOT / "solutions" / "leak.py").exists()
    assert failing(outcome) == [], [t["output"] for t in failing(outcome)]
    assert processes_of(student_user) == []


def test_same_submission_twenty_times_gives_identical_results(tmp_path):
    path = tmp_path / "tensors.py"
    path.write_text(solution_source("tensors") + "\n\ndef first_row(x):\n    return x[0] + 1e-3 * torch.rand(x.shape[1:])\n")
    outcomes = grade_batch("tensors", [(path, None)] * 20, Options(call_timeout=5), jobs=2)
    first = {k: v for k, v in outcomes[0].items() if k != "execution_time"}
    assert failing(outcomes[0]) and all("first_row" in t["tags"] for t in failing(outcomes[0]))
    for other in outcomes[1:]:
        assert {k: v for k, v in other.items() if k != "execution_time"} == first
