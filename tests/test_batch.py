"""Batch grading: one torch import per session, children forked from a zygote, no leaks between submissions."""

import json
from pathlib import Path

import pytest

from autograder.grading import grade_batch
from kit import ROOT, failing, solution_source

pytestmark = pytest.mark.slow

# `first_row` needs `_STARTED`, so the daemon starts while the file loads.
DAEMON = '''
import os, time
def _start():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        os._exit(0)
    return True
_STARTED = _start()
def first_row(x):
    return x[1] if _STARTED else x[0]
'''


def test_batch_grades_each_submission_like_a_single_grade(tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text(solution_source("tensors") + "\n" + DAEMON)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tensors.py").write_text("def first_row(:\n")
    items = [(ROOT / "solutions" / "tensors.py", tmp_path / "a.json"), (wrong, tmp_path / "b.json"),
             (broken, tmp_path / "c.json"), (ROOT / "assignments" / "tensors", tmp_path / "d.json"),
             (ROOT / "solutions" / "tensors.py", tmp_path / "e.json")]
    seen = []
    outcomes = grade_batch("tensors", items, jobs=2, on_done=lambda index, _: seen.append(index))
    assert sorted(seen) == list(range(5))
    full = outcomes[0]["score"]
    assert full > 0 and failing(outcomes[0]) == [] and outcomes[4]["score"] == full
    assert failing(outcomes[1]) and all("first_row" in t["tags"] for t in failing(outcomes[1]))
    assert outcomes[2]["score"] == 0 and "line 1: `def first_row(:` has a syntax error" in outcomes[2]["output"]
    assert outcomes[3]["score"] == 0
    for (_, out), outcome in zip(items, outcomes):
        assert json.loads(Path(out).read_text()) == outcome
