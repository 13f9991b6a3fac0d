"""Make sure nothing the submission started outlives grading.

The grading supervisor declares itself a *child subreaper* (Linux prctl), so every process
below it that loses its parent (a double-forked daemon that called setsid(), say) is adopted
by the supervisor instead of init. When grading is over, `kill_descendants` SIGKILLs every
remaining descendant and reaps it. Elsewhere than Linux both are no-ops.
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
        _reap()
        time.sleep(0.01)
    _reap()
    return killed


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
