"""autograder.submission.program: which statements run to define the graded names, and why a name is missing."""

from __future__ import annotations

import json

import pytest

from autograder.submission.program import MAX_STATEMENTS, Outcome, Program, TooManyStatements, plan
from autograder.submission.source import from_notebook, from_script


def run_texts(program: Program) -> list[str]:
    return [s.text for s in program.runnable()]


def notebook_plan(*cells: str, api=("MyNetwork", "train")) -> Program:
    program = plan(from_notebook(list(enumerate(cells, start=1)), "nn_module.ipynb"), api)
    assert Program.from_dict(json.loads(json.dumps(program.to_dict()))) == program
    return program


COLAB = (
    "from google.colab import drive\ndrive.mount('/content/drive')",
    "import torch\nfrom torch import nn\nimport matplotlib.pyplot as plt\nfrom tqdm.auto import tqdm\n"
    "IN, HIDDEN = 20, 30\nSIZES = [IN, HIDDEN, 40]\nSIZES.append(5)\ncriterion = nn.MSELoss()\n"
    "relu = nn.ReLU()\nx = torch.randn(3)",
    "class MyNetwork(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.m1 = nn.Linear(SIZES[0], SIZES[1])\n    def forward(self, x):\n        return relu(self.m1(x))",
    "def train(model, X, Y, epochs=100):\n    losses = []\n    for _ in tqdm(range(epochs)):\n"
    "        losses.append(criterion(model(X), Y).item())\n    return losses\n\ndef plot():\n    plt.plot(losses)",
    "model = MyNetwork()\nlosses = train(model, x, x, epochs=10**9)\nplot()\nprint(x)\n"
    "files = get_ipython().getoutput('ls')",
)


def test_what_the_graded_definitions_use_runs_and_demo_code_does_not():
    program = notebook_plan(*COLAB)
    assert run_texts(program) == [
        "from torch import nn", "from tqdm.auto import tqdm", "IN, HIDDEN = 20, 30", "SIZES = [IN, HIDDEN, 40]",
        "SIZES.append(5)", "criterion = nn.MSELoss()", "relu = nn.ReLU()", "class MyNetwork(nn.Module):",
        "def train(model, X, Y, epochs=100):"]
    skipped = [s.text for s in program.statements if not s.run]
    assert "drive.mount('/content/drive')" in skipped and "losses = train(model, x, x, epochs=10**9)" in skipped
    assert "x = torch.randn(3)" in skipped       # `x` in forward is its own argument
    assert "def plot():" in skipped and "import matplotlib.pyplot as plt" in skipped  # nothing graded needs them


def test_get_ipython_calls_never_run_even_when_needed():
    program = notebook_plan("files = get_ipython().getoutput('ls')\ndef train():\n    return files",
                            api=("train",))
    [files, train] = program.statements
    assert files.ipython and not files.run and train.run


def test_every_setter_of_a_needed_name_runs_so_the_last_definition_wins():
    program = notebook_plan("def train():\n    raise NotImplementedError", "LR = 0.1",
                            "def train():\n    return LR", api=("train",))
    assert run_texts(program) == ["def train():", "LR = 0.1", "def train():"]


def test_names_used_in_decorators_defaults_bases_and_class_bodies_are_needed():
    program = plan(from_script(
        "import functools\nSCALE = 2\nBASE = object\nUNUSED = 1\n"
        "class Net(BASE):\n    factor = SCALE\n@functools.lru_cache\ndef f(n=SCALE):\n    return n\n", "t.py"),
        ("Net", "f"))
    assert run_texts(program) == ["import functools", "SCALE = 2", "BASE = object", "class Net(BASE):",
                                  "@functools.lru_cache"]


def test_helpers_are_followed_transitively_but_unused_ones_are_not():
    program = plan(from_script("import math\nimport os\ndef helper():\n    return math.pi\n"
                               "def unused():\n    return os.getcwd()\ndef graded():\n    return helper()\n", "t.py"),
                   ("graded",))
    assert run_texts(program) == ["import math", "def helper():", "def graded():"]


def test_without_an_api_every_definition_is_a_root():
    program = plan(from_script("import os\nX = 1\ndef f():\n    return os.sep\nprint(X)\n", "t.py"))
    assert run_texts(program) == ["import os", "def f():"]


def test_statements_that_change_a_needed_object_in_place_run_but_module_calls_do_not():
    program = plan(from_script(
        "import torch\nCONFIG = {}\nCONFIG['lr'] = 0.1\nCONFIG.update(momentum=0.9)\ntorch.manual_seed(0)\n"
        "LAYERS = []\nLAYERS += [1]\nOTHER = []\nOTHER.append(1)\ndef f():\n    return CONFIG, LAYERS, torch.ones(1)\n",
        "t.py"), ("f",))
    assert run_texts(program) == ["import torch", "CONFIG = {}", "CONFIG['lr'] = 0.1",
                                  "CONFIG.update(momentum=0.9)", "LAYERS = []", "LAYERS += [1]", "def f():"]


def test_dynamic_name_lookups_make_everything_run():
    program = plan(from_script("X = 1\nprint(X)\ndef f(name):\n    return globals()[name]\n", "t.py"), ("f",))
    assert run_texts(program) == ["X = 1", "print(X)", "def f(name):"]


def test_star_imports_always_run():
    program = plan(from_script("from torch import *\nimport os\ndef f():\n    return tensor([1])\n", "t.py"), ("f",))
    assert run_texts(program) == ["from torch import *", "def f():"]


def test_statements_sharing_a_line_are_told_apart():
    program = plan(from_script("import math; print(math.pi); A = 1\ndef f():\n    return A\n", "t.py"), ("f",))
    assert [(s.text, s.run) for s in program.statements] == [
        ("import math", False), ("print(math.pi)", False), ("A = 1", True), ("def f():", True)]


# --- explanations ----------------------------------------------------------------------------

def test_a_failed_statement_is_named_with_its_position_and_error():
    program = notebook_plan(*COLAB)
    outcomes = {s.index: Outcome("ok") for s in program.runnable()}
    nn, criterion = [s for s in program.statements if s.text in ("from torch import nn", "criterion = nn.MSELoss()")]
    outcomes[nn.index] = Outcome("failed", "ModuleNotFoundError: No module named 'torch'")
    outcomes[criterion.index] = Outcome("failed", "NameError: name 'nn' is not defined", "nn")
    assert program.explain("criterion", outcomes) == (
        "`criterion` was not set: cell 2, line 8 (`criterion = nn.MSELoss()`) raised NameError: name 'nn' is not "
        "defined. `nn` was not set: cell 2, line 2 (`from torch import nn`) raised ModuleNotFoundError: No module "
        "named 'torch'")
    assert program.explain("relu", outcomes) is None     # it was set
    assert program.explain("typo", outcomes) is None     # nothing sets it: a plain NameError


def test_stopped_ipython_removed_and_unrun_setters_are_explained():
    program = notebook_plan(
        "TABLE = slow()\nfiles = get_ipython().getoutput('ls')\nrows = !ls\nX = [1,",
        "def train():\n    return TABLE, files, rows, X, late\n\ndef later():\n    pass", api=("train",))
    table = program.statements[0]
    outcomes = {table.index: Outcome("stopped", "did not finish within 10 s")}
    assert program.explain("TABLE", outcomes) == (
        "`TABLE` was not set: cell 1, line 1 (`TABLE = slow()`) did not finish within 10 s, so it was skipped")
    assert "calls get_ipython(): that only works inside Jupyter" in program.explain("files", outcomes)
    assert program.explain("rows", outcomes) == (
        "`rows` is set at cell 1, line 3 (`rows = !ls`), which is a shell command: those never run during grading")
    assert program.explain("X", outcomes).startswith("`X` is set at cell 1, line 4 (`X = [1,`), which has a syntax error")


def test_a_file_with_tens_of_thousands_of_statements_is_refused_before_planning():
    text = "".join(f"x{i} = x{i + 1}\n" for i in range(MAX_STATEMENTS + 1))
    with pytest.raises(TooManyStatements, match=f"t.py has {MAX_STATEMENTS + 1} top-level statements; the limit"):
        plan(from_script(text, "t.py"))


def test_a_deeply_nested_expression_does_not_hide_what_a_definition_needs():
    """Python parses a 900-term sum, but rebuilding its text recursively would not: the
    definition must still be found, with what it uses."""
    total = " + ".join(["SCALE"] * 900)
    program = plan(from_script(f"SCALE = 2\n\ndef train(x):\n    return {total}\n", "m.py"), ["train"])
    assert run_texts(program) == ["SCALE = 2", "def train(x):"]


def test_statements_sharing_a_line_are_read_apart():
    program = plan(from_script("import torch; W = torch.ones(2); junk = open('/x')\n"
                               "def train(x):\n    return W @ x\n", "m.py"), ["train"])
    assert run_texts(program) == ["import torch", "W = torch.ones(2)", "def train(x):"]
