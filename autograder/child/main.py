"""The student's process: imports the submission and runs probes on it, returning plain data.

Forked from the zygote (`autograder.session.zygote`) for `autograder.session.child_process.ChildProcess`,
with two pipe descriptors.
Everything this process does is untrusted once the submission is imported: it can only ever
send *data* back (see `autograder.wire`), and the grader decides every verdict. The loop:

    grader ◄──{"ok": True, "value": {"sandbox": [...]}}  once, when ready: how this process is confined
    grader ──{"op": "load", path, name, allowed, available}► an empty module for the submission
    grader ──{"op": "run", indices}───────────────────► run these top-level statements, in order
    grader ──{"op": "call", probe, args, kwargs, seed}─► run autograder.child.probes.<probe>(module, ...)
    grader ◄──{"ok": True, "value": ...} or {"ok": False, "error": {type, name, message, where, not_implemented}}

An error's `where` is {"line", "code"} in the submission, or None; `name` is the name a
NameError did not find. The value of "load" is None; of "run", one error (or None) a statement.

The grader decides which statements run (`autograder.submission.program`). Each runs on its own: one that
raises is reported and the next runs. When a request hangs or ends the process, the grader
asks again one statement at a time, to leave out the one that did it.

Probes are our own functions (`autograder/child/probes/`); they call the student's code and return
what it produced. Before each call the random generators are seeded and global torch state is
reset, so every call starts the same way whatever earlier calls did.

Probes run next to the submission, which could replace them. Right before its first statement,
the child takes an `autograder.child.integrity.Snapshot` of the kit's code and what probes rely on;
after every request (and before every call) it puts back whatever changed, and names it in the
reply: {"ok": ..., "value": ..., "tampered": ["autograder.child.probes.core.call", ...]}.
"""

from __future__ import annotations

import __future__
import ast
import importlib
import importlib.util
import io
import os
import random
import sys
import traceback
from collections.abc import Iterable


class Channel:
    """`autograder.wire` frames over two pipe file descriptors; a reply echoes its request's id."""

    def __init__(self, request_fd: int, reply_fd: int) -> None:
        self.requests = os.fdopen(request_fd, "rb", buffering=0)
        self.replies = os.fdopen(reply_fd, "wb", buffering=0)
        self.request_id = 0    # the ready message answers no request

    def receive(self):
        from autograder import wire

        header = self._read(wire.HEADER.size)
        if header is None:
            return None
        self.request_id, text_size, raw_size = wire.parse_header(header)
        return wire.loads(self._read(text_size) or b"", self._read(raw_size) or b"")

    def send(self, message: dict) -> None:
        from autograder import wire

        try:
            data = wire.frame(self.request_id, message)
        except wire.WireError as error:
            data = wire.frame(self.request_id, {"ok": False, "error": {
                "type": "ResultTooLarge", "message": f"what your code returned could not be sent to the grader: {error}",
                "where": None, "not_implemented": False}})
        self.replies.write(data)
        self.replies.flush()

    def _read(self, size: int) -> bytes | None:
        chunks, left = [], size
        while left:
            chunk = self.requests.read(left)
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


def describe_exception(error: BaseException, student_file: str | None) -> dict:
    """What the student needs to know about an exception, as plain strings."""
    try:
        message = str(error)
    except BaseException:  # noqa: BLE001 - a hostile __str__ may raise anything
        message = "<the exception's message could not be read>"
    frames = traceback.extract_tb(error.__traceback__)
    student_frames = [f for f in frames if student_file and f.filename == student_file]
    where = None
    if student_frames:
        last = student_frames[-1]
        where = {"line": last.lineno, "code": (last.line or "")[:200]}
    elif isinstance(error, SyntaxError) and student_file and error.filename == student_file:
        where = {"line": error.lineno, "code": (error.text or "").strip()[:200]}
    missing = getattr(error, "name", None) if isinstance(error, NameError) else None
    return {
        "type": type(error).__qualname__[:100],
        "name": missing if isinstance(missing, str) else None,
        "message": message[:2000],
        "where": where,
        "not_implemented": isinstance(error, NotImplementedError),
    }


class Child:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.module = None
        self.student_file: str | None = None
        self.statements: list[ast.stmt] = []
        self.flags = 0   # `from __future__` features the submission turned on so far
        self.snapshot = None   # the kit's code as it was before the submission ran

    def serve(self) -> None:
        pid = os.getpid()
        # Kept in this frame, out of the submission's reach: the functions that check the kit's
        # code (their code is put back if swapped) and the snapshot, once the load request took it.
        from autograder.child.integrity import Snapshot

        restore, handle, check = Snapshot.restore, Child.handle, _restore
        guarded = [(function, function.__code__) for function in (restore, handle, check)]
        snapshot = None
        while True:
            request = self.channel.receive()
            if request is None:
                return
            tampered = [f"{function.__module__}.{function.__qualname__}.__code__" for function, code in guarded
                        if function.__code__ is not code]
            for function, code in guarded:
                function.__code__ = code
            if snapshot is not None and request.get("op") == "call":
                tampered += check(restore, snapshot)   # changed since the last reply was sent
            reply = handle(self, request)
            if os.getpid() != pid:
                os._exit(0)  # a copy made by os.fork() in the student's code: never answer
            if snapshot is None and type(self.snapshot) is Snapshot:
                snapshot = self.snapshot
            if snapshot is not None:
                tampered += check(restore, snapshot)
            if tampered:
                reply["tampered"] = sorted(set(tampered))
            self.channel.send(reply)

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        try:
            if op == "load":
                self.load(request)
                return {"ok": True, "value": None}
            if op == "run":
                return {"ok": True, "value": [self.run(index) for index in request["indices"]]}
            if op == "call":
                return {"ok": True, "value": self.call(request)}
            return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}",
                                           "where": None, "not_implemented": False}}
        except BaseException as error:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, pytest's outcomes...
            return {"ok": False, "error": describe_exception(error, self.student_file)}
        finally:
            _flush_output()

    def load(self, request: dict) -> None:
        """An empty module for the submission."""
        from autograder.environment import install_import_guard

        path, name = request["path"], request["name"]
        self.student_file = path
        with open(path, encoding="utf-8") as handle:
            self.statements = ast.parse(handle.read(), path).body
        spec = importlib.util.spec_from_file_location(name, path)
        self.module = importlib.util.module_from_spec(spec)
        sys.modules[name] = self.module
        install_import_guard(request.get("allowed", ()), [path], request.get("available", ""))
        reset_state(0)
        if self.snapshot is None:   # right before the submission's first statement
            from autograder.child.integrity import Snapshot

            _import_probes()
            self.snapshot = Snapshot()

    def run(self, index: int) -> dict | None:
        """Run top-level statement `index` of the submission in its module; None, or what it raised."""
        node = self.statements[index]
        try:
            code = compile(ast.Module(body=[node], type_ignores=[]), self.student_file, "exec",
                           flags=self.flags, dont_inherit=True)
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                for alias in node.names:
                    feature = getattr(__future__, alias.name, None)
                    self.flags |= getattr(feature, "compiler_flag", 0)
            exec(code, self.module.__dict__)  # noqa: S102 - the student's own code, in its own process
        except BaseException as error:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, anything
            return describe_exception(error, self.student_file)
        return None

    def call(self, request: dict):
        probe_module, _, probe_name = request["probe"].partition(":")
        probe = getattr(importlib.import_module(f"autograder.child.probes.{probe_module}"), probe_name)
        reset_state(request.get("seed", 0))
        return probe(self.module, *request.get("args", ()), **request.get("kwargs", {}))


def _restore(restore, snapshot) -> list[str]:
    """What the submission changed in the kit's code, put back now (autograder.child.integrity)."""
    try:
        return restore(snapshot)
    except BaseException as error:  # noqa: BLE001 - a namespace the submission broke beyond repair
        return [f"the kit's code could not be checked ({type(error).__name__})"]


def _import_probes() -> None:
    """Every probe module, so that the snapshot covers them and none is imported later."""
    import pkgutil

    from autograder.child import probes

    for info in pkgutil.iter_modules(probes.__path__):
        importlib.import_module(f"autograder.child.probes.{info.name}")


def reset_state(seed: int) -> None:
    """Every call starts from the same global state, whatever earlier calls did."""
    import numpy as np
    import torch

    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the student may have replaced or closed it
            pass


def warm_up(modules: Iterable[str] = ()) -> None:
    """Pay first-use costs (the wire's encoder and decoder, the core probes, the assignment's
    `modules`) before the first request, while the grader is still collecting its tests."""
    import numpy as np
    import torch

    from autograder import wire
    from autograder.child.probes import core  # noqa: F401

    wire.loads(*wire.dumps({"t": torch.ones(2, 2).t(), "a": np.ones(2), "s": torch.Size([1])}))
    for module in modules:
        importlib.import_module(module)


def _unbuffered_output() -> None:
    """stdout and stderr as `python -u` makes them (the zygote's were made for the session):
    what the submission prints reaches the output pipe at once, in the order it was printed."""
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", write_through=True)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def main(request_fd: int, reply_fd: int, sandbox: dict) -> None:
    """Serve one submission, in a process just forked from the zygote (`autograder.session.zygote`),
    which already imported torch and paid the first-use costs."""
    from autograder.isolation.sandbox import enter, limit_memory

    _unbuffered_output()
    confinement = enter(sandbox)
    confinement.append(limit_memory(sandbox))
    channel = Channel(request_fd, reply_fd)
    channel.send({"ok": True, "value": {"sandbox": confinement}})
    Child(channel).serve()
