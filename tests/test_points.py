"""`autograder points` and the points a student's check reports (autograder/instructor/points.py,
autograder/report.py)."""

from __future__ import annotations

import json

import pytest

from autograder import cli
from autograder.course import available
from autograder.instructor import points
from autograder.report import POINTS_FILE, format_table, hidden_points, number_key
from kit import grade_file


@pytest.fixture(scope="module")
def collected():
    return {assignment.name: points.collect(assignment) for assignment in available()}


def test_points_file_matches_the_graders(collected):
    stored = json.loads(POINTS_FILE.read_text(encoding="utf-8"))
    for name, tests in collected.items():
        totals = points.totals(tests)
        assert stored[name] == {"public": totals.public, "hidden": totals.hidden}, \
            f"{POINTS_FILE.name} is out of date for {name}: run `autograder points --write`"


def test_each_assignment_has_its_own_tests_in_number_order(collected):
    for name, tests in collected.items():
        assert tests and all(test["id"].startswith(("test_public.py", "test_hidden.py")) for test in tests)
        assert [number_key(t["number"]) for t in tests] == sorted(number_key(t["number"]) for t in tests)
    firsts = {tests[0]["number"] for tests in collected.values()}
    assert len(firsts) == len(collected)   # not the first assignment's graders again


def test_gpu_only_tests_are_left_out_of_the_totals():
    tests = [{"max_score": 1.0, "file": "test_public.py", "cuda": False},
             {"max_score": 0.5, "file": "test_public.py", "cuda": True},
             {"max_score": 2.0, "file": "test_hidden.py", "cuda": False}]
    totals = points.totals(tests)
    assert (totals.public, totals.hidden, totals.total) == (1.0, 2.0, 3.0)


def test_the_command_prints_every_test_and_the_totals(capsys, collected):
    assert cli.main(["points", "tensors"]) == 0
    printed = capsys.readouterr().out
    totals = points.totals(collected["tensors"])
    assert "after_due_date" in printed and "make_tensors" in printed
    assert f"total to enter on Gradescope: {totals.total:g}" in printed.replace(".0;", ";").replace(".0 ", " ")


def test_numbers_sort_as_numbers():
    assert sorted(["1.10", "1.2", None, "1.30", "1.3", "2"], key=number_key) == ["1.2", "1.3", "1.10", "1.30", "2", None]


def test_hidden_points_are_read_from_the_points_file():
    stored = json.loads(POINTS_FILE.read_text(encoding="utf-8"))
    assert hidden_points("tensors") == stored["tensors"]["hidden"] > 0
    assert hidden_points("no_such_assignment") == 0


def test_a_public_only_table_says_what_the_hidden_tests_add():
    outcome = {"score": 1, "output": "", "extra_data": {"hidden_points": 16.0},
               "tests": [{"name": "a", "number": "1.1", "score": 1, "max_score": 32, "status": "passed",
                          "visibility": "visible"}]}
    table = format_table(outcome)
    assert "Total: 1.0 / 32.0" in table and "worth 16.0 more points" in table and "out of 48.0" in table
    del outcome["extra_data"]
    assert "hidden" not in format_table(outcome).lower()


def test_the_student_bundle_ships_the_points_file():
    from autograder.course import Assignment
    from autograder.instructor.bundles import package_files

    shipped = {inside for inside, _ in package_files(Assignment.get("tensors"), student=True)}
    assert "autograder/points.json" in shipped and "autograder/graders/tensors/test_hidden.py" not in shipped


@pytest.mark.slow
def test_a_check_of_the_stub_says_what_the_hidden_tests_add(tmp_path):
    from autograder.course import Assignment

    outcome = grade_file("tensors", Assignment.get("tensors").stub, tmp_path / "results.json", public_only=True)
    assert outcome["extra_data"]["hidden_points"] == hidden_points("tensors") > 0
    assert f"worth {hidden_points('tensors'):.1f} more points" in format_table(outcome)
    full = grade_file("tensors", Assignment.get("tensors").stub, tmp_path / "full.json")
    assert "hidden_points" not in full.get("extra_data", {})
