"""The generated blocks of each handout (autograder/instructor/handouts.py, run by `make stubs`): the
one check command, what student code may import, from requirements/student.txt, and how grading
loads a file."""

from __future__ import annotations

import pytest

from autograder import course, environment
from autograder.instructor import handouts
from kit import ROOT

HANDOUTS = course.handouts(ROOT)


@pytest.mark.parametrize("path", HANDOUTS, ids=[p.parent.name for p in HANDOUTS])
def test_committed_handout_matches_the_generator(path):
    text = path.read_bytes().decode("utf-8")
    assert handouts.render(text, path.name, path.parent.name) == text, (
        f"{path.relative_to(ROOT).as_posix()} is out of date: run `make stubs`")


def test_every_assignment_has_a_handout_with_the_block():
    assert {p.parent.name for p in HANDOUTS} == {"tensors", "manual_gradients", "autograd_function",
                                                  "linear_regression", "nn_module"}
    for path in HANDOUTS:
        text = path.read_text(encoding="utf-8")
        assert f"Submit `{path.parent.name}.py` (or a notebook" in text
        assert "If you submit a notebook, only its imports" not in text


def test_the_block_lists_the_declared_packages_as_students_import_them():
    block = handouts.block()
    assert block.startswith(handouts.BEGIN + "\n") and block.endswith("\n" + handouts.END)
    for shown in environment.student_imports():
        assert f"`{shown}`" in block
    assert "`IPython.display`" in block and "`ipython`" not in block
    assert "Python standard library" in block
    flat = " ".join(block.split())
    assert ("Grading loads your file the way Jupyter's *Run All* would, but runs only your definitions and what "
            "they use: imports, functions, classes, and the module-level objects and constants your functions use "
            "(a loss such as `criterion = nn.MSELoss()`, a list of sizes). Demo code — prints, plots, training runs, "
            "`!pip` and `%magic` lines — may stay: it is not run during grading. A statement that fails (say, "
            "`from google.colab import drive` outside Colab) costs only the functions that need it, and the "
            "feedback names its cell and line.") in flat


def test_the_check_block_gives_the_one_check_command():
    block = handouts.block(handouts.CHECKING, "alpha")
    begin, end = handouts.markers(handouts.CHECKING)
    assert block.startswith(begin + "\n") and block.endswith("\n" + end)
    assert "\n```sh\npython -m autograder check alpha alpha.py\n```\n" in block
    assert "(with `alpha.ipynb` if you work in the notebook)" in block
    assert "make check" not in block


def empty_blocks() -> str:
    return "".join(f"{begin}\nold text\n{end}\n\n" for begin, end in map(handouts.markers, (
        handouts.CHECKING, handouts.ENVIRONMENT)))


def test_render_replaces_only_the_blocks_and_refuses_a_handout_without_them():
    text = f"# A\n\nBefore.\n\n{empty_blocks()}After.\n"
    rendered = handouts.render(text, assignment="alpha")
    assert rendered == (f"# A\n\nBefore.\n\n{handouts.block(handouts.CHECKING, 'alpha')}\n\n"
                        f"{handouts.block()}\n\nAfter.\n")
    assert handouts.render(rendered, assignment="alpha") == rendered
    with pytest.raises(handouts.HandoutError, match="exactly one block"):
        handouts.render("# A\n\nNo block.\n")
    with pytest.raises(handouts.HandoutError, match="checking your work"):
        handouts.render(f"# A\n\n{handouts.BEGIN}\n{handouts.END}\n")
    with pytest.raises(handouts.HandoutError):
        handouts.render(text + text)


def test_run_writes_then_check_passes_and_reports_drift(tmp_path, capsys):
    folder = tmp_path / "assignments" / "alpha"
    folder.mkdir(parents=True)
    handout = folder / "handout.md"
    handout.write_text(f"# alpha\n\n{empty_blocks()}")
    assert handouts.run(check=True, root=tmp_path) == 1
    assert "assignments/alpha/handout.md is out of date: run `make stubs`" in capsys.readouterr().out
    assert handouts.run(root=tmp_path) == 0
    assert capsys.readouterr().out == "wrote assignments/alpha/handout.md\n"
    assert handouts.run(check=True, root=tmp_path) == 0
    handout.write_text("# alpha\n")
    assert handouts.run(root=tmp_path) == 2
    assert "exactly one block" in capsys.readouterr().err
