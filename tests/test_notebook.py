"""autograder.notebook: a notebook becomes gradable source, and nothing in it runs."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from autograder.notebook import Dropped, Extracted, NotebookError, extract_notebook, notebook_source


def extract(*cells) -> Extracted:
    """Extract from a notebook of `cells` (strings are code cells); the result must compile."""
    notebook = new_notebook(cells=[new_code_cell(c) if isinstance(c, str) else c for c in cells])
    extracted = notebook_source(nbformat.writes(notebook))
    compile(extracted.source, "tensors.py", "exec", dont_inherit=True)
    return extracted


def where(extracted: Extracted) -> list[tuple[int, int, str]]:
    return [(d.cell, d.line, d.kind) for d in extracted.dropped]


def cell_lines(extracted: Extracted, cell: int) -> list[str]:
    """Output lines under `# --- cell N ---`: item k is line k+1 of that cell."""
    lines = extracted.source.split("\n")
    start = lines.index(f"# --- cell {cell} ---") + 1
    return lines[start:]


DEFINITIONS = '''\
"""My tensor helpers."""
import torch
from torch import nn as tnn
import torch.nn.functional as F

SIZE = 3
SHAPE: tuple = (2, -3)
NAMES = {"a": [1, 2.5, None], "b": (True, b"x")}
DTYPE = torch.float32
Tensor = torch.Tensor


@torch.no_grad()
@staticmethod
def make_tensors(
    n: int = SIZE,
    dtype=DTYPE,
) -> Tensor:
    """Return the tensors."""
    # a comment inside the body stays
    return torch.zeros(n, dtype=dtype)


async def later():
    await something()


class Model(tnn.Module):
    scale = 2

    def forward(self, x):
        return F.relu(x) * self.scale
'''


# --- what is kept ----------------------------------------------------------------------------

def test_definitions_imports_and_constants_are_kept_verbatim():
    extracted = extract(DEFINITIONS)
    assert extracted.dropped == ()
    assert extracted.summary() == ""
    assert extracted.source == "# --- cell 1 ---\n" + DEFINITIONS.rstrip("\n") + "\n"


def test_kept_statements_keep_their_cell_line_under_the_header():
    extracted = extract(
        new_markdown_cell("# Tensors"),
        "print('setup')\nimport torch\n\nx = torch.randn(3)\n\ndef first(t):\n    return t[0]  # first\nfirst(x)",
        "def second(t):\n    return t[1]",
    )
    first = cell_lines(extracted, 2)
    assert first[:7] == ["", "import torch", "", "", "", "def first(t):", "    return t[0]"]
    assert "x = torch.randn(3)" not in extracted.source and "first(x)" not in extracted.source
    assert cell_lines(extracted, 3)[:2] == ["def second(t):", "    return t[1]"]
    assert "\n\n# --- cell 3 ---\n" in extracted.source  # cells are separated by a blank line


def test_comment_lines_between_kept_statements_stay_and_trailing_code_is_trimmed():
    extracted = extract("# helpers for question 1\nimport torch\n# demo below\nprint(torch.ones(2))")
    assert cell_lines(extracted, 1) == ["# helpers for question 1", "import torch", ""]


def test_statements_sharing_a_line_are_split_by_what_is_kept():
    extracted = extract("import math; print(math.pi); import os\nX = 1; y = compute(); Z = (1,\n     2)")
    assert cell_lines(extracted, 1)[:3] == ["import math; import os", "X = 1; Z = (1,", "     2)"]
    assert where(extracted) == [(1, 1, "statement"), (1, 2, "statement")]
    assert [d.text for d in extracted.dropped] == ["print(math.pi)", "y = compute()"]


def test_non_ascii_text_is_sliced_by_characters():
    extracted = extract("GREETING = 'héllo wörld'; shout(GREETING); ÉCHELLE = 2.0")
    assert cell_lines(extracted, 1)[0] == "GREETING = 'héllo wörld'; ÉCHELLE = 2.0"
    assert extracted.dropped[0].text == "shout(GREETING)"


def test_crlf_line_endings_are_handled():
    extracted = extract("import torch\r\nprint(1)\r\ndef f():\r\n    return 2\r\n")
    assert cell_lines(extracted, 1)[:4] == ["import torch", "", "def f():", "    return 2"]
    assert where(extracted) == [(1, 2, "statement")]


# --- what is dropped -------------------------------------------------------------------------

def test_demo_calls_prints_loops_and_computed_values_are_dropped_with_their_position():
    extracted = extract(
        new_markdown_cell("Intro"),
        "import torch\nx = torch.randn(3)\nprint(x)",
        "for i in range(3):\n    print(i)\n\nresult = make_tensors()\nresult += 1\nif __name__ == '__main__':\n    main()",
        "with open('f') as f:\n    pass\ntry:\n    import google.colab\nexcept ImportError:\n    pass\ndel x\nmake_tensors",
    )
    assert where(extracted) == [
        (2, 2, "statement"), (2, 3, "statement"),
        (3, 1, "statement"), (3, 4, "statement"), (3, 5, "statement"), (3, 6, "statement"),
        (4, 1, "statement"), (4, 3, "statement"), (4, 7, "statement"), (4, 8, "statement"),
    ]
    texts = [d.text for d in extracted.dropped]
    assert texts[:3] == ["x = torch.randn(3)", "print(x)", "for i in range(3):"]
    assert texts[-2:] == ["del x", "make_tensors"]
    assert extracted.source == "# --- cell 2 ---\nimport torch\n"


def test_constants_from_computed_or_unknown_values_are_dropped():
    extracted = extract("import torch\nx = torch.randn(3)\nY = x.T\nZ = undefined.attr\nW = f'{x}'\nA, B = 1, 2\nC = D = 5")
    assert [d.text for d in extracted.dropped] == ["x = torch.randn(3)", "Y = x.T", "Z = undefined.attr",
                                                   "W = f'{x}'", "A, B = 1, 2"]
    assert "C = D = 5" in extracted.source


def test_ipython_syntax_is_dropped_and_never_reaches_the_source():
    extracted = extract(
        "%matplotlib inline\n!pip install x\nimport torch\nfiles = !ls\nelapsed = %time run()\n  %load_ext autoreload",
        "%%time\ndef slow():\n    return 1",
        'get_ipython().system("rm -rf /")\nip = get_ipython()\nget_ipython().run_line_magic("matplotlib", "inline")',
        "torch.randn?\n??torch.zeros\nSIZE = 3",
    )
    assert where(extracted) == [
        (1, 1, "magic"), (1, 2, "shell"), (1, 4, "shell"), (1, 5, "magic"), (1, 6, "magic"),
        (2, 1, "magic"),
        (3, 1, "get_ipython"), (3, 2, "get_ipython"), (3, 3, "get_ipython"),
        (4, 1, "magic"), (4, 2, "magic"),
    ]
    for gone in ("%", "!", "get_ipython", "rm -rf", "slow", "?"):
        assert gone not in extracted.source
    assert "import torch" in extracted.source and "SIZE = 3" in extracted.source
    assert extracted.dropped[5] == Dropped(2, 1, "magic", "%%time", "cell magic; the whole cell was skipped")


def test_magic_continued_with_a_backslash_is_dropped_whole():
    extracted = extract("!pip install \\\n    torch numpy\nimport torch\ndef f():\n    !echo a \\\n        b\n    return 1")
    assert where(extracted) == [(1, 1, "shell"), (1, 5, "shell")]
    assert cell_lines(extracted, 1)[:7] == ["", "", "import torch", "def f():", "    pass", "", "    return 1"]


def test_a_magic_inside_a_def_becomes_pass_so_the_def_still_parses():
    extracted = extract("def timed(x):\n    %time y = x * 2\n\ndef only_magic():\n    %timeit sum(range(9))\n")
    assert "def timed(x):\n    pass\n" in extracted.source
    assert "def only_magic():\n    pass" in extracted.source
    assert where(extracted) == [(1, 2, "magic"), (1, 5, "magic")]


def test_lines_that_only_look_like_ipython_are_python():
    source = (
        "NOTE = '''\n!not a shell command\n%not a magic\n'''\n"
        "def f(a,\n      b):\n    return a != b\n"
        "print('a = %d' % 3)\n"
        "x = 7 % 3\n"
    )
    extracted = extract(source)
    assert "!not a shell command\n%not a magic" in extracted.source
    assert "return a != b" in extracted.source
    assert [(d.line, d.kind) for d in extracted.dropped] == [(8, "statement"), (9, "statement")]


def test_get_ipython_inside_a_def_is_left_alone():
    extracted = extract("def shell(cmd):\n    return get_ipython().system(cmd)")
    assert extracted.dropped == ()
    assert "get_ipython().system(cmd)" in extracted.source


def test_a_cell_with_a_syntax_error_is_dropped_and_the_other_cells_still_count():
    extracted = extract("def first_row(x):\n    return x[0]",
                        "%matplotlib inline\ndef second_row(x):\n    return x[1\n",
                        "N = 2")
    assert "first_row" in extracted.source and "N = 2" in extracted.source
    assert "second_row" not in extracted.source
    [problem] = extracted.dropped
    assert (problem.cell, problem.line, problem.kind) == (2, 3, "syntax-error")
    assert problem.text.startswith("SyntaxError: ") and "return x[1" in problem.text
    assert "the whole cell was skipped" in extracted.summary()


def test_a_def_that_compiles_badly_is_dropped_alone():
    extracted = extract("def ok():\n    return 1\n\ndef bad():\n    break\n")
    assert "def ok" in extracted.source and "def bad" not in extracted.source
    assert where(extracted) == [(1, 5, "syntax-error")]
    assert extracted.dropped[0].reason == "this definition was skipped"


def test_a_def_needing_a_skipped_name_is_dropped_instead_of_breaking_the_import():
    extracted = extract(
        "import torch\ndevice = torch.device('cpu')",
        "def to_device(t, device=device):\n    return t.to(device)\n\nclass Net(Base):\n    pass\n\n"
        "@to_device\ndef wrapped():\n    pass\n\ndef fine(t: torch.Tensor) -> torch.Tensor:\n    return t",
    )
    assert "def fine" in extracted.source
    assert "to_device" not in extracted.source and "Net" not in extracted.source
    assert [(d.cell, d.line, d.reason) for d in extracted.dropped] == [
        (1, 2, ""),
        (2, 1, "skipped because defining it needs `device`, which only skipped code sets"),
        (2, 4, "skipped because defining it needs `Base`, which is not defined above it"),
        (2, 7, "skipped because defining it needs `to_device`, which only skipped code sets"),
    ]


def test_a_star_import_makes_any_name_possible():
    extracted = extract("from torch import *\ndef f(x: Tensor = tensor):\n    return x")
    assert extracted.dropped == ()


def test_future_import_in_a_late_cell_goes_once_to_the_top():
    extracted = extract(
        '"""Docstring."""\nimport torch',
        "from __future__ import annotations\ndef f(x: NotYetDefined) -> Whatever:\n    return x",
        "from __future__ import annotations, division\nprint(1)",
    )
    assert extracted.source.startswith("from __future__ import annotations, division\n\n# --- cell 1 ---\n")
    assert extracted.source.count("__future__") == 1
    assert "def f(x: NotYetDefined)" in extracted.source  # lazy annotations need nothing at definition
    assert where(extracted) == [(3, 2, "statement")]


def test_an_unknown_future_feature_is_dropped():
    extracted = extract("from __future__ import braces\nX = 1")
    assert where(extracted) == [(1, 1, "statement")]
    assert "braces" not in extracted.source


def test_nothing_is_executed(tmp_path):
    marker = tmp_path / "ran"
    extracted = extract(
        f"open({str(marker)!r}, 'w').write('ran')",
        f"get_ipython().system('touch {marker}')",
        f"!touch {marker}",
        f"X = open({str(marker)!r}, 'w')\ndef f(arg=open({str(marker)!r}, 'w')):\n    pass",
    )
    assert not marker.exists()
    assert where(extracted) == [(1, 1, "statement"), (2, 1, "get_ipython"), (3, 1, "shell"), (4, 1, "statement")]
    assert extracted.source.count(str(marker)) == 1  # only in the kept def's default, unevaluated here


def test_markdown_and_raw_cells_are_ignored_but_counted():
    extracted = extract(new_markdown_cell("print(1)"), new_raw_cell("!ls"), "print(2)")
    assert where(extracted) == [(3, 1, "statement")]
    assert extracted.source == ""


# --- reading notebooks -----------------------------------------------------------------------

def test_empty_notebook_gives_empty_source_and_no_error():
    extracted = notebook_source(nbformat.writes(new_notebook()))
    assert extracted == Extracted(source="", dropped=())
    assert extracted.summary() == ""


def test_invalid_json_raises_a_clear_error(tmp_path):
    path = tmp_path / "tensors.ipynb"
    path.write_text('{"cells": [}')
    with pytest.raises(NotebookError, match=r"^tensors\.ipynb is not a valid Jupyter notebook: it is not valid JSON"):
        extract_notebook(path)


def test_empty_file_raises_a_clear_error(tmp_path):
    path = tmp_path / "tensors.ipynb"
    path.write_text("")
    with pytest.raises(NotebookError, match="not a valid Jupyter notebook: the file is empty"):
        extract_notebook(path)


@pytest.mark.parametrize("content", [[1, 2], {"name": "tensors"}, "notebook", {"nbformat": 99, "cells": []},
                                     {"nbformat": 4, "metadata": {}}, {"nbformat": 4, "cells": 5},
                                     {"nbformat": 4, "cells": [3]},
                                     {"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}])
def test_json_that_is_not_a_notebook_raises_a_clear_error(tmp_path, content):
    path = tmp_path / "linear.ipynb"
    path.write_text(json.dumps(content))
    with pytest.raises(NotebookError, match=r"^linear\.ipynb is not a valid Jupyter notebook: \S"):
        extract_notebook(path)


def test_non_utf8_file_raises_a_clear_error(tmp_path):
    path = tmp_path / "tensors.ipynb"
    path.write_bytes(b'{"cells": "\xff"}')
    with pytest.raises(NotebookError, match="not UTF-8"):
        extract_notebook(path)


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
    extracted = extract_notebook(path)
    assert extracted.source == "# --- cell 2 ---\nimport torch\ndef f():\n    return 1\n"


def test_nbformat_3_notebooks_are_converted():
    notebook = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "import torch\nprint(1)", "language": "python", "outputs": []}]}]}
    extracted = notebook_source(json.dumps(notebook))
    assert extracted.source == "# --- cell 1 ---\nimport torch\n"
    assert where(extracted) == [(1, 2, "statement")]


# --- feedback --------------------------------------------------------------------------------

def test_summary_lists_what_was_skipped():
    extracted = extract(new_markdown_cell("hi"), "import torch", "", "print(make_tensors())",
                        new_markdown_cell("x"), "%matplotlib inline\n!pip install torch",
                        "get_ipython().system('ls')")
    assert extracted.summary() == (
        "Graded only the definitions in tensors.ipynb (imports, functions, classes and constants); "
        "the rest of the notebook is not run during grading, so demo code may stay. "
        "Skipped 4 pieces of code:\n"
        "  cell 4, line 1: print(make_tensors())\n"
        "  cell 6, line 1: %matplotlib inline (IPython magic)\n"
        "  cell 6, line 2: !pip install torch (shell command)\n"
        "  cell 7, line 1: get_ipython().system('ls') (IPython call)"
    )


def test_summary_names_the_notebook_and_uses_the_singular():
    extracted = notebook_source(nbformat.writes(new_notebook(cells=[new_code_cell("print(1)")])), name="linear.ipynb")
    assert extracted.summary().startswith("Graded only the definitions in linear.ipynb ")
    assert "Skipped 1 piece of code:\n  cell 1, line 1: print(1)" in extracted.summary()


def test_summary_lists_at_most_twenty():
    extracted = extract("\n".join(f"print({i})" for i in range(25)))
    lines = extracted.summary().split("\n")
    assert len(lines) == 1 + 20 + 1
    assert lines[20] == "  cell 1, line 20: print(19)"
    assert lines[-1] == "  ... and 5 more"


def test_long_lines_are_cut_to_eighty_characters():
    extracted = extract("print('" + "x" * 100 + "')\nfor i in range(3):\n    pass")
    long, loop = extracted.dropped
    assert len(long.text) == 80 and long.text.endswith("...")
    assert loop.text == "for i in range(3):"


def test_a_stray_indented_magic_outside_any_block_is_blanked():
    extracted = extract("import torch\n  %load_ext autoreload\ndef f():\n    %time g()\n")
    assert cell_lines(extracted, 1)[:4] == ["import torch", "", "def f():", "    pass"]
    assert where(extracted) == [(1, 2, "magic"), (1, 4, "magic")]
