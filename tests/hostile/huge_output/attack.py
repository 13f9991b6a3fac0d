import sys

_describe = describe


def describe(t):
    sys.stdout.write("x" * 20_000_000)
    sys.stderr.write("\x00\x1b[31m" * 100_000)
    return _describe(t)
