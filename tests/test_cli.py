"""The one command line: `autograder COMMAND`, what each command passes to its module, and the
Makefile, which runs only these commands."""

from __future__ import annotations

import importlib
import json
import inspect
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.course import ROOT
from kit import solution_source

# Each command as a user would type it, the module it runs, and the arguments `run` must get.
# (`stubs` runs two modules; with --check the one not replaced only reads the repository.)
COMMANDS = [
    (["gradescope", "--root", "gs", "--assignment", "tensors", "--call-timeout", "3"], "autograder.supervisor.gradescope",
     {"root": Path("gs"), "assignment": "tensors", "call_timeout": 3.0}),
    (["regrade", "tensors", "export.zip", "--out", "o", "--jobs", "4", "--timeout", "60", "--call-timeout", "2",
      "--due", "2026-01-31T23:59", "--only", "failed"],
     "autograder.instructor.regrade",
     {"assignment": "tensors", "export": Path("export.zip"), "out": Path("o"), "jobs": 4, "timeout": 60.0,
      "call_timeout": 2.0, "due": "2026-01-31T23:59", "only": "failed"}),
    (["demo"], "autograder.instructor.demo", {}),
    (["stubs", "tensors", "nn_module", "--check"], "autograder.instructor.stubgen",
     {"names": ["tensors", "nn_module"], "check": True, "root": ROOT}),
    (["stubs", "--check"], "autograder.instructor.handouts", {"check": True, "root": ROOT}),
    (["build", "autograder", "tensors", "--dist", "d"], "autograder.instructor.bundles",
     {"what": "autograder", "names": ["tensors"], "dist": Path("d")}),
    (["build", "student-bundle"], "autograder.instructor.bundles",
     {"what": "student-bundle", "names": [], "dist": ROOT / "dist"}),
    (["bench"], "autograder.instructor.bench", {"regrade_only": False, "quick": False}),
    (["bench", "--quick"], "autograder.instructor.bench", {"regrade_only": False, "quick": True}),
    (["bench", "--regrade"], "autograder.instructor.bench", {"regrade_only": True, "quick": False}),
]


@pytest.mark.parametrize(("argv", "module", "expected"), COMMANDS, ids=[" ".join(c[0]) for c in COMMANDS])
def test_each_command_runs_its_module_with_what_was_typed(monkeypatch, argv, module, expected):
    """The module's `run` gets the arguments, bound to its real signature (defaults left out)."""
    module = importlib.import_module(module)
    signature = inspect.signature(module.run)
    calls = []
    monkeypatch.setattr(module, "run", lambda *a, **k: calls.append(signature.bind(*a, **k).arguments) or 0)
    assert cli.main(argv) == 0
    assert calls == [expected]


@pytest.mark.parametrize(("argv", "public_only", "details"), [
    (["grade", "tensors", "x.py"], False, False),
    (["grade", "tensors", "x.py", "--public-only"], True, False),
    (["check", "tensors", "x.py"], True, True),
])
def test_check_is_grade_with_the_public_tests_only_and_every_message(argv, public_only, details):
    args = cli.build_parser().parse_args(argv)
    assert args.run is cli.grade_command and args.public_only is public_only and args.details is details
    assert (args.assignment, args.submission, args.out) == ("tensors", Path("x.py"), Path("results.json"))


def test_grade_keeps_the_options_users_type():
    args = cli.build_parser().parse_args(
        ["grade", "nn_module", "folder", "--out", "r.json", "--details", "--call-timeout", "2.5", "-k", "cuda",
         "-k", "shape", "--require-cuda", "--quiet", "--verbose"])
    assert (args.out, args.details, args.call_timeout, args.select) == (Path("r.json"), True, 2.5, ["cuda", "shape"])
    assert args.require_cuda and args.quiet and args.verbose


@pytest.mark.parametrize("argv", [
    ["grade", "no_such_assignment", "x.py"],
    ["build", "zip"],
    ["bench", "--quick", "--regrade"],
    ["nope"],
    [],
])
def test_wrong_command_lines_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(argv)
    assert exit.value.code == 2
    assert "usage: autograder" in capsys.readouterr().err


# --- wrong input is reported, not graded ---------------------------------------------------


@pytest.mark.parametrize("command", ["grade", "check"])
def test_a_path_that_does_not_exist_is_an_error_not_a_grade(command, tmp_path, capsys):
    out = tmp_path / "results.json"
    assert cli.main([command, "tensors", str(tmp_path / "tensors.py"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"autograder {command}: {tmp_path / 'tensors.py'} does not exist (looked from {Path.cwd()}). "
                   "Give the path of your tensors.py or tensors.ipynb, or of the folder that holds it.\n")
    assert not out.exists()


def test_a_function_the_assignment_does_not_have_is_an_error(tmp_path, capsys):
    out = tmp_path / "results.json"
    stub = ROOT / "assignments" / "tensors" / "tensors.py"
    assert cli.main(["check", "tensors", str(stub), "--function", "first_rows", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith(
        "autograder check: tensors has no function or class 'first_rows'; give one of: make_tensors, describe, ")
    assert not out.exists()


def test_a_check_of_one_function_runs_its_tests_only(tmp_path, capsys):
    out = tmp_path / "results.json"
    stub = ROOT / "assignments" / "tensors" / "tensors.py"
    assert cli.main(["check", "tensors", str(stub), "--function", "first_row", "--out", str(out), "--quiet"]) == 0
    outcome = json.loads(out.read_text())
    assert outcome["tests"] and {tag for t in outcome["tests"] for tag in t["tags"]} == {"first_row"}
    # the others' functions are not said to be missing, nor the whole assignment's hidden points
    assert outcome["output"].startswith("1 function is not written yet: first_row (its ")
    assert "hidden_points" not in outcome.get("extra_data", {})


def test_another_assignments_file_is_named_and_not_graded(tmp_path, capsys):
    out = tmp_path / "results.json"
    other = ROOT / "solutions" / "autograd_function.py"
    assert cli.main(["check", "tensors", str(other), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "autograder check: This looks like autograd_function.py, not tensors.py: autograd_function.py defines "
        "Square, Sigmoid, IHateThrees, RoundSTE, ... from autograd_function and none of the functions of tensors "
        "(make_tensors, describe, shared_from_numpy, ...). Give the file of tensors, or run "
        f"`python -m autograder check autograd_function {other}`.\n")
    assert not out.exists()


def test_a_file_named_after_another_assignment_that_defines_none_of_ours_is_refused(tmp_path, capsys):
    (tmp_path / "nn_module.py").write_text("import torch\nx = torch.ones(2)\n")
    assert cli.main(["grade", "tensors", str(tmp_path / "nn_module.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autograder grade: This looks like nn_module.py, not tensors.py: nn_module.py is named "
                          "after nn_module and defines none of the functions of tensors (")
    assert err.endswith(f"or run `autograder grade nn_module {tmp_path / 'nn_module.py'}`.\n")


@pytest.mark.parametrize("path", ["solutions/tensors.py", "assignments/tensors/tensors.py", "assignments/tensors"])
def test_the_right_file_or_folder_is_not_refused(path):
    assert cli.wrong_input("tensors", ROOT / path) is None


def test_our_functions_under_another_assignments_name_are_graded(tmp_path):
    renamed = tmp_path / "nn_module.py"
    renamed.write_text(solution_source("tensors"))
    assert cli.wrong_input("tensors", renamed) is None


def test_on_gradescope_another_assignments_file_is_graded_with_a_note(tmp_path):
    from autograder.course import Assignment
    from autograder.submission.prepare import prepare

    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "autograd_function.py").write_text(solution_source("autograd_function"))
    prepared = prepare(Assignment.get("tensors"), folder, tmp_path / "scratch")
    assert prepared.looks_like is not None and prepared.looks_like[0] == "autograd_function"
    assert prepared.notes[-1] == prepared.looks_like[1]
    assert prepared.notes[-1].startswith("This looks like autograd_function.py, not tensors.py: ")


def test_help_lists_every_command_on_one_line(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["--help"])
    assert exit.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    for name, line in cli.COMMANDS.items():
        assert f"  {name:<12}{line}" in lines


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_each_command_has_its_help(name, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main([name, "--help"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: autograder {name} ")


def test_an_instructor_command_without_the_instructor_folder_says_so(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "autograder.instructor.demo", None)   # as if the file were not there
    assert cli.main(["demo"]) == 2
    assert capsys.readouterr().err == "autograder demo: this is an instructor's command, not in the student bundle\n"


def test_an_instructor_command_without_its_dependency_says_what_installs_it(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "autograder.instructor.bundles", raising=False)
    monkeypatch.setitem(sys.modules, "packaging.requirements", None)
    assert cli.main(["build", "autograder"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autograder build: this instructor's command needs what is not installed here (")
    assert "packaging.requirements" in err and "pip install -e '.[instructor]'" in err


def test_stubs_checks_the_stubs_and_the_handouts_of_the_repository(capsys):
    assert cli.main(["stubs", "--check"]) == 0
    out = capsys.readouterr().out
    assert "assignments/tensors/tensors.py is up to date" in out
    assert "assignments/tensors/handout.md is up to date" in out


def test_stubs_reports_a_drifted_handout(tmp_path, capsys):
    from autograder.instructor import handouts

    (tmp_path / "solutions").mkdir()
    (tmp_path / "assignments" / "alpha").mkdir(parents=True)
    blocks = [handouts.markers(title) for title in (handouts.CHECKING, handouts.ENVIRONMENT)]
    (tmp_path / "assignments" / "alpha" / "handout.md").write_text(
        "# alpha\n\n" + "".join(f"{begin}\n{end}\n" for begin, end in blocks))
    assert cli.main(["stubs", "--check", "--root", str(tmp_path)]) == 1
    assert "assignments/alpha/handout.md is out of date: run `make stubs`" in capsys.readouterr().out


# --- the Makefile ----------------------------------------------------------------------------


def recipes() -> dict[str, list[str]]:
    """Each Makefile target's recipe lines, without the leading tab and `@`."""
    targets: dict[str, list[str]] = {}
    target = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("\t") and target is not None:
            targets[target].append(line.strip().lstrip("@"))
        elif re.match(r"^[\w.$()/-]+:", line) and ":=" not in line:
            target = line.split(":")[0]
            targets[target] = []
    return targets


MAKE_VARIABLES = {"$(ASSIGNMENT)": "tensors", "$(SUBMISSION)": "x.py", "$(OUT)": "r.json", "$(EXPORT)": "e.zip", "$(JOBS)": "0",
                  "$(REGRADE_OUT)": "--out d"}


def test_the_makefile_runs_the_kit_only_through_the_autograder_command():
    kit_commands = {}
    for target, lines in recipes().items():
        for line in lines:
            assert "-m autograder" not in line, f"make {target}: {line}"
            if line.startswith("$(BIN)/python "):   # the environment and the kit's tests, not the kit
                assert line.split()[1:3] in (["-m", "pip"], ["-m", "pytest"]), f"make {target}: {line}"
            if line.startswith("$(BIN)/autograder "):
                kit_commands[target] = line
    assert set(kit_commands) == {"demo", "grade", "check", "stubs", "bench", "autograder", "student-bundle",
                                 "regrade", "bench-regrade"}
    for target, line in kit_commands.items():
        for variable, value in MAKE_VARIABLES.items():
            line = line.replace(variable, value)
        args = cli.build_parser().parse_args(shlex.split(line)[1:])   # exits 2 if the line is wrong
        assert args.command in cli.COMMANDS, f"make {target}: {line}"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_regrade_without_export_says_how_to_call_it():
    # STAMP=Makefile: an existing file, so make does not build the environment first.
    process = subprocess.run(["make", "-s", "regrade", "ASSIGNMENT=nn_module", "STAMP=Makefile"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert process.returncode == 2
    assert process.stderr.startswith("make regrade needs the export: make regrade ASSIGNMENT=nn_module "
                                     "EXPORT=path/to/submissions.zip (Gradescope: Review Grades, Export Submissions)\n")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_regrade_without_export_says_so_before_building_the_environment():
    # PYTHON=false: building the environment would fail with another message and exit 1.
    process = subprocess.run(["make", "-s", "regrade", "STAMP=build/no-such-stamp", "PYTHON=false"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert process.returncode == 2 and process.stderr.startswith("make regrade needs the export:")


def test_demo_ends_with_one_summary_line_per_assignment(monkeypatch, capsys):
    from autograder.instructor import demo

    def outcome(score, possible):
        return {"score": score, "tests": [{"max_score": possible, "score": score, "name": "t", "status": "passed"}]}

    def fake_grades(assignment, out):
        possible = {"tensors": 48.0}.get(assignment.name, 10.0)
        reference = possible - 1 if assignment.name == "nn_module" else possible   # nn_module's "loses" a point
        return {"reference": outcome(reference, possible), "stub": outcome(0.0, possible)}

    monkeypatch.setattr(demo, "grade_reference_and_stub", fake_grades)
    monkeypatch.setattr(demo, "print_table", lambda outcome: None)
    assert demo.run() == 1   # a flagged line is a failure of the kit
    captured = capsys.readouterr()
    assert captured.err.startswith("autograder demo: the kit does not grade as expected:\n  nn_module: the reference "
                                   "solution (")
    lines = captured.out.splitlines()
    summary = lines[lines.index("=== summary (every test, hidden ones included) ===") + 1:]
    assert summary == [
        "tensors              reference 48 / 48   stub 0 / 48",
        "manual_gradients     reference 10 / 10   stub 0 / 10",
        "autograd_function    reference 10 / 10   stub 0 / 10",
        "linear_regression    reference 10 / 10   stub 0 / 10",
        "nn_module            reference 9 / 10 (expected full marks)   stub 0 / 10",
    ]


def test_demo_exits_0_when_every_reference_gets_full_marks_and_every_stub_0(monkeypatch, capsys):
    from autograder.instructor import demo

    def fake_grades(assignment, out):
        return {kind: {"score": score, "tests": [{"max_score": 10.0, "score": score, "name": "t", "status": "passed"}]}
                for kind, score in (("reference", 10.0), ("stub", 0.0))}

    monkeypatch.setattr(demo, "grade_reference_and_stub", fake_grades)
    monkeypatch.setattr(demo, "print_table", lambda outcome: None)
    assert demo.run() == 0 and capsys.readouterr().err == ""
