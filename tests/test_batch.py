"""Batch grading: one torch import per session, children forked from a zygote, no leaks between submissions."""

import json
from pathlib import Path

import pytest

from autograder.supervisor.grade import Options, grade_batch
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
    outcomes = grade_batch("tensors", items, sessions=2, on_done=lambda index, _: seen.append(index))
    assert sorted(seen) == list(range(5))
    full = outcomes[0]["score"]
    assert full > 0 and failing(outcomes[0]) == [] and outcomes[4]["score"] == full
    assert failing(outcomes[1]) and all("first_row" in t["tags"] for t in failing(outcomes[1]))
    assert outcomes[2]["score"] == 0 and "line 1: `def first_row(:` has a syntax error" in outcomes[2]["output"]
    assert outcomes[3]["score"] == 0
    for (_, out), outcome in zip(items, outcomes):
        assert json.loads(Path(out).read_text()) == outcome


HANGS = "".join(f"\ndef {name}(*args):\n    while True:\n        pass\n"
                for name in ("add", "first_row", "second_column", "count_negatives", "matmul_2d"))


def test_a_batch_session_over_its_deadline_is_stopped_and_the_rest_still_graded(tmp_path):
    """The wall clock of one submission is bounded in a batch too: its results say it was stopped,
    and a new session grades the rest of the share."""
    slow = tmp_path / "slow.py"
    slow.write_text(solution_source("tensors") + HANGS)
    items = [(slow, tmp_path / "slow.json"), (ROOT / "solutions" / "tensors.py", tmp_path / "good.json")]
    outcomes = grade_batch("tensors", items, Options(call_timeout=5, session_timeout=30), sessions=1)
    assert "took longer than 30 s" in outcomes[0]["output"] and failing(outcomes[0])
    assert outcomes[1]["score"] > 0 and failing(outcomes[1]) == []
