"""A pytest-based autograder for five PyTorch starter assignments.

In a notebook, `autograder.check("tensors")` runs the public tests on the cells it has run
(`autograder/notebook_check.py`). Importing this package imports nothing else: `check` is
loaded when first used.
"""


def __getattr__(name: str):
    if name == "check":
        from autograder.notebook_check import check

        return check
    raise AttributeError(f"module 'autograder' has no attribute {name!r}")
