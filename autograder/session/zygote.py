"""The one way a student's process starts: forked from a warm, clean process (the zygote).

The grading session imports torch once, pays the assignment's first-use costs (`warm_up`),
and then, before it reads its settings, loads pytest or touches a grader, a reference or a
hidden input, forks the zygote (`Zygote.fork_here`). The zygote therefore holds torch, numpy
and the kit's modules and nothing secret. It waits on a Unix socket; for each request it
receives the three pipe ends of a new child (requests, replies, output) with SCM_RIGHTS,
forks, and the fork confines itself (`autograder.isolation.sandbox.enter`: namespaces, limits,
the student user) and serves (`autograder.child.main`). Torch's pages are shared by the
session, the zygote and every child, so a grade pays for one torch in time and in memory.

    session ──fork {cwd, env, sandbox} + 3 fds──► zygote ──os.fork()──► child (as `student`)
    session ◄──{"pid": ...}──────────────────────┘

Tests and `make bench` start a zygote on its own (`Zygote.launch`), in a fresh interpreter.
"""

from __future__ import annotations

import gc
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterable

from autograder.isolation import processes
from autograder.isolation.launch import python_command


def prepare(modules: Iterable[str] = ()) -> None:
    """What every child needs before it serves: torch, one thread, first-use costs paid. Never
    touches torch.cuda: a process forked from one that initialized CUDA cannot use it."""
    import numpy  # noqa: F401 - imported before any submission, so it cannot be shadowed
    import torch

    from autograder.child.main import warm_up

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass   # already set in this process
    warm_up(modules)
    # What is alive now is shared with every process forked from here: the garbage collector
    # must not write to it (it marks every object it visits), or each fork copies those pages.
    gc.collect()
    gc.freeze()


class Zygote:
    """The session's handle on its zygote: ask it for children, collect their exit status."""

    def __init__(self, connection: socket.socket, pid: int, process: subprocess.Popen | None = None) -> None:
        self.socket, self.pid, self._process = connection, pid, process
        self.reader = connection.makefile("rb")
        self.returncode: int | None = None

    @classmethod
    def fork_here(cls, warm_up: Iterable[str] = ()) -> "Zygote":
        """Warm this process up, then fork the zygote from it. Call it before anything secret
        is loaded: the zygote, and every child, gets a copy of this process's memory."""
        prepare(warm_up)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                from autograder.isolation.pidns import die_with_parent

                die_with_parent()
                serve(theirs)
            finally:
                os._exit(0)
        theirs.close()
        return cls(ours, pid)

    @classmethod
    def launch(cls, env: dict[str, str], warm_up: Iterable[str] = (), python: str = sys.executable) -> "Zygote":
        """A zygote in a fresh interpreter (`python`), for tests and benchmarks."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = python_command("autograder.session.zygote", str(theirs.fileno()), json.dumps(list(warm_up)),
                                 python=python)
        process = subprocess.Popen(command, env=env, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, close_fds=True)
        theirs.close()
        return cls(ours, process.pid, process)

    def fork(self, cwd: str, env: dict, sandbox: dict, fds: tuple[int, int, int]) -> "ForkedProcess":
        request = {"op": "fork", "cwd": cwd, "env": env, "sandbox": sandbox}
        try:
            socket.send_fds(self.socket, [json.dumps(request).encode()], list(fds))
        except OSError:
            raise ZygoteStopped(self._last_words()) from None
        return ForkedProcess(self, self._answer()["pid"])

    def reap(self, pid: int) -> int | None:
        """The exit status of a forked child, or None while it runs (negative: signal)."""
        try:
            self.socket.sendall(json.dumps({"op": "reap", "pid": pid}).encode())
        except OSError:
            raise ZygoteStopped(self._last_words()) from None
        return self._answer()["status"]

    def _answer(self) -> dict:
        try:
            line = self.reader.readline()
        except OSError:
            line = b""
        if not line:
            raise ZygoteStopped(self._last_words())
        return json.loads(line)

    def _last_words(self) -> str:
        """What a launched zygote printed before it stopped (usually a traceback)."""
        if self._process is None:
            return ""
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return ""
        return self._process.stderr.read().decode("utf-8", "replace")[-2000:]

    def close(self) -> None:
        """Close the socket: the zygote sees EOF and exits; killed if it has not within 10 s."""
        self.reader.close()
        self.socket.close()
        if self._process is not None:
            try:
                self.returncode = self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self.returncode = self._process.wait()
            self._process.stderr.close()
            return
        deadline = time.monotonic() + 10
        while self.returncode is None:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:   # already reaped (autograder.isolation.processes)
                self.returncode = -9
                break
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > deadline:
                processes.kill([self.pid])
                self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            else:
                time.sleep(0.01)


class ZygoteStopped(RuntimeError):
    """The zygote is gone (killed, out of memory, or it could not import torch)."""

    def __init__(self, last_words: str) -> None:
        super().__init__("the process that starts the student's processes stopped")
        self.last_words = last_words


class ForkedProcess:
    """The parts of `subprocess.Popen` that `autograder.session.child_process.ChildProcess` uses."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote, self.pid, self.returncode = zygote, pid, None
        # Whether it still runs is asked of the kernel (a pidfd turns readable when the process
        # ends): asking the zygote costs two context switches, 2 ms a call on one CPU. Safe
        # from pid reuse: the zygote reaps it only when asked for its status, below.
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = None

    def _running(self) -> bool:
        if self._pidfd is None:
            return False   # unknown: ask the zygote
        poller = select.poll()
        poller.register(self._pidfd, select.POLLIN)
        return not poller.poll(0)

    def poll(self) -> int | None:
        if self.returncode is None and not self._running():
            try:
                self.returncode = self.zygote.reap(self.pid)
            except ZygoteStopped:   # nobody left to ask: ended once the pid is gone
                self.returncode = None if _exists(self.pid) else -9
            if self.returncode is not None and self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("forked child", timeout)
            time.sleep(0.01)
        return self.returncode


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


# ---------------------------------------------------------------- zygote side

def serve(connection: socket.socket) -> None:
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(connection, 65536, 3)
        except OSError:
            return
        if not message:
            return
        request = json.loads(message)
        if request["op"] == "fork":
            pid = os.fork()
            if pid == 0:
                connection.close()
                _become_child(request, fds)
            for fd in fds:
                os.close(fd)
            answer = {"pid": pid}
        else:
            answer = {"status": _reap(request["pid"])}
        connection.sendall(json.dumps(answer).encode() + b"\n")


FINISHED: dict[int, int] = {}   # exit codes of children reaped before anyone asked for them


def _reap(pid: int) -> int | None:
    """The exit code of child `pid`, or None while it runs; every finished child is collected."""
    FINISHED.update(processes.reap())
    return FINISHED.pop(pid, None)


def _become_child(request: dict, fds: list[int]) -> None:
    """In the fork: a new session with the three pipes as its only channels, then serve."""
    try:
        request_fd, reply_fd, output_fd = fds
        os.setsid()
        for target in (1, 2):
            os.dup2(output_fd, target)
        os.close(output_fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        from autograder.child.main import main

        main(request_fd, reply_fd, request["sandbox"])
    finally:
        os._exit(0)


if __name__ == "__main__":   # Zygote.launch
    prepare(json.loads(sys.argv[2]))
    serve(socket.socket(fileno=int(sys.argv[1])))
