"""The terminal score table (autograder/report.py): order, visibility, one text per failure."""

from __future__ import annotations

from autograder.report import format_table


def _test(number, name, output="", visibility="visible", status="failed", max_score=1.0):
    return {"name": name, "number": number, "score": 0.0 if status == "failed" else max_score,
            "max_score": max_score, "status": status, "visibility": visibility, "tags": [], "output": output}


def test_rows_follow_the_test_numbers_and_show_visibility():
    outcome = {"score": 0, "output": "", "tests": [
        _test("1.10", "tenth", visibility="after_due_date"), _test("1.2", "second"), _test(None, "last"),
        _test("1.9", "ninth", visibility="hidden")]}
    table = format_table(outcome)
    assert table.index("second") < table.index("ninth") < table.index("tenth") < table.index("last")
    assert "after due date" in table and "never" in table and "visible" in table


def test_a_failure_shared_by_several_tests_is_shown_once():
    message = "f is not implemented yet: it still raises NotImplementedError."
    outcome = {"score": 0, "output": "", "tests": [
        _test("1.1", "one", message), _test("1.2", "two [a]", message), _test("1.2", "two [b]", message),
        _test("1.3", "three", "g raised ValueError")]}
    table = format_table(outcome, show_output=True)
    assert table.count(message) == 1 and table.count("g raised ValueError") == 1
    assert "3 tests (1.1, 1.2) failed with the same message (0.0/3.0):" in table
    assert "1.3 three (0.0/1.0):" in table


def test_long_test_names_wrap_and_the_row_keeps_its_columns():
    test = dict(_test("1.10", "word " * 40, visibility="after_published"), tags=["last_column_first_two_rows"])
    (row, *_) = [line for line in format_table({"score": 0, "output": "", "tests": [test]}).splitlines() if "word" in line]
    assert "1.10" in row and "when published" in row and "0.0/1.0" in row and "failed" in row


def test_functions_not_written_yet_are_left_to_the_top_line():
    unwritten = dict(_test("1.1", "one", "f is not implemented yet: it still raises NotImplementedError."),
                     extra_data={"not_implemented": True})
    outcome = {"score": 0, "output": "1 function is not written yet: f (its 1 test scores 0).",
               "tests": [unwritten, _test("1.2", "two", "g raised ValueError")]}
    table = format_table(outcome, show_output=True)
    assert table.startswith("1 function is not written yet: f (its 1 test scores 0).\n")
    assert "f is not implemented yet" not in table and "1.2 two (0.0/1.0):" in table
