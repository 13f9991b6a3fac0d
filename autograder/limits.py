"""Resource limits for the student's process, applied by the child before it imports anything.

The limits are set inside the child (not with `preexec_fn`, which is unsafe in a threaded
parent). They are hard limits: the submission cannot raise them again.
"""

from __future__ import annotations

import resource

# Files the submission writes (a saved model is a few KB): far below the disk.
MAX_FILE_BYTES = 64 * 2**20


def _set(limit: int, value: int) -> None:
    soft, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(limit, (value, value))


def apply_child_limits() -> None:
    _set(resource.RLIMIT_CORE, 0)
    _set(resource.RLIMIT_FSIZE, MAX_FILE_BYTES)
