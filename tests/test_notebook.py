"""autograder.submission.notebook: reading a notebook's code cells, leniently, with clear errors."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from autograder.submission.notebook import NotebookError, code_cells, read_notebook


def test_code_cells_are_numbered_among_all_cells_as_the_student_counts_them():
    notebook = new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell("import torch"),
                                   new_raw_cell("!ls"), new_code_cell("x = 1\ny = 2")])
    assert code_cells(nbformat.writes(notebook), "t.ipynb") == [(2, "import torch"), (4, "x = 1\ny = 2")]


# --- reading notebooks -----------------------------------------------------------------------

def test_empty_notebook_has_no_cells_and_no_error():
    assert code_cells(nbformat.writes(new_notebook()), "t.ipynb") == []


def test_invalid_json_raises_a_clear_error(tmp_path):
    path = tmp_path / "tensors.ipynb"
    path.write_text('{"cells": [}')
    with pytest.raises(NotebookError, match=r"^tensors\.ipynb is not a valid Jupyter notebook: it is not valid JSON"):
        read_notebook(path)


def test_empty_file_raises_a_clear_error(tmp_path):
    path = tmp_path / "tensors.ipynb"
    path.write_text("")
    with pytest.raises(NotebookError, match="not a valid Jupyter notebook: the file is empty"):
        read_notebook(path)


@pytest.mark.parametrize("content", [[1, 2], {"name": "tensors"}, "notebook", {"nbformat": 99, "cells": []},
                                     {"nbformat": 4, "metadata": {}}, {"nbformat": 4, "cells": 5},
                                     {"nbformat": 4, "cells": [3]},
                                     {"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}])
def test_json_that_is_not_a_notebook_raises_a_clear_error(tmp_path, content):
    path = tmp_path / "linear.ipynb"
    path.write_text(json.dumps(content))
    with pytest.raises(NotebookError, match=r"^linear\.ipynb is not a valid Jupyter notebook: \S"):
        read_notebook(path)


def test_non_utf8_file_raises_a_clear_error(tmp_path):
    path = tmp_path / "tensors.ipynb"
    path.write_bytes(b'{"cells": "\xff"}')
    with pytest.raises(NotebookError, match="not UTF-8"):
        read_notebook(path)


def test_notebooks_as_colab_and_old_jupyter_write_them_are_read_leniently(tmp_path):
    notebook = {
        "nbformat": 4, "nbformat_minor": 0,
        "metadata": {"colab": {"provenance": []}, "kernelspec": {"name": "python3"}},
        "cells": [
            {"cell_type": "markdown", "source": ["# Title"]},  # no metadata, no id
            {"cell_type": "code", "source": ["import torch\n", "def f():\n", "    return 1"],
             "metadata": {"id": "abc"}, "execution_count": None, "outputs": [], "extra": "field"},
        ],
    }
    path = tmp_path / "tensors.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8-sig")
    assert read_notebook(path) == [(2, "import torch\ndef f():\n    return 1")]


def test_nbformat_3_notebooks_are_converted():
    notebook = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "import torch\nprint(1)", "language": "python", "outputs": []}]}]}
    assert code_cells(json.dumps(notebook), "t.ipynb") == [(1, "import torch\nprint(1)")]
