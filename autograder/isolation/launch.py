"""Start our own modules in a fresh, isolated interpreter, installed or not.

`python -I` ignores PYTHONPATH, the user's site-packages and the current directory, so a
submission's `torch.py` or a hostile environment variable cannot change what gets imported.
The kit's own folder is put first on `sys.path` explicitly, so the same command works from an
installed package, a clone, a Gradescope zip or a student bundle.
"""

from __future__ import annotations

import sys

from autograder.course import ROOT

BOOTSTRAP = ("import sys; sys.path.insert(0, {root!r}); import runpy; "
             "sys.argv[0] = {module!r}; runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")


def python_command(module: str, *args: str, python: str = sys.executable) -> list[str]:
    return [python, "-I", "-c", BOOTSTRAP.format(root=str(ROOT), module=module), *args]
