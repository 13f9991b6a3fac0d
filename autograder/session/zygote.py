"""A clean process that imports torch once and forks a ready child for each submission.

Batch grading would otherwise pay `import torch` (~2 s) per submission in every child. The
zygote is started fresh (it never sees the grader's memory: no reference solution, no
expected values) and waits on a Unix socket. For each request it receives the three pipe
ends of a new child (requests, replies, output) with SCM_RIGHTS, forks, and the fork confines
itself (`autograder.isolation.sandbox.enter`: namespaces, limits, the student user) and serves exactly
like a child started from scratch. The grader talks to it through `ForkedProcess`, which
stands in for `subprocess.Popen`.

    grader ──fork {cwd, sandbox} + 3 fds──► zygote ──os.fork()──► child (as `student`)
    grader ◄──{"pid": ...}─────────────────┘
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

from autograder.isolation.launch import python_command


class Zygote:
    """Grader side: start the zygote and ask it for children."""

    def __init__(self, env: dict[str, str], warm_up: tuple[str, ...] = ()) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket = ours
        command = python_command("autograder.session.zygote", str(theirs.fileno()), json.dumps(list(warm_up)))
        self.process = subprocess.Popen(command,
                                        env=env, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                        close_fds=True)
        theirs.close()
        self.reader = ours.makefile("rb")

    def fork(self, cwd: str, env: dict, sandbox: str, fds: tuple[int, int, int]) -> "ForkedProcess":
        request = {"op": "fork", "cwd": cwd, "env": env, "sandbox": sandbox}
        socket.send_fds(self.socket, [json.dumps(request).encode()], list(fds))
        return ForkedProcess(self, self._answer()["pid"])

    def reap(self, pid: int) -> int | None:
        """The exit status of a forked child, or None while it runs (negative: signal)."""
        self.socket.sendall(json.dumps({"op": "reap", "pid": pid}).encode())
        return self._answer()["status"]

    def _answer(self) -> dict:
        line = self.reader.readline()
        if not line:
            raise RuntimeError("the zygote stopped")
        return json.loads(line)

    def close(self) -> None:
        # The reader holds the socket open too: both must close for the zygote to see EOF.
        self.reader.close()
        self.socket.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class ForkedProcess:
    """The parts of `subprocess.Popen` that `autograder.session.child_process.ChildProcess` uses."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote, self.pid, self.returncode = zygote, pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.reap(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("forked child", timeout)
            time.sleep(0.01)
        return self.returncode


# ---------------------------------------------------------------- zygote side

def serve(connection: socket.socket, modules: list[str]) -> None:
    import numpy  # noqa: F401
    import torch

    from autograder.child.main import warm_up

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    warm_up(modules)
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


FINISHED: dict[int, int] = {}


def _reap(pid: int) -> int | None:
    """Collect every finished child (so none lingers as a zombie); answer for `pid`."""
    while True:
        try:
            done, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if done == 0:
            break
        FINISHED[done] = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return FINISHED.pop(pid, None)


def _become_child(request: dict, fds: list[int]) -> None:
    """In the fork: look exactly like a freshly started `autograder.child.main`."""
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

        main(["zygote", str(request_fd), str(reply_fd), request["sandbox"]])
    finally:
        os._exit(0)


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])), json.loads(sys.argv[2]) if len(sys.argv) > 2 else [])
