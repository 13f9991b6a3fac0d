"""Grading sessions: pytest over one assignment's graders, with the plugin, in this process.

    python -I -m autograder.session.main SESSION.json

SESSION.json says which assignment, which prepared file (or which problem stops grading), and
where to write verdicts; or, for a batch, holds a list of such settings under "batch". Run by
the supervisor (`autograder.supervisor.grade`) as a subprocess, so that whatever happens here — even a
crash — the supervisor still writes results.json. pytest is configured only from our own ini
file: no conftest.py, no cache, no third-party plugins.

A batch grades its submissions one after the other in this one process (torch is imported
once), their children forked from one `autograder.session.zygote`; after each submission every
process it left behind is killed, and "done N" is printed for the supervisor.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from autograder.course import PACKAGE, Assignment

# Set before pytest reads it: no third-party pytest plugin loads into a grading session.
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"


# pytest plugins a grading session does not need; unraisableexception alone costs two
# gc.collect() passes (~0.4 s with torch loaded) per session.
UNUSED_PLUGINS = ("warnings", "unraisableexception", "threadexception", "logging", "doctest", "junitxml",
                  "pastebin", "stepwise", "faulthandler", "legacypath")


def pytest_arguments(settings: dict) -> list[str]:
    assignment = Assignment.get(settings["assignment"])
    targets = [str(assignment.graders / "test_public.py")] if settings.get("public_only") else [
        str(assignment.graders)]
    args = [
        *targets,
        "-c", str(PACKAGE / "graders" / "pytest.ini"),
        "--rootdir", str(assignment.graders),
        "-p", "autograder.session.plugin", "-p", "no:cacheprovider", "--noconftest",
        "--import-mode=importlib", "-q", "--tb=no",
        *[arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")],
        "--assignment", assignment.name, "--verdicts", settings["verdicts"],
    ]
    if settings.get("submission"):
        args += ["--submission", settings["submission"]]
    if settings.get("program"):
        args += ["--program", settings["program"]]
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


class ForkedChildren:
    """A pytest plugin that hands the batch's zygote to the grading plugin."""

    def __init__(self, zygote) -> None:
        self.zygote = zygote

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config) -> None:
        from autograder.session.plugin import ZYGOTE

        config.stash[ZYGOTE] = self.zygote


def run_batch(batch: list[dict]) -> int:
    from autograder.isolation import processes
    from autograder.session.child_process import child_env
    from autograder.session.zygote import Zygote

    processes.become_subreaper()
    zygote = Zygote(child_env({}), Assignment.get(batch[0]["assignment"]).warm_up)  # one assignment a batch
    try:
        for index, settings in enumerate(batch):
            pytest.main(pytest_arguments(settings), plugins=[ForkedChildren(zygote)])
            for pid in processes.descendants(os.getpid()):
                if pid != zygote.process.pid:
                    _kill(pid)
            print(f"done {index}", flush=True)
    finally:
        zygote.close()
    return 0


def _kill(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as handle:
        settings = json.load(handle)
    if "batch" in settings:
        return run_batch(settings["batch"])
    return int(pytest.main(pytest_arguments(settings)))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
