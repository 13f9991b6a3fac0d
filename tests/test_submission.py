"""autograder.submission.prepare: the graded file becomes Python plus a plan, within bounded cost."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.course import Assignment
from autograder.submission.program import MAX_STATEMENTS
from autograder.submission.prepare import MAX_SOURCE_BYTES, SubmissionProblem, prepare

TENSORS = Assignment.get("tensors")


def test_a_notebook_becomes_parseable_python_and_a_plan_of_the_graded_names(tmp_path):
    nbformat.write(new_notebook(cells=[new_code_cell("%pip install tqdm\nimport torch"),
                                       new_code_cell("def first_row(x):\n    return x[0]\nprint(first_row)")]),
                   tmp_path / "tensors.ipynb")
    prepared = prepare(TENSORS, tmp_path, tmp_path / "scratch")
    assert prepared.path.read_text() == prepared.program.source.text
    assert [s.text for s in prepared.program.runnable()] == ["def first_row(x):"]
    assert prepared.graded == "tensors.ipynb"


@pytest.mark.parametrize("text,message", [
    ("", "tensors.py is empty"),
    ("# only a comment\n\n", "tensors.py holds no Python code"),
    ("".join(f"x{i} = {i}\n" for i in range(MAX_STATEMENTS + 1)), f"has {MAX_STATEMENTS + 1} top-level statements"),
])
def test_files_with_nothing_or_far_too_much_to_plan_get_a_message(tmp_path, text, message):
    (tmp_path / "tensors.py").write_text(text)
    with pytest.raises(SubmissionProblem, match=message):
        prepare(TENSORS, tmp_path, tmp_path / "scratch")


@pytest.mark.parametrize("name", ["tensors.py", "tensors.ipynb"])
def test_a_file_that_is_not_utf8_gets_a_message(tmp_path, name):
    (tmp_path / name).write_bytes(b'{"cells": "\xff"}')
    with pytest.raises(SubmissionProblem, match=rf"^{name.replace('.', '[.]')} is not UTF-8 text"):
        prepare(TENSORS, tmp_path, tmp_path / "scratch")


def test_a_notebook_is_limited_by_the_size_of_its_code_not_of_its_outputs(tmp_path):
    big = new_code_cell("x = 1")
    big.outputs = [nbformat.v4.new_output("stream", text="y" * (MAX_SOURCE_BYTES + 10))]
    nbformat.write(new_notebook(cells=[big, new_code_cell("def first_row(x):\n    return x[0]")]),
                   tmp_path / "tensors.ipynb")
    assert prepare(TENSORS, tmp_path, tmp_path / "a").program.statements
    nbformat.write(new_notebook(cells=[new_code_cell("#" * (MAX_SOURCE_BYTES + 10))]), tmp_path / "tensors.ipynb")
    with pytest.raises(SubmissionProblem, match=r"The code cells of tensors\.ipynb hold \d+ bytes; the limit"):
        prepare(TENSORS, tmp_path, tmp_path / "b")
