"""The student's processes in a PID namespace of their own, which dies as one.

Called by `autograder.isolation.sandbox.enter` (as root, after unshare(CLONE_NEWPID)) in the process the
grader started. `split()` forks twice and returns only in the grandchild:

    waiter (root, the grader's child) ──fork──► init (root, PID 1) ──fork──► server (PID 2)
    closes every descriptor, waits,           reaps every orphan;           drops to `student`,
    exits as the server did                   exits when the server does    serves requests

When PID 1 of a namespace exits, the kernel kills every process in it: a daemon that called
setsid() dies with the server, and `os.kill(-1, SIGKILL)` reaches only the student's own
processes (every other process is outside the namespace, and init, root, ignores it). init
dies with the waiter (PR_SET_PDEATHSIG), so killing the waiter kills the namespace; the server's
exit status (a signal too) travels back through a pipe, so the grader sees it as before.
"""

from __future__ import annotations

import ctypes
import os
import signal
import struct

PR_SET_PDEATHSIG = 1
STATUS = struct.Struct("<i")


def split() -> None:
    """Become the server, PID 2 of the current process's new PID namespace."""
    reader, writer = os.pipe()
    init = os.fork()
    if init:
        _wait_as(init, reader)
    os.close(reader)
    die_with_parent()
    from autograder.isolation.sandbox import mount_proc

    mount_proc()
    server = os.fork()
    if server:
        _init(server, writer)
    os.close(writer)


def _wait_as(init: int, reader: int) -> None:
    """The waiter: hold nothing of the child's, wait for init, end as the server ended."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(devnull, target)
    os.closerange(3, reader)
    os.closerange(reader + 1, _max_fd())
    os.waitpid(init, 0)
    data = os.read(reader, STATUS.size)
    status = STATUS.unpack(data)[0] if len(data) == STATUS.size else -signal.SIGKILL
    _end_with(status)


def _init(server: int, writer: int) -> None:
    """PID 1: reap every process of the namespace; leave (killing them all) when the server ends."""
    os.closerange(0, writer)
    os.closerange(writer + 1, _max_fd())
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if pid == server:
            os.write(writer, STATUS.pack(os.waitstatus_to_exitcode(status)))
            os._exit(0)


def _end_with(code: int) -> None:
    if code < 0:
        if -code not in (signal.SIGKILL, signal.SIGSTOP):   # their handling cannot be changed
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        code = 128 - code
    os._exit(code)


def die_with_parent() -> None:
    """SIGKILL this process when its parent ends. (The window before this call is closed by
    the grader, which kills the waiter's whole process group, init included.)"""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        return 1024
