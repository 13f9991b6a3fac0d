"""A memory cgroup per student process, where the grader can make one (root; cgroup v1 or v2).

It counts all of the student's memory, also what RLIMIT_DATA does not see: memfd files,
shared mappings, tmpfs files, SysV segments. At its limit the kernel's OOM killer picks a
process in the cgroup, never the grader.

    child, as root, before it forks or drops privileges:  join()  → autograder-<its pid>
    grader, once the child is ready:   limit(pid, extra)   what it uses now + `extra` bytes
    grader, between requests:          members(pid)        every process of the submission
    grader, when the child is gone:    remove(pid)         kills what is left, deletes the cgroup
    supervisor, at the end:            sweep()             deletes those of children that are gone

The cgroup lives below the grader's own memory cgroup (from /proc/self/cgroup), named after
the process the grader started, so the grader finds it from the pid alone.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

from autograder.isolation import processes

PREFIX = "autograder-"


@functools.lru_cache(maxsize=1)
def _ours() -> tuple[Path, int] | None:
    """(folder, version) of this process's memory cgroup, if it can have children with a memory limit."""
    try:
        memberships = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in memberships:
        _, controllers, path = line.split(":", 2)
        version = 2 if controllers == "" else 1
        if version == 1 and "memory" not in controllers.split(","):
            continue
        for mount in mounts:
            fields = mount.split()
            dash = fields.index("-")
            kind, options = fields[dash + 1], fields[-1].split(",")
            if (version == 1 and kind == "cgroup" and "memory" in options) or (version == 2 and kind == "cgroup2"):
                root, point = fields[3], fields[4]
                relative = os.path.relpath(path, root)
                if relative.startswith(".."):
                    continue
                folder = Path(point) / relative
                if version == 2 and "memory" not in _read(folder / "cgroup.subtree_control").split():
                    continue
                if folder.is_dir() and os.access(folder, os.W_OK):
                    return folder, version
    return None


def _folder(pid: int) -> Path | None:
    found = _ours()
    return found[0] / f"{PREFIX}{pid}" if found else None


def join() -> str:
    """Move this process into a fresh memory cgroup of its own; say what was done."""
    folder = _folder(os.getpid())
    if folder is None:
        return "no memory cgroup (none writable here): memory bounded by RLIMIT_DATA and tmpfs sizes"
    try:
        folder.mkdir()
        (folder / "cgroup.procs").write_text(str(os.getpid()))
    except OSError as error:
        return f"no memory cgroup ({error.strerror}): memory bounded by RLIMIT_DATA and tmpfs sizes"
    return "memory cgroup"


def limit(pid: int, extra: int) -> bool:
    """Cap the cgroup of the child `pid` at what it uses now plus `extra` bytes, swap included."""
    folder = _folder(pid)
    if folder is None or not folder.is_dir():
        return False
    version = _ours()[1]
    usage = _read(folder / ("memory.usage_in_bytes" if version == 1 else "memory.current"))
    if not usage.isdigit():
        return False
    cap = str(int(usage) + extra)
    try:
        if version == 1:
            (folder / "memory.limit_in_bytes").write_text(cap)
        else:
            (folder / "memory.max").write_text(cap)
    except OSError:
        return False
    for name, value in (("memory.memsw.limit_in_bytes", cap), ("memory.swap.max", "0")):
        try:
            (folder / name).write_text(value)
        except OSError:
            pass   # no swap accounting here
    return True


def members(pid: int) -> list[int] | None:
    """Every process in the cgroup of the child `pid`; None when it has no cgroup."""
    folder = _folder(pid)
    if folder is None:
        return None
    text = _read(folder / "cgroup.procs")
    return [int(p) for p in text.split() if p.isdigit()] if text or folder.is_dir() else None


def remove(pid: int, timeout: float = 5.0) -> None:
    """Kill whatever is left in the cgroup of the child `pid`, then delete the cgroup."""
    folder = _folder(pid)
    if folder is None or not folder.is_dir():
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes.kill(members(pid) or ())
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)   # processes not yet reaped


def sweep() -> None:
    """Delete the empty cgroups of children that are gone (a session killed before it could stop
    its child); a cgroup with processes in it cannot be deleted, so no live one is touched."""
    found = _ours()
    if found is None:
        return
    for folder in found[0].glob(f"{PREFIX}*"):
        pid = folder.name.removeprefix(PREFIX)
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            try:
                folder.rmdir()
            except OSError:
                pass


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
