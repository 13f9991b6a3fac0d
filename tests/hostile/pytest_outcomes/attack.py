# Raise pytest's own outcome exceptions (skip, exit, xfail) from graded code. pytest is not in
# the grading environment, so the same exceptions are built by name (pytest's are BaseExceptions
# too): in either case the grader must count a failure, not a skip.
try:
    import pytest

    _skip, _exit, _xfail = pytest.skip.Exception, pytest.exit.Exception, pytest.xfail.Exception
except ImportError:
    _skip, _exit, _xfail = (type(name, (BaseException,), {}) for name in ("Skipped", "Exit", "XFailed"))


def first_row(x):
    raise _skip("nothing to see")


def second_column(x):
    raise _exit("done")


def add_new(x, y):
    raise _xfail("expected")
