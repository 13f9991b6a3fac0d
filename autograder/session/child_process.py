"""The grader's handle on the student's process: start it, send requests, enforce timeouts.

One `ChildProcess` owns one child process (`autograder.child.main`) at a time, forked from the
session's zygote (`autograder.session.zygote`). Requests and replies go
over two private pipes as `autograder.wire` frames; a reply must echo its request's random id,
and nothing else may be on the reply pipe. The child's stdout and stderr go to a third pipe,
read into a small bounded buffer while a request waits (and once more when its reply arrived,
so that what a call printed is all there), so a submission that prints megabytes neither
blocks nor fills memory. Every wait, and decoding the reply, has a wall-clock deadline enforced
from here: on a timeout, a crash or a garbled reply the whole process group is killed with
SIGKILL and the next request starts a fresh child; otherwise the child is reused across
requests. After every reply, every other process the submission started
is killed (`autograder.isolation.processes.strays`: its PID namespace and memory cgroup make that
cheap and complete); once the child is ready its memory cgroup gets its limit.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.isolation import cgroup, processes
from autograder.isolation.sandbox import Settings as Sandbox
from autograder.results import shorten
from autograder.session.zygote import ForkedProcess, Zygote, ZygoteStopped

# `autograder.wire` imports torch (~1.5 s), so it is imported on the first request, not here:
# importing `autograder.session.plugin`, which imports this module, does not import torch
# (tests/test_engine.py holds it to that). A grading session has torch loaded already
# (`autograder.session.zygote.prepare`), so there the late import costs nothing.

STARTUP_TIMEOUT = 180.0
OUTPUT_KEEP_BYTES = 16_384
SAID_LIMIT = 2000         # characters quoted of the last line a child printed before it failed to start

CHILD_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1"}


class ChildError(Exception):
    """The child did not give a reply."""


class ChildTimeout(ChildError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"no reply within {seconds:g} s")
        self.seconds = seconds


class ChildDied(ChildError):
    def __init__(self, returncode: int | None) -> None:
        super().__init__(describe_exit(returncode))
        self.returncode = returncode


class ChildFailedToStart(ChildError):
    """The child ended or hung before it was ready, before any student code ran: a problem of
    the grader's set-up (a broken torch install, a limit too tight), not of the submission."""

    def __init__(self, reason: str, output: str) -> None:
        last = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), "")
        super().__init__(reason + (f"; it said: {shorten(last, SAID_LIMIT)}" if last else ""))


class ChildGarbled(ChildError):
    """The child sent something that is not a well-formed reply."""


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "the process ended without a reply"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the process was killed by {name}"
    return f"the process exited with code {returncode}"


@dataclass
class OutputBuffer:
    """Keeps the first bytes printed since the last `take()`, counts the rest."""

    keep: int = OUTPUT_KEEP_BYTES
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def add(self, chunk: bytes) -> None:
        room = self.keep - len(self.data)
        self.data += chunk[:max(room, 0)]
        self.dropped += max(len(chunk) - max(room, 0), 0)

    def take(self) -> str:
        text = self.data.decode("utf-8", "replace")
        if self.dropped:
            text += f"\n[... {self.dropped} more bytes of output not shown ...]"
        self.data, self.dropped = bytearray(), 0
        return text


class ChildProcess:
    """A restartable child process that runs probes on one submission."""

    def __init__(self, *, cwd: Path, zygote: Zygote, env: dict[str, str] | None = None,
                 sandbox: Sandbox | None = None) -> None:
        self.cwd = Path(cwd)
        self.zygote = zygote
        self.sandbox = sandbox or Sandbox()
        self.env = child_env({"HOME": str(self.cwd), **(env or {})})
        self.process: ForkedProcess | None = None
        self.output = OutputBuffer()
        self._to_child: int | None = None
        self._from_child: int | None = None
        self._ready = False
        self._output: int | None = None   # the read end of the child's stdout and stderr
        self.starts = 0
        # How the running child was confined (`autograder.isolation.sandbox.enter`), from its ready
        # message: for the session's log, never for the student.
        self.confinement: list[str] = []

    # -- lifecycle
    def start(self) -> None:
        """Ask the zygote for a child, without waiting for it to be ready."""
        if self.process is not None:
            return
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        output_r, output_w = os.pipe()
        self.starts += 1
        try:
            self.process = self.zygote.fork(str(self.cwd), self.env, self.sandbox.to_dict(),
                                            (request_r, reply_w, output_w))
        except ZygoteStopped as stopped:
            for fd in (request_w, reply_r, output_r):
                os.close(fd)
            raise ChildFailedToStart(str(stopped), stopped.last_words) from None
        finally:
            for fd in (request_r, reply_w, output_w):
                os.close(fd)
        self._to_child, self._from_child = request_w, reply_r
        self._ready = False
        os.set_blocking(output_r, False)
        self._output = output_r

    def kill_strays(self, *, quick: bool = False) -> None:
        """Kill every process of the submission but its main one (e.g. made by os.fork(), or a
        daemon that called setsid()): none of them may use the CPU between two requests.
        `quick`: only where the submission's processes can be listed cheaply (a cgroup or a
        PID namespace); elsewhere that costs a scan of /proc."""
        if self.process is None:
            return
        processes.kill(processes.strays(self.process.pid, quick=quick))

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Kill the child's whole process group (and its PID namespace and cgroup) and forget it."""
        process, self.process = self.process, None
        for fd in (self._to_child, self._from_child):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._to_child = self._from_child = None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        cgroup.remove(process.pid)
        self._drain_output()   # its last words (a traceback, say), then the pipe is closed
        if self._output is not None:
            os.close(self._output)
            self._output = None

    # -- requests
    def request(self, message: dict, timeout: float) -> dict:
        """Send one request and return the reply; raise ChildError (and stop) on any failure.

        Every request carries a fresh random id that its reply must echo, and nothing else may
        be waiting on the reply pipe before the request or after the reply: one extra frame
        written by the submission must not shift every later reply onto the wrong request."""
        from autograder import wire

        if self.process is not None and self.process.poll() is not None:
            self.stop()
        self.start()
        try:
            if not self._ready:
                self._await_ready()
            deadline = time.monotonic() + timeout
            request_id = int.from_bytes(os.urandom(8), "little") | 1   # 0 is the ready message's
            self._expect_silence()
            self._send(wire.frame(request_id, message), deadline, timeout)
            reply = self._receive(deadline, timeout, request_id)
            self._drain_output()   # printed before the reply was sent: all in the pipe by now
            self._expect_silence()
            # Nothing the submission started runs between requests; after a failed one (the
            # submission raised), even where finding its processes costs a scan of /proc.
            self.kill_strays(quick=reply["ok"])
            return reply
        except ChildError:
            self.stop()
            raise

    def _await_ready(self) -> None:
        try:
            ready = self._receive(time.monotonic() + STARTUP_TIMEOUT, STARTUP_TIMEOUT, 0)
        except ChildError as error:
            self.stop()
            raise ChildFailedToStart(str(error), self.output.take()) from None
        self._ready = True
        cgroup.limit(self.process.pid, self.sandbox.memory_mb * 2**20)
        value = ready.get("value")   # sent before any student code ran
        self.confinement = [str(step) for step in value.get("sandbox", ())] if type(value) is dict else []

    def _send(self, data: bytes, deadline: float, timeout: float) -> None:
        view = memoryview(data)
        while view:
            self._wait_for(self._to_child, select.POLLOUT, deadline, timeout)
            try:
                written = os.write(self._to_child, view[:65536])
            except (BrokenPipeError, OSError):
                raise self._died() from None
            view = view[written:]

    def _receive(self, deadline: float, timeout: float, request_id: int) -> dict:
        """The reply to `request_id`; decoding it counts against the same deadline."""
        from autograder import wire

        try:
            echoed, text_size, raw_size = wire.parse_header(self._read(wire.HEADER.size, deadline, timeout))
        except wire.WireError as error:
            raise ChildGarbled(str(error)) from None
        if echoed != request_id:
            raise ChildGarbled("the reply was not an answer to this request")
        text = self._read(text_size, deadline, timeout)
        raw = self._read(raw_size, deadline, timeout)
        try:
            reply = wire.loads(text, raw, deadline)
        except wire.WireTimeout:
            raise ChildTimeout(timeout) from None
        except wire.WireError as error:
            raise ChildGarbled(str(error)) from None
        if type(reply) is not dict or type(reply.get("ok")) is not bool:
            raise ChildGarbled("the reply was not a result")
        return reply

    def _expect_silence(self) -> None:
        """Nothing may be waiting on the reply pipe between two requests."""
        poller = select.poll()
        poller.register(self._from_child, select.POLLIN)
        if any(events & select.POLLIN for _, events in poller.poll(0)):
            raise ChildGarbled("the process sent more than one reply")

    def _read(self, size: int, deadline: float, timeout: float) -> bytes:
        chunks, left = [], size
        while left:
            self._wait_for(self._from_child, select.POLLIN, deadline, timeout)
            chunk = os.read(self._from_child, min(left, 1 << 20))
            if not chunk:
                raise self._died()
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _wait_for(self, fd: int, event: int, deadline: float, timeout: float) -> None:
        """Until `fd` is ready for `event`, reading what the child prints meanwhile (so that it
        never blocks on a full output pipe)."""
        poller = select.poll()
        poller.register(fd, event)
        if self._output is not None:
            poller.register(self._output, select.POLLIN)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChildTimeout(timeout)
            ready = poller.poll(min(left, 1.0) * 1000)
            if any(ready_fd == fd for ready_fd, _ in ready):
                return
            if ready:
                self._drain_output()
                if self._output is None:
                    poller = select.poll()
                    poller.register(fd, event)

    def _drain_output(self) -> None:
        """Add what is waiting in the output pipe to `output`, without blocking; close it at its end."""
        while self._output is not None:
            try:
                chunk = os.read(self._output, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                os.close(self._output)
                self._output = None
                return
            self.output.add(chunk)

    def _died(self) -> ChildDied:
        try:
            returncode = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            returncode = None
        return ChildDied(returncode)


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """A small environment: nothing of the grader's secrets, one thread everywhere."""
    env = {k: v for k, v in os.environ.items() if k in CHILD_ENV_KEEP}
    env.update(THREAD_ENV)
    env.update({"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
                "MPLBACKEND": "Agg"})
    env.update(extra)
    return env
