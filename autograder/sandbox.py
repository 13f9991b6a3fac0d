"""What the student's process may do: which user it runs as, and its limits.

Grader side (root on Gradescope):
  * `identity()`: the unprivileged user that runs student code (`student`, created by
    Gradescope's setup.sh, or by the tests here), or None where the grader is not root;
  * `protect_kit()`: the reference solutions and the graders become readable by root only;
  * `scratch_folder()`: a fresh folder owned by that user, the child's HOME and working dir.
Child side, before anything else is imported:
  * `enter(settings)`: when started as root, a private network namespace (no network) and
    private /tmp, /var/tmp and /dev/shm; hard resource limits (memory, file size, processes,
    no core dumps); then drop to the unprivileged user. Returns what it did, for the log.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import resource
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.assignments import PACKAGE, ROOT

USER = "student"
# RLIMIT_DATA, set once torch is imported: what the submission may add to what Python, numpy
# and torch already use (VmData ~225 MB for the CPU build, ~775 MB for a CUDA build, which a
# fixed limit of 512 MB made unable to start). RLIMIT_AS would break `import torch`.
MEMORY_MB = 256
MAX_FILE_BYTES = 64 * 2**20
MAX_PROCESSES = 256      # RLIMIT_NPROC counts threads too; not enforced for root
PRIVATE_TMP_SIZE = "64m"

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV = 0x4000, 0x40000, 0x2, 0x4


@dataclass(frozen=True)
class Settings:
    uid: int | None = None
    gid: int | None = None
    memory_mb: int = MEMORY_MB
    isolate: bool = False     # network namespace and private temporary folders (root only)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- grader side

def identity(user: str = USER) -> tuple[int, int] | None:
    """(uid, gid) of the user that runs student code, if the grader is root, the user exists
    and it can reach the Python installation and the kit."""
    if os.geteuid() != 0 or blocked_paths():
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def blocked_paths() -> list[str]:
    """Folders on the way to Python or the kit that other users cannot pass through."""
    blocked = []
    for target in {Path(sys.base_prefix), Path(sys.prefix), PACKAGE}:
        for folder in [target, *target.parents]:
            if folder.exists() and not folder.stat().st_mode & 0o001:
                blocked.append(str(folder))
    return sorted(set(blocked))


def describe_identity(ids: tuple[int, int] | None, user: str = USER) -> str:
    if ids is not None:
        shared = [f for f in ("/tmp", "/var/tmp", "/dev/shm") if Path(f).is_dir()
                  and Path(f) not in private_folders()]
        return (f"student code runs as user {user!r} (uid {ids[0]}), without network"
                + (f"; {', '.join(shared)} stays shared with it because Python or the kit lives there"
                   if shared else ""))
    if os.geteuid() != 0:
        return "student code runs as the grader's own user (the grader is not root)"
    if blocked_paths():
        return (f"WARNING: student code runs as root: user {user!r} could not reach Python or the kit "
                f"through {', '.join(blocked_paths())}; install them where other users can read them")
    return (f"WARNING: the grader is root but user {user!r} does not exist, so student code runs as "
            "root; create it (setup.sh does) to isolate student code")


def protect_kit() -> None:
    """Make the reference solutions and the graders unreadable for other users (root only)."""
    if os.geteuid() != 0:
        return
    for folder in (ROOT / "solutions", PACKAGE / "graders"):
        if folder.is_dir():
            os.chmod(folder, 0o700)


def scratch_folder(ids: tuple[int, int] | None) -> Path:
    """A fresh folder for the child; owned by the student user when there is one.

    As root it lives outside /tmp, because the child gets a private, empty /tmp."""
    base = None
    if os.geteuid() == 0:
        base = Path("/run/autograder") if Path("/run").is_dir() else Path("/var/lib/autograder")
        base.mkdir(mode=0o711, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="student-", dir=base))
    if ids is not None:
        os.chown(folder, *ids)
    return folder


def hand_over(path: Path, ids: tuple[int, int] | None) -> None:
    if ids is not None:
        os.chown(path, *ids)
        os.chmod(path, 0o600)


# ---------------------------------------------------------------- child side

def enter(settings: dict) -> list[str]:
    """Confine this process before it imports torch and the submission; say what was done."""
    config = Settings(**settings)
    done = []
    if os.geteuid() == 0 and config.isolate:
        done += _isolate()
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, MAX_FILE_BYTES)
    done.append(f"files up to {MAX_FILE_BYTES // 2**20} MB")
    if config.uid is not None and os.geteuid() == 0:
        _limit(resource.RLIMIT_NPROC, MAX_PROCESSES)
        os.setgroups([])
        os.setgid(config.gid)
        os.setuid(config.uid)
        done.append(f"runs as uid {config.uid}, at most {MAX_PROCESSES} processes")
    return done


def limit_memory(settings: dict) -> str:
    """Once torch is imported, before the submission is: cap the data segment at what this
    process uses now plus the submission's share; say what was done."""
    headroom = Settings(**settings).memory_mb
    in_use = data_segment_bytes()
    if in_use is None:
        return "no memory limit (this system does not report a process's data segment)"
    _limit(resource.RLIMIT_DATA, in_use + headroom * 2**20)
    return f"memory limit {headroom} MB on top of the {in_use // 2**20} MB that Python and torch use"


def data_segment_bytes() -> int | None:
    """VmData of this process: what RLIMIT_DATA counts (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _isolate() -> list[str]:
    libc = ctypes.CDLL(None, use_errno=True)
    done = []
    if libc.unshare(CLONE_NEWNET) == 0:
        done.append("no network")
    else:
        done.append(f"network not isolated ({os.strerror(ctypes.get_errno())})")
    if libc.unshare(CLONE_NEWNS) == 0 and libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) == 0:
        for folder in private_folders():
            libc.mount(b"tmpfs", str(folder).encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                       f"size={PRIVATE_TMP_SIZE},mode=1777".encode())
            done.append(f"private {folder}")
    return done


def private_folders() -> list[Path]:
    """The shared temporary folders to hide behind empty ones, except those that hold Python,
    the kit or the child's own folder (a clone under /tmp must stay visible)."""
    needed = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, ROOT, os.getcwd())]
    return [folder for folder in map(Path, ("/tmp", "/var/tmp", "/dev/shm"))
            if folder.is_dir() and not any(folder.resolve() in (n, *n.parents) for n in needed)]


def _limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))
