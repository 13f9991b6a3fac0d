# Shared by the frame_* hostile cases (prepended to their attack.py, see tests/test_tensors_grading.py):
# how a submission finds the reply pipe and writes its own frames to it.
import fcntl
import gc
import json
import os
import struct


def _reply_pipes():
    """Every write-only pipe of this process but stdout and stderr, as found under /proc/self/fd."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            fd = int(name)
            if fd > 2 and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:") \
                    and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                found.append(fd)
        except (OSError, ValueError):
            pass
    return found


def _request_id():
    """The id of the request being answered, read from the grader's channel object."""
    for obj in gc.get_objects():
        if type(obj).__name__ == "Channel" and hasattr(obj, "request_id"):
            return obj.request_id
    return 1


def _send(request_id, text, raw=b""):
    data = struct.pack("<QQQ", request_id, len(text), len(raw)) + text + raw
    for fd in _reply_pipes():
        while data:
            data = data[os.write(fd, data):]


def _reply(value):
    """A well-formed reply to a call whose result is `value` (a tagged node)."""
    result = {"$": "dict", "ordered": False, "k": ["value", "args_after", "rng_after"],
              "v": [value, {"$": "list", "v": []}, None]}
    top = {"$": "dict", "ordered": False, "k": ["ok", "value"], "v": [True, result]}
    return json.dumps({"regions": [], "value": top}).encode()

