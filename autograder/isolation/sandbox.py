"""What the student's process may do: which user it runs as, and its limits.

Grader side (root on Gradescope):
  * `identity()`: the unprivileged user that runs student code (`student`, created by
    Gradescope's setup.sh, or by the tests here), or None where the grader is not root;
  * `protect_kit()`: the reference solutions and the graders become readable by root only;
  * `scratch_folder()`: a fresh folder owned by that user, the child's HOME and working dir.
Child side, before anything else is imported:
  * `enter(settings)`: when started as root, private namespaces: network (no network), mount
    (private, size-limited /tmp, /var/tmp, /dev/shm, /run/lock and scratch folder; a /proc that
    shows only the student's processes), IPC (SysV objects die with it) and PID (see
    `autograder.isolation.pidns`: the student's processes die together, and cannot see or signal any
    other's); a memory cgroup (`autograder.isolation.cgroup`); hard resource limits (file size,
    processes, no core dumps); first in line for the OOM killer, nice 10; then drop to the
    unprivileged user. Returns what it did, for the log.
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

from autograder.course import PACKAGE, ROOT, graders_folder, solutions_folder
from autograder.isolation.processes import status_fields

USER = "student"
# RLIMIT_DATA, set once torch is imported: what the submission may add to what Python, numpy
# and torch already use (VmData ~225 MB for the CPU build, ~775 MB for a CUDA build, which a
# fixed limit of 512 MB made unable to start). RLIMIT_AS would break `import torch`.
MEMORY_MB = 256
MAX_FILE_BYTES = 64 * 2**20
MAX_PROCESSES = 256      # RLIMIT_NPROC counts threads too; not enforced for root
# Each private tmpfs (/tmp, /var/tmp, /dev/shm, /run/lock, the scratch folder) holds at most
# this much. Where no memory cgroup counts them, together they are the memory RLIMIT_DATA does
# not see: 5 x 48 MB; the scratch folder is the student's whole disk.
PRIVATE_TMP_MB = 48
NICE = 10                # the grader (nice 0) wins the CPU against the student's processes
OOM_SCORE_ADJ = 1000     # the student's process is the OOM killer's first choice
OWN_PIDS = "own PID namespace"
SCRATCH_BASES = (Path("/run/autograder"), Path("/var/lib/autograder"))   # as root; the first whose parent exists

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x40000000, 0x08000000, 0x20000000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x4000, 0x40000, 0x2, 0x4, 0x8


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
        shared = [f for f in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock") if Path(f).is_dir()
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
    for folder in (solutions_folder(), graders_folder()):
        if folder.is_dir():
            os.chmod(folder, 0o700)


def scratch_folder(ids: tuple[int, int] | None) -> Path:
    """A fresh folder for the child; owned by the student user when there is one.

    As root it lives outside /tmp, because the child gets a private, empty /tmp."""
    base = None
    if os.geteuid() == 0:
        base = SCRATCH_BASES[0] if SCRATCH_BASES[0].parent.is_dir() else SCRATCH_BASES[1]
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
    """Confine this process before it imports torch and the submission; say what was done.

    As root with `isolate`, this process stays outside as a waiter and only a grandchild
    returns (`autograder.isolation.pidns`)."""
    config = Settings(**settings)
    done = [_first_for_the_oom_killer()]
    root = os.geteuid() == 0
    if root and config.isolate:
        from autograder.isolation import cgroup

        done.append(cgroup.join())
        done += _isolate(config)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, MAX_FILE_BYTES)
    done.append(f"files up to {MAX_FILE_BYTES // 2**20} MB")
    try:
        os.nice(NICE)
        done.append(f"nice {NICE}")
    except OSError:
        pass
    if root and config.isolate and OWN_PIDS in done:
        from autograder.isolation import pidns

        pidns.split()   # from here on, this is PID 2 of the namespace (its PID 1 waits as root)
    if config.uid is not None and root:
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
    fields = status_fields("self", "VmData")
    return None if fields is None else int(fields[0]) * 1024


def _first_for_the_oom_killer() -> str:
    """Written as root, the value is also the floor the unprivileged user cannot go below."""
    try:
        with open("/proc/self/oom_score_adj", "w", encoding="ascii") as handle:
            handle.write(str(OOM_SCORE_ADJ))
        return f"oom_score_adj {OOM_SCORE_ADJ}"
    except OSError as error:
        return f"oom_score_adj unchanged ({error.strerror})"


def _isolate(config: Settings) -> list[str]:
    libc = ctypes.CDLL(None, use_errno=True)
    done = []
    for flag, what, kind in ((CLONE_NEWNET, "no network", "network"), (CLONE_NEWIPC, "own IPC namespace", "IPC"),
                             (CLONE_NEWPID, OWN_PIDS, "PID")):
        done.append(what if libc.unshare(flag) == 0 else
                    f"WARNING: shares the grader's {kind} namespace ({os.strerror(ctypes.get_errno())})")
    if libc.unshare(CLONE_NEWNS) == 0 and libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) == 0:
        for folder in private_folders():
            if _mount_tmpfs(libc, folder, "mode=1777"):
                done.append(f"private {folder} ({PRIVATE_TMP_MB} MB)")
        done.append(_bound_scratch(libc, config))
    else:
        done.append(f"no private folders ({os.strerror(ctypes.get_errno())}); "
                    f"disk use bounded only per file ({MAX_FILE_BYTES // 2**20} MB)")
    return done


def _mount_tmpfs(libc, folder: Path, options: str) -> bool:
    return libc.mount(b"tmpfs", str(folder).encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                      f"size={PRIVATE_TMP_MB}m,{options}".encode()) == 0


def _bound_scratch(libc, config: Settings) -> str:
    """A size-limited tmpfs over the working folder (the scratch folder), with what the grader
    put there (the submission): the student's disk, visible to no other process."""
    here = Path.cwd()
    if config.uid is None:
        return "scratch folder not bounded (no unprivileged user runs the student's code)"
    if here.parent not in SCRATCH_BASES:
        return f"scratch folder not bounded ({here} is not a scratch folder)"
    files = {}
    for entry in here.iterdir():
        if entry.is_file() and not entry.is_symlink() and entry.stat().st_size <= MAX_FILE_BYTES:
            files[entry.name] = (entry.read_bytes(), entry.stat().st_mode & 0o777)
    if not _mount_tmpfs(libc, here, f"mode=0700,uid={config.uid},gid={config.gid}"):
        return f"scratch folder not bounded ({os.strerror(ctypes.get_errno())})"
    os.chdir(here)   # the mount, not the folder under it
    for name, (data, mode) in files.items():
        descriptor = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chown(name, config.uid, config.gid)
    return f"scratch folder bounded to {PRIVATE_TMP_MB} MB"


def mount_proc() -> bool:
    """A /proc of the current PID namespace (called as its PID 1, in the private mount namespace)."""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) == 0


def private_folders() -> list[Path]:
    """The shared temporary folders to hide behind empty ones, except those that hold Python,
    the kit or the child's own folder (a clone under /tmp must stay visible)."""
    needed = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, ROOT, os.getcwd())]
    return [folder for folder in map(Path, ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"))
            if folder.is_dir() and not any(folder.resolve() in (n, *n.parents) for n in needed)]


def _limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))
