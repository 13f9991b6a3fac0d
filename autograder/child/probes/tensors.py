"""Probes for the `tensors` assignment."""

from __future__ import annotations

import torch

from autograder.child.probes.core import attribute


def get_device_when_cuda(student, available: bool):
    """Call `get_device()` while `torch.cuda.is_available()` answers `available`."""
    get_device = attribute(student, "get_device")
    original = torch.cuda.is_available
    torch.cuda.is_available = lambda: available
    try:
        return get_device()
    finally:
        torch.cuda.is_available = original
