"""A grading session: pytest over one assignment's graders, with the plugin, in this process.

    python -I -m autograder.session SESSION.json

SESSION.json says which assignment, which prepared file (or which problem stops grading), and
where to write verdicts. Run by the supervisor (`autograder.grading`) as a subprocess, so that
whatever happens here — even a crash — the supervisor still writes results.json. pytest is
configured only from our own ini file: no conftest.py, no cache, no third-party plugins.
"""

from __future__ import annotations

import json
import os
import sys

from autograder.assignments import PACKAGE, Assignment


def pytest_arguments(settings: dict) -> list[str]:
    assignment = Assignment.get(settings["assignment"])
    targets = [str(assignment.graders / "test_public.py")] if settings.get("public_only") else [
        str(assignment.graders)]
    args = [
        *targets,
        "-c", str(PACKAGE / "graders" / "pytest.ini"),
        "--rootdir", str(assignment.graders),
        "-p", "autograder.plugin", "-p", "no:cacheprovider", "--noconftest",
        "--import-mode=importlib", "-q", "--tb=no", "-p", "no:warnings",
        "--assignment", assignment.name, "--verdicts", settings["verdicts"],
    ]
    if settings.get("submission"):
        args += ["--submission", settings["submission"]]
    if settings.get("problem"):
        args += ["--problem", settings["problem"]]
    if settings.get("call_timeout"):
        args += ["--call-timeout", str(settings["call_timeout"])]
    if settings.get("sandbox"):
        args += ["--sandbox", json.dumps(settings["sandbox"])]
    if settings.get("require_cuda"):
        args.append("--require-cuda")
    if settings.get("select"):
        args += ["-k", " or ".join(f"({s})" for s in settings["select"])]
    return args


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as handle:
        settings = json.load(handle)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    import pytest

    return int(pytest.main(pytest_arguments(settings)))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
