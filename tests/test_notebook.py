"""autograder.submission.notebook: reading a notebook's code cells, leniently, with clear errors."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from autograder.submission.notebook import NotebookError, code_cells


def test_code_cells_are_numbered_among_all_cells_as_the_student_counts_them():
    notebook = new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell("import torch"),
                                   new_raw_cell("!ls"), new_code_cell("x = 1\ny = 2")])
    assert code_cells(nbformat.writes(notebook), "t.ipynb") == [(2, "import torch"), (4, "x = 1\ny = 2")]


# --- reading notebooks -----------------------------------------------------------------------

def test_empty_notebook_has_no_cells_and_no_error():
    assert code_cells(nbformat.writes(new_notebook()), "t.ipynb") == []


def test_invalid_json_raises_a_clear_error():
    with pytest.raises(NotebookError, match=r"^tensors\.ipynb is not a valid Jupyter notebook: it is not valid JSON"):
        code_cells('{"cells": [}', "tensors.ipynb")


def test_empty_file_raises_a_clear_error():
    with pytest.raises(NotebookError, match="not a valid Jupyter notebook: the file is empty"):
        code_cells("", "tensors.ipynb")


@pytest.mark.parametrize("content", [[1, 2], {"name": "tensors"}, "notebook", {"nbformat": 99, "cells": []},
                                     {"nbformat": 4, "metadata": {}}, {"nbformat": 4, "cells": 5},
                                     {"nbformat": 4, "cells": [3]},
                                     {"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}])
def test_json_that_is_not_a_notebook_raises_a_clear_error(content):
    with pytest.raises(NotebookError, match=r"^linear\.ipynb is not a valid Jupyter notebook: \S"):
        code_cells(json.dumps(content), "linear.ipynb")


def test_notebooks_as_colab_and_old_jupyter_write_them_are_read_leniently():
    notebook = {
        "nbformat": 4, "nbformat_minor": 0,
        "metadata": {"colab": {"provenance": []}, "kernelspec": {"name": "python3"}},
        "cells": [
            {"cell_type": "markdown", "source": ["# Title"]},  # no metadata, no id
            {"cell_type": "code", "source": ["import torch\n", "def f():\n", "    return 1"],
             "metadata": {"id": "abc"}, "execution_count": None, "outputs": [], "extra": "field"},
        ],
    }
    assert code_cells(json.dumps(notebook), "tensors.ipynb") == [(2, "import torch\ndef f():\n    return 1")]


def test_nbformat_3_notebooks_are_converted():
    notebook = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "import torch\nprint(1)", "language": "python", "outputs": []}]}]}
    assert code_cells(json.dumps(notebook), "t.ipynb") == [(1, "import torch\nprint(1)")]
