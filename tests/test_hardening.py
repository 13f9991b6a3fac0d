"""Grading as root without trusting the submission (Gradescope runs the autograder as root).

These tests need root: they create the unprivileged user `student` that runs student code,
and let it reach the Python installation. Elsewhere they are skipped, with that reason.
"""

import json
import os
import pwd
import re
import socket
import subprocess
import time

import pytest

from autograder.isolation import processes, sandbox
from autograder.supervisor.grade import Options, grade_batch
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
    for pid in processes.descendants(os.getpid()):
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
    # Whichever limit it meets first: the number of processes, the time, or (every copy holds
    # torch) the memory cgroup's OOM killer.
    assert any(re.search("too many processes|did not finish|killed by SIGKILL", t["output"]) for t in lost)
    assert processes_of(student_user) == []


@needs_root
def test_no_network_no_writes_outside_scratch_no_tampering(tmp_path, student_user):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    private = sandbox.private_folders()  # /tmp is not among them when the kit itself lives there
    leak = (private[0] if private else tmp_path) / f"autograder-leak-{os.getpid()}"
    grader_file = ROOT / "autograder" / "session" / "plugin.py"
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
    outcomes = grade_batch("tensors", [(path, None)] * 20, Options(call_timeout=5), sessions=2)
    first = {k: v for k, v in outcomes[0].items() if k != "execution_time"}
    assert failing(outcomes[0]) and all("first_row" in t["tags"] for t in failing(outcomes[0]))
    for other in outcomes[1:]:
        assert {k: v for k, v in other.items() if k != "execution_time"} == first


# ------------------------------------------------ isolation: processes, memory, disk, time

def full_marks(outcome: dict) -> bool:
    return outcome["score"] > 0 and failing(outcome) == []


def sysv_segments_of(uid: int) -> list[str]:
    """SysV shared memory segments of `uid` in the grader's IPC namespace."""
    lines = open("/proc/sysvipc/shm").read().splitlines()[1:]
    return [line for line in lines if int(line.split()[7]) == uid]


KILLER = '''
import os, signal, time
def _kill_everyone(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.02)
def _start():
    if os.fork() == 0:
        os.setsid()
        _kill_everyone(40)
        os._exit(0)
    _kill_everyone(4)
    return True
_STARTED = _start()
def first_row(x):
    _kill_everyone(1)
    return x[0] if _STARTED else x[1]
'''


@needs_root
def test_a_submission_cannot_kill_another_graded_in_parallel(tmp_path, student_user):
    """kill(-1, 9) and killing every pid in /proc, in the file, a daemon and a graded function,
    reach only the attacker's own processes (own PID namespace, own /proc)."""
    attacker = tmp_path / "attacker.py"
    attacker.write_text(solution_source("tensors") + "\n" + KILLER)
    items = [(attacker, None), (ROOT / "solutions" / "tensors.py", None)]
    outcomes = grade_batch("tensors", items, Options(call_timeout=5), sessions=2)
    assert full_marks(outcomes[1]), [t["output"] for t in failing(outcomes[1])]
    assert outcomes[1].get("extra_data") is None
    assert failing(outcomes[0]) == [], [t["output"] for t in failing(outcomes[0])]   # only killed its own
    assert processes_of(student_user) == []


MEMORY = '''
import ctypes, mmap, os
_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmat.restype = ctypes.c_void_p
_libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
BIG = 900 * 2**20
def _sysv(size, keep):
    ident = _libc.shmget(0, ctypes.c_size_t(size), 0o1600)   # IPC_PRIVATE, IPC_CREAT | 0600
    address = _libc.shmat(ident, None, 0)
    if not keep:
        _libc.shmctl(ident, 0, None)   # IPC_RMID: gone once detached
    ctypes.memset(address, 1, size)
    return ident
def _touch(mapping):
    for offset in range(0, len(mapping), 4096):
        mapping[offset] = 1
def _memfd(size):
    kept = []
    for _ in range(size // (60 * 2**20)):   # files up to 64 MB, but any number of them
        fd = os.memfd_create("bomb")
        os.ftruncate(fd, 60 * 2**20)
        kept.append(mmap.mmap(fd, 60 * 2**20))
        _touch(kept[-1])
_LEFT_BEHIND = _sysv(2**20, keep=True)
def count_negatives(x):
    _sysv(BIG, keep=False)
    return int((x < 0).sum()) + _LEFT_BEHIND * 0
def first_row(x):
    _memfd(BIG)
    return x[0]
def second_column(x):
    _touch(mmap.mmap(-1, BIG))   # anonymous and MAP_SHARED
    return x[:, 1]
'''


@needs_root
def test_memory_outside_the_data_limit_costs_only_its_tests_and_leaves_nothing(tmp_path, student_user):
    """SysV shared memory, memfd and shared mappings are not in RLIMIT_DATA: the memory cgroup
    counts them; a SysV segment left behind dies with the IPC namespace."""
    before = sysv_segments_of(student_user)
    outcome = grade_attack(tmp_path, MEMORY)
    lost = failing(outcome)
    assert {t for f in lost for t in f["tags"]} >= {"count_negatives", "first_row", "second_column"}
    assert all({"count_negatives", "first_row", "second_column"} & set(f["tags"]) for f in lost)
    assert all("killed by SIGKILL" in f["output"] for f in lost), [f["output"] for f in lost]
    assert sysv_segments_of(student_user) == before
    assert processes_of(student_user) == []


@needs_root
def test_disk_use_is_bounded_in_total(tmp_path, student_user):
    """Files of 20 MB each, under the 64 MB limit per file: the scratch folder holds 48 MB."""
    attack = ("def _fill():\n    for i in range(10):\n"
              "        with open(f'junk{i}', 'wb') as handle:\n            handle.write(bytes(20 * 2**20))\n"
              "def count_negatives(x):\n    _fill()\n    return int((x < 0).sum())\n")
    outcome = grade_attack(tmp_path, attack)
    lost = failing(outcome)
    assert lost and all("count_negatives" in t["tags"] for t in lost)
    assert any("No space left on device" in t["output"] for t in lost), [t["output"] for t in lost]


ORPHANS = '''
import subprocess
def _spawn(count):   # each calls setsid(), and is busy once all are started (a shell: little memory)
    for _ in range(count):
        subprocess.Popen(["/bin/sh", "-c", "sleep 3; while :; do :; done"], start_new_session=True)
    return True
_STARTED = _spawn(100)
def first_row(x):
    return x[0] if _STARTED else x[1]
'''


@needs_root
def test_busy_orphans_started_at_import_do_not_slow_the_grade(tmp_path, student_user):
    """100 busy daemons that left the process group: killed after the request that started
    them, so the grade takes about as long as the reference's (it took 136 s for a 4 s grade)."""
    started = time.monotonic()
    (tmp_path / "reference").mkdir()
    reference = grade_attack(tmp_path / "reference", "")
    alone = time.monotonic() - started
    started = time.monotonic()
    outcome = grade_attack(tmp_path, ORPHANS)
    took = time.monotonic() - started
    assert full_marks(outcome) and reference["score"] == outcome["score"]
    assert took < 2 * alone + 10, (took, alone)
    assert processes_of(student_user) == []


def test_a_child_that_cannot_start_is_retried_then_not_graded(tmp_path):
    """Never the student's 0: the status is data (extra_data) that regrade reads."""
    from autograder.instructor.regrade import _status

    outcomes = grade_batch("tensors", [(ROOT / "solutions" / "tensors.py", None)] * 2,
                           Options(memory_mb=2**60), sessions=2)   # a limit the child cannot set
    for outcome in outcomes:
        assert outcome["extra_data"]["status"] == "grader_error" and _status(outcome) == "crashed"
        assert "could not start the process" in outcome["output"] and "tried twice" in outcome["output"]
        assert outcome["tests"] and all(t["output"].startswith("Not graded") for t in outcome["tests"])


def test_cgroups_of_children_that_are_gone_are_swept():
    from autograder.isolation import cgroup

    found = cgroup._ours()
    if found is None:
        pytest.skip("no writable memory cgroup here")
    dead = subprocess.Popen(["true"])
    dead.wait()
    gone, alive = found[0] / f"{cgroup.PREFIX}{dead.pid}", found[0] / f"{cgroup.PREFIX}{os.getpid()}"
    gone.mkdir()
    alive.mkdir()
    try:
        cgroup.sweep()
        assert not gone.exists() and alive.exists()
    finally:
        for folder in (gone, alive):
            if folder.exists():
                folder.rmdir()
