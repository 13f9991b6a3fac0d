"""The processes of a grade, from /proc: list them, find the student's, kill them.

The one place that reads the process table (`process_table`, `descendants`, `strays`) and kills
by pid (`kill`). The grading supervisor and the session declare themselves *child subreapers*
(Linux prctl), so every process below them that loses its parent (a double-forked daemon that
called setsid(), say) is adopted by them instead of init. When grading is over,
`kill_descendants` SIGKILLs every remaining descendant and reaps it. Elsewhere than Linux the
subreaper is a no-op.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Collection, Iterable

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def process_table() -> dict[int, tuple[int, int]]:
    """pid: (parent, process group) of every process, from one scan of /proc."""
    table = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for entry in entries:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
                table[int(entry)] = (int(fields[1]), int(fields[2]))
            except (OSError, IndexError, ValueError):
                continue
    return table


def descendants(pid: int, table: dict[int, tuple[int, int]] | None = None) -> list[int]:
    """Every process below `pid`, from `table` (a fresh scan of /proc by default)."""
    table = process_table() if table is None else table
    children: dict[int, list[int]] = {}
    for child, (parent, _) in table.items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


def kill(pids: Iterable[int]) -> int:
    """SIGKILL each of `pids` that still exists (the one place processes are killed); how many."""
    killed = 0
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except (ProcessLookupError, PermissionError):
            pass
    return killed


def kill_descendants(timeout: float = 10.0, keep: Collection[int] = ()) -> int:
    """SIGKILL every descendant of this process but `keep` until none is left, and reap those
    that were this process's own children; return how many were killed."""
    me, killed = os.getpid(), 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [pid for pid in descendants(me) if pid not in keep]
        if not pids:
            break
        killed += kill(pids)
        reap()
        time.sleep(0.01)
    reap()
    return killed


def reap() -> dict[int, int]:
    """Collect every finished child of this process, so none lingers as a zombie: pid -> its
    exit code (negative: the signal that ended it)."""
    finished = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return finished
        if pid == 0:
            return finished
        finished[pid] = os.waitstatus_to_exitcode(status)


def strays(main: int, quick: bool = False) -> list[int]:
    """The processes of the child `main` other than itself (and, in a PID namespace, its init
    and server): none when its PID namespace (seen through its own /proc) holds no other; else
    the members of its cgroup, or its descendants and process group (a scan of /proc, skipped
    when `quick`)."""
    inside = _namespace_pids_seen_by(main)
    if inside is not None and not set(inside) - {1, 2}:
        return []
    from autograder.isolation import cgroup   # cgroup kills through this module

    found = cgroup.members(main)
    if found is None:
        if inside is None and quick:
            return []
        table = process_table()
        found = set(descendants(main, table)) | {pid for pid, (_, group) in table.items() if group == main}
    level = len(_namespace_pids(main))
    mains = {main}
    for pid in found:
        inner = _namespace_pids(pid)
        if len(inner) == level + 1 and inner[-1] in (1, 2):
            mains.add(pid)   # init and server, in the child's PID namespace
    return sorted(set(found) - mains)


def _namespace_pids_seen_by(main: int) -> list[int] | None:
    """The pids in the PID namespace of the child `main`, from the /proc its init mounted
    (`autograder.isolation.pidns`); None when it has none of its own."""
    proc = f"/proc/{main}/root/proc"
    try:
        if os.stat(proc).st_dev == os.stat("/proc").st_dev:
            return None
        return [int(entry) for entry in os.listdir(proc) if entry.isdigit()]
    except OSError:
        return None


def _namespace_pids(pid: int) -> list[int]:
    """The pid of `pid` in each PID namespace it is in, outermost first (NSpid)."""
    fields = status_fields(pid, "NSpid")
    try:
        return [pid] if fields is None else [int(field) for field in fields]
    except ValueError:
        return [pid]


def status_fields(pid: int | str, key: str) -> list[str] | None:
    """The fields of line `key` of /proc/<pid>/status ("self": this process); None when the
    file cannot be read or has no such line."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith(f"{key}:"):
                    return line.split()[1:]
    except OSError:
        pass
    return None
