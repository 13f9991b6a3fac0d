"""Grading sessions: pytest over one assignment's graders, with the plugin, in this process.

    python -I -m autograder.session.main ASSIGNMENT SESSIONS.json

Run by the supervisor (`autograder.supervisor.grade`) as a subprocess, so that whatever
happens here — even a crash — the supervisor still writes results.json. In order:

1. import torch and warm up for ASSIGNMENT, then fork the zygote (`autograder.session.zygote`)
   that every student process of this session is forked from. Nothing secret is in memory
   yet: SESSIONS.json is not read, pytest, the graders and the reference are not loaded.
2. read SESSIONS.json: a list of `autograder.settings.SessionSettings`, one per submission
   (one for a single grade, many for a batch);
3. for each, run pytest with a `GraderPlugin` made from its settings, then kill every process
   the submission left behind, and print "done N" for the supervisor.

pytest is configured only from our own ini file: no conftest.py, no cache, no third-party plugins.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from autograder.course import PACKAGE, Assignment
from autograder.settings import SessionSettings, read

# pytest plugins a grading session does not need; unraisableexception alone costs two
# gc.collect() passes (~0.4 s with torch loaded) per session.
UNUSED_PLUGINS = ("warnings", "unraisableexception", "threadexception", "logging", "doctest", "junitxml",
                  "pastebin", "stepwise", "faulthandler", "legacypath")
# Every session's pytest flags: our own ini file only, no conftest.py, no cache.
FLAGS = ("-c", str(PACKAGE / "graders" / "pytest.ini"), "-p", "no:cacheprovider", "--noconftest",
         "--import-mode=importlib", "-q", "--tb=no", *[arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")])


def pytest_arguments(settings: SessionSettings) -> list[str]:
    assignment = Assignment.get(settings.assignment)
    targets = [assignment.graders / "test_public.py"] if settings.public_only else [assignment.graders]
    args = [*map(str, targets), *FLAGS, "--rootdir", str(assignment.graders)]
    if settings.select:
        args += ["-k", " or ".join(f"({s})" for s in settings.select)]
    return args


def main(argv: list[str]) -> int:
    from autograder.isolation import processes
    from autograder.session.zygote import Zygote

    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"   # no third-party pytest plugin, before pytest loads
    processes.become_subreaper()
    zygote = Zygote.fork_here(Assignment.get(argv[1]).warm_up)   # before anything secret
    import pytest

    from autograder.session import plugin

    status = 0
    try:
        for index, settings in enumerate(read(Path(argv[2]))):
            grader = plugin.GraderPlugin(settings, zygote)
            status = int(pytest.main(pytest_arguments(settings), plugins=[grader, plugin]))
            processes.kill_descendants(keep={zygote.pid})
            print(f"done {index} {grader.grader_bugs}", flush=True)   # to the supervisor: "done" index bugs
    finally:
        zygote.close()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
