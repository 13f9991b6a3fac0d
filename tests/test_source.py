"""autograder.submission.source: scripts and notebook cells become parseable Python that keeps the student's
positions; IPython syntax and pieces that do not parse are taken out, each costing only itself."""

from __future__ import annotations

import ast

from autograder.submission.source import Position, Removed, Source, from_notebook, from_script, guess_names


def notebook(*cells: str, first: int = 1) -> Source:
    source = from_notebook([(first + k, c) for k, c in enumerate(cells)], "tensors.ipynb")
    ast.parse(source.text)  # always parses
    assert Source.from_dict(source.to_dict()) == source
    return source


def script(text: str) -> Source:
    source = from_script(text, "tensors.py")
    ast.parse(source.text)
    assert Source.from_dict(source.to_dict()) == source
    return source


def cell_lines(source: Source, cell: int) -> list[str]:
    """The text lines that come from `cell`, in order (line k of the cell is item k - 1)."""
    return [line for line, p in zip(source.text.split("\n"), source.positions) if p.cell == cell and p.line >= 1]


def kinds(source: Source) -> list[tuple[str, str]]:
    return [(str(r.where), r.kind) for r in source.removed]


# --- positions -------------------------------------------------------------------------------

def test_every_line_of_a_cell_keeps_its_cell_and_line():
    source = notebook("import torch\n\ndef first(t):\n    return t[0]", "x = 1", first=3)
    assert cell_lines(source, 3) == ["import torch", "", "def first(t):", "    return t[0]"]
    line = source.text.split("\n").index("    return t[0]") + 1
    assert source.position(line) == Position(3, 4) and str(source.position(line)) == "cell 3, line 4"
    assert "# --- cell 4 ---" in source.text and str(source.position(len(source.positions))) == "cell 4, line 1"


def test_a_valid_script_is_left_exactly_as_written():
    text = "import torch\n\n\ndef f(x):\n    return x  # done\n"
    source = script(text)
    assert source.text == text and source.removed == []
    assert str(source.position(4)) == "line 4" and source.to_dict()["positions"] == [[None, 1, 5, 1]]


def test_windows_and_old_mac_line_endings_keep_line_numbers():
    source = script("import torch\r\n\r\ndef f():\r\n    return 2\rx = f(\r\n")
    assert source.text.split("\n")[:5] == ["import torch", "", "def f():", "    return 2", ""]
    assert kinds(source) == [("line 5", "syntax-error")]


def test_non_ascii_text_stays_as_written():
    source = notebook("GREETING = 'héllo wörld'; ÉCHELLE = 2.0")
    assert cell_lines(source, 1) == ["GREETING = 'héllo wörld'; ÉCHELLE = 2.0"]


# --- IPython syntax --------------------------------------------------------------------------

def test_ipython_syntax_is_blanked_and_never_reaches_the_source():
    source = notebook(
        "%matplotlib inline\n!pip install x\nimport torch\nfiles = !ls\nelapsed = %time run()\n  %load_ext autoreload",
        'get_ipython().system("rm -rf /")\nSIZE = 3',
        "torch.randn?\n??torch.zeros\nSIZE = 3",
    )
    assert kinds(source) == [("cell 1, line 1", "magic"), ("cell 1, line 2", "shell"), ("cell 1, line 4", "shell"),
                             ("cell 1, line 5", "magic"), ("cell 1, line 6", "magic"),
                             ("cell 3, line 1", "magic"), ("cell 3, line 2", "magic")]
    for gone in ("%", "!", "?"):
        assert gone not in source.text
    assert cell_lines(source, 1) == ["", "", "import torch", "", "", ""]
    assert source.removed[2].names == ("files",) and source.removed[3].names == ("elapsed",)
    assert 'get_ipython().system("rm -rf /")' in source.text  # plain Python: autograder.submission.program never runs it


def test_a_magic_inside_a_def_becomes_pass_so_the_def_still_parses():
    source = notebook("def timed(x):\n    %time y = x * 2\n\ndef only_magic():\n    %timeit sum(range(9))\n")
    assert "def timed(x):\n    pass\n" in source.text and "def only_magic():\n    pass" in source.text
    assert kinds(source) == [("cell 1, line 2", "magic"), ("cell 1, line 5", "magic")]


def test_magic_continued_with_a_backslash_is_blanked_whole():
    source = notebook("!pip install \\\n    torch numpy\nimport torch\ndef f():\n    !echo a \\\n        b\n    return 1")
    assert cell_lines(source, 1) == ["", "", "import torch", "def f():", "    pass", "", "    return 1"]


def test_lines_that_only_look_like_ipython_are_python():
    text = ("NOTE = '''\n!not a shell command\n%not a magic\n'''\n"
            "def f(a,\n      b):\n    return a != b\nprint('a = %d' % 3)\nx = 7 % 3\n")
    assert notebook(text).removed == [] and cell_lines(notebook(text), 1)[:9] == text.split("\n")[:9]


def test_time_capture_and_prun_cells_keep_their_python_body():
    source = notebook("%%time\ndef slow():\n    return 1", "\n%%capture out\nX = 2", "%%prun -s time\nY = 3")
    assert cell_lines(source, 1) == ["", "def slow():", "    return 1"]
    assert cell_lines(source, 2) == ["", "", "X = 2"] and "Y = 3" in source.text
    assert kinds(source) == [("cell 1, line 1", "magic"), ("cell 2, line 2", "magic"), ("cell 3, line 1", "magic")]


def test_other_cell_magics_make_the_whole_cell_not_python():
    source = notebook("%%bash\necho hi\ndef g(): pass", "%%writefile helpers.py\ndef h():\n    return 1",
                      "%%timeit\nZ = sum(range(10))")
    assert "echo" not in source.text and "def h" not in source.text and "Z =" not in source.text
    bash, writefile, timeit = source.removed
    assert (bash.kind, bash.detail, bash.names) == ("cell-magic", "bash", ("g",))
    assert (writefile.detail, writefile.names) == ("writefile", ("h",))
    assert "`%%timeit` cell, which is not Python" in timeit.describe()


def test_an_exported_script_keeps_ipython_calls_and_loads_the_body_of_a_time_cell():
    text = ("#!/usr/bin/env python\n# coding: utf-8\n\n# In[1]:\n\n\nget_ipython().system('pip install tqdm')\n"
            "get_ipython().run_line_magic('matplotlib', 'inline')\n\n\n# In[2]:\n\n\n"
            "get_ipython().run_cell_magic('time', '', 'def f():\\n    return 1\\n%time X = 2\\n')\n\n\n"
            "# In[3]:\n\n\ndef g():\n    return f()\n")
    source = script(text)
    lines = source.text.split("\n")
    assert "def f():" in lines and "    return 1" in lines and "run_cell_magic" not in source.text
    assert "get_ipython().system('pip install tqdm')" in lines  # plain Python: never run, see program
    assert str(source.position(lines.index("def f():") + 1)) == "line 14"   # the line of the call
    assert str(source.position(lines.index("def g():") + 1)) == "line 20"
    assert kinds(source) == [("line 14", "magic")]


def test_a_cell_magic_call_with_other_arguments_or_magics_is_left_alone():
    text = "get_ipython().run_cell_magic('bash', '', 'echo hi\\n')\nget_ipython().run_cell_magic('time', '', body)\n"
    assert script(text).text == text


# --- syntax errors cost only their own piece -------------------------------------------------

def test_a_syntax_error_costs_only_its_top_level_block():
    source = notebook("import torch\nROWS = [1, 2, 3\ndef second_column(x):\n    return x[:, 1]\n\n"
                      "def first_row(x):\n    return x[0\n\ndef last(x):\n    return x[-1]")
    assert "def second_column" in source.text and "def last" in source.text
    assert "first_row" not in source.text and "ROWS" not in source.text
    rows, first_row = source.removed
    assert (str(rows.where), rows.kind, rows.text, rows.names) == ("cell 1, line 2", "syntax-error", "ROWS = [1, 2, 3", ("ROWS",))
    assert "'[' was never closed" in rows.detail and "cell 1, line 2" in rows.detail
    assert (str(first_row.where), first_row.names) == ("cell 1, line 6", ("first_row",))
    assert "cell 1, line 7" in first_row.detail
    assert first_row.describe().startswith("has a syntax error (SyntaxError at cell 1, line 7:")


def test_a_script_with_a_syntax_error_keeps_its_other_functions():
    source = script("import torch\n\ndef ok():\n    return 1\n\ndef bad(:\n    pass\n\nclass C:\n    x = 1\n")
    assert "def ok" in source.text and "class C" in source.text and "bad" not in source.text
    assert kinds(source) == [("line 6", "syntax-error")]


def test_blocks_that_only_parse_together_stay_together():
    text = ('"""\nTitle\n=====\n"""\nimport torch\n@decorate\ndef f():\n    pass\nif X:\n    pass\nelse:\n    pass\n'
            "VALUES = [\n1,\n]\ndef broken(:\n    pass\n")
    source = script(text)
    assert kinds(source) == [("line 16", "syntax-error")]
    assert source.text.startswith('"""\nTitle\n=====\n"""\nimport torch\n@decorate\ndef f():')
    assert "else:" in source.text and "VALUES = [\n1,\n]" in source.text


def test_a_magic_after_an_unclosed_bracket_is_still_recognised():
    source = notebook("x = [1,\ndef h():\n    %time y = 2\n    return y")
    assert "def h():\n    pass\n    return y" in source.text
    assert kinds(source) == [("cell 1, line 1", "syntax-error"), ("cell 1, line 3", "magic")]


def test_future_imports_in_a_late_cell_and_statements_after_them_parse():
    source = notebook("import torch", "from __future__ import annotations\ndef f(x: Later) -> Later:\n    return x")
    assert source.removed == [] and "from __future__ import annotations" in source.text


def test_finding_what_does_not_parse_has_a_bounded_cost():
    source = script("\n".join(f"def f{i}(:" for i in range(300)) + "\nOK = 1\n")
    assert "OK = 1" in source.text and len(source.removed) == 300
    # Past the budget (2000 parses for a file), the rest of the piece is skipped whole.
    source = script("\n".join(f"def f{i}(:" for i in range(3000)) + "\nOK = 1\n")
    assert source.text.strip() == "" and 900 < len(source.removed) < 1100
    assert source.removed[-1].detail.endswith("too many pieces do not parse, so the rest of it was not read")


def test_guessing_the_names_of_code_that_does_not_parse():
    assert guess_names(["def f(:", "class C(", "async def g(", "X: int = [", "Y = (", "Y == 2",
                        "import torch.nn as tnn, os", "from torch import (nn, optim as o", "  z = 1"]) == (
        "f", "C", "g", "X", "Y", "tnn", "os", "nn", "o")


def test_removed_pieces_describe_themselves_for_the_student():
    shell = Removed(Position(2, 3), "shell", "files = !ls", names=("files",))
    assert shell.describe() == "is a shell command: those never run during grading"
    assert Removed(Position(None, 1), "magic", "%pip install x").describe() == (
        "is an IPython magic: those never run during grading")
