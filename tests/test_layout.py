"""The engine's layout is its architecture: which tier may import which, checked from the source,
and what a student's process starts from, checked in a real grade."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from autograder.course import PACKAGE
from kit import failing, grade_file, replace_definition, solution_source

# What each tier's modules may import from the kit (the top-level modules are the contracts
# every tier shares; `graders/` and `instructor/` may use anything).
MAY_IMPORT = {
    "child": {"child", "isolation", "top"},
    "submission": {"submission", "top"},
    "isolation": {"isolation", "top"},
    "session": {"session", "child", "submission", "isolation", "top"},
    "supervisor": {"supervisor", "submission", "isolation", "top"},
}
TOP_MAY_IMPORT = {"top", "isolation"}   # settings.py carries sandbox.Settings
LAZY_ENTRY_POINTS = {"cli.py"}            # the command line imports each tier inside its subcommand


def tier(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "autograder":
        return "outside"
    return parts[1] if len(parts) > 2 and (PACKAGE / parts[1]).is_dir() else "top"


def kit_imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("autograder"):
            names = [f"{node.module}.{a.name}" if (PACKAGE / node.module.split(".", 1)[-1].replace(".", "/")
                                                   / a.name).exists() or (PACKAGE / a.name).is_dir()
                     else node.module for a in node.names]
            found += [(node.lineno, name) for name in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("autograder")]
    return found


def test_each_tier_imports_only_what_its_process_may_hold():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        own = relative.parts[0] if len(relative.parts) > 1 else "top"
        if own in ("graders", "instructor") or relative.name in LAZY_ENTRY_POINTS and own == "top":
            continue
        allowed = MAY_IMPORT.get(own, TOP_MAY_IMPORT)
        for line, module in kit_imports(path):
            if tier(module) not in allowed:
                wrong.append(f"autograder/{relative}:{line} imports {module} ({tier(module)})")
    assert not wrong, "\n".join(wrong)


def test_the_rule_catches_a_child_module_importing_the_session(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("from autograder.session.student import Student\n")
    assert [tier(m) for _, m in kit_imports(path)] == ["session"]


LEAKS = '''
def make_tensors(seed: int = 42):
    import sys
    print("LEAKED", sorted(m for m in sys.modules if m.split(".")[0] in ("pytest", "_pytest", "gradescope_utils")
                           or m.startswith(("autograder.graders", "autograder.session.plugin", "autograder.record",
                                            "autograder.supervisor", "reference_", "test_"))))
    return {}
'''


@pytest.mark.slow
def test_the_students_process_starts_with_nothing_of_pytest_the_graders_or_the_reference(tmp_path):
    """Forked from the zygote, which the session forks before it loads any of them."""
    path = tmp_path / "tensors.py"
    path.write_text(replace_definition(solution_source("tensors"), "make_tensors", LEAKS))
    outcome = grade_file("tensors", path, tmp_path / "results.json", select=["make_tensors_keys"])
    (test,) = failing(outcome)
    assert "LEAKED []" in test["output"], test["output"]
