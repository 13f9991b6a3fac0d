import sys


def describe(t):
    sys.exit(0)
