"""The README's guide "Adding an assignment", followed to the letter in a copy of the kit.

The guide's fenced blocks carry a title (```python title="solutions/vectors.py"```): each is a
file to write, the entry to append to autograder/course.json, or the commands to run. The slow
test writes exactly those blocks into a copy of the kit, runs exactly those commands with the
copy's engine, and checks the outcome the guide promises: the reference scores full marks, the
stub 0, the zip is built, and no engine file changed (only the new graders folder, the new
entry of course.json and the generated points.json).
"""

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import course
from autograder.course import ROOT

SECTION = "## Adding an assignment"
NAME = "vectors"
COPIED = ("autograder", "requirements", "solutions", "assignments", "constraints.txt", "pyproject.toml")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
# What following the guide may change under autograder/: the data, never the engine.
DATA_FILES = ("course.json", "points.json")
BLOCK = re.compile(r'^```(\w+) title="([^"]+)"\n(.*?)^```$', re.MULTILINE | re.DOTALL)


def guide(readme: str | None = None) -> str:
    """The README's "Adding an assignment" section."""
    text = readme if readme is not None else (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:end if end != -1 else len(text)]


def blocks(section: str) -> dict[str, str]:
    """{title: body} of every titled fenced block of the guide."""
    found = {}
    for _, title, body in BLOCK.findall(section):
        assert title not in found, f"the guide has two blocks titled {title!r}"
        found[title] = body
    return found


def test_the_guide_gives_every_file_the_entry_and_the_commands():
    titles = set(blocks(guide()))
    assert titles == {f"solutions/{NAME}.py", "autograder/course.json", f"autograder/graders/{NAME}/test_public.py",
                      f"autograder/graders/{NAME}/test_hidden.py", f"assignments/{NAME}/handout.md", "check it"}


def test_blocks_are_found_only_with_a_title():
    section = f'{SECTION}\n\n```python title="a.py"\nx = 1\n```\n\n```sh\nls\n```\n'
    assert blocks(section) == {"a.py": "x = 1\n"}


# --- course.json: what the engine reads ------------------------------------------------------


def write_course(tmp_path: Path, *entries) -> Path:
    path = tmp_path / "course.json"
    path.write_text(json.dumps({"assignments": list(entries)}), encoding="utf-8")
    return path


def test_course_json_lists_the_five_assignments_in_course_order():
    assert course.NAMES == ("tensors", "manual_gradients", "autograd_function", "linear_regression", "nn_module")
    assert course.Assignment.get("nn_module").warm_up == ("torch._dynamo",)
    assert course.Assignment.get("tensors").warm_up == ()


@pytest.mark.parametrize("entry, message", [
    ({"name": "v"}, '"api" must list the functions and classes it grades'),
    ({"name": "v", "api": "double"}, '"api" must be a list of names'),
    ({"name": "v-2", "api": ["f"]}, '"name" must be a Python identifier'),
    ({"name": "v", "api": ["f"], "hints": "outcome"}, "unknown field(s) hints"),
    ({"name": "v", "api": ["f"], "warm_up": "torch._dynamo"}, '"warm_up" must be a list of names'),
    ({"name": "v", "api": ["f"], "statement": "x * 2"}, '"statement" must be a list of lines of code'),
    ({"name": "v", "api": ["f"], "statement": [" "]}, '"statement" must be a list of lines of code'),
])
def test_a_wrong_course_entry_is_named_with_its_field(tmp_path, entry, message):
    with pytest.raises(course.CourseDataError, match=re.escape(message)):
        course._read(write_course(tmp_path, {"name": "ok", "api": ["f"]}, entry))


def test_an_assignment_listed_twice_is_refused(tmp_path):
    with pytest.raises(course.CourseDataError, match="listed twice: v"):
        course._read(write_course(tmp_path, {"name": "v", "api": ["f"]}, {"name": "v", "api": ["g"]}))


# --- the guide, followed --------------------------------------------------------------------


def copy_kit(destination: Path) -> Path:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=IGNORED)
        else:
            shutil.copy2(source, destination / name)
    return destination


def follow(section: str, kit: Path) -> list[subprocess.CompletedProcess]:
    """Write the guide's files into `kit`, append its course.json entry, run its commands."""
    found = blocks(section)
    for title, body in found.items():
        if title == "autograder/course.json":
            data = json.loads((kit / title).read_text(encoding="utf-8"))
            data["assignments"].append(json.loads(body))
            (kit / title).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        elif title != "check it":
            (kit / title).parent.mkdir(parents=True, exist_ok=True)
            (kit / title).write_text(body, encoding="utf-8")
    return [run_in(kit, line) for line in found["check it"].splitlines() if line.strip()]


def run_in(kit: Path, line: str) -> subprocess.CompletedProcess:
    """`autograder ...` as the guide writes it, with the copy's engine (first on sys.path: the cwd)."""
    program, *argv = shlex.split(line)
    assert program == "autograder", f"the guide's commands are `autograder` commands: {line!r}"
    process = subprocess.run([sys.executable, "-m", "autograder", *argv], cwd=kit, capture_output=True,
                             text=True, timeout=600)
    assert process.returncode == 0, f"{line}\n{process.stdout}{process.stderr}"
    return process


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def changed_engine_files(original: Path, copy: Path) -> list[str]:
    """Files under autograder/ that differ, leaving out the new graders and the data files."""
    before, after = files(original), files(copy)
    new_graders = f"graders/{NAME}/"
    return sorted(path for path in before.keys() | after.keys()
                  if before.get(path) != after.get(path)
                  and not path.startswith(new_graders) and path not in DATA_FILES)


@pytest.mark.slow
def test_following_the_guide_adds_a_gradable_assignment_and_no_engine_change(tmp_path):
    kit = copy_kit(tmp_path / "kit")
    where = subprocess.run([sys.executable, "-c", "import autograder; print(autograder.__file__)"],
                           cwd=kit, capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).resolve().is_relative_to(kit.resolve())

    follow(guide(), kit)

    reference = json.loads((kit / "reference.json").read_text(encoding="utf-8"))
    stub = json.loads((kit / "stub.json").read_text(encoding="utf-8"))
    total = sum(t["max_score"] for t in reference["tests"])
    assert total > 0 and reference["score"] == total, reference
    assert stub["score"] == 0 and all("not implemented yet" in t["output"] for t in stub["tests"]), stub
    assert {t["visibility"] for t in reference["tests"]} == {"visible", "after_due_date"}
    assert (kit / "assignments" / NAME / f"{NAME}.py").is_file()
    assert "python -m autograder check vectors vectors.py" in (kit / "assignments" / NAME / "handout.md").read_text()
    assert (kit / "dist" / f"{NAME}-autograder.zip").is_file()

    assert changed_engine_files(ROOT / "autograder", kit / "autograder") == []
    courses = [json.loads((root / "autograder" / "course.json").read_text()) for root in (ROOT, kit)]
    assert courses[1]["assignments"][:-1] == courses[0]["assignments"]
    assert courses[1]["assignments"][-1]["name"] == NAME
    points = [json.loads((root / "autograder" / "points.json").read_text()) for root in (ROOT, kit)]
    assert points[1] == {**points[0], NAME: {"public": 2.0, "hidden": 1.0}}
    for folder in ("solutions", "assignments"):   # nor anything of the five assignments
        theirs = {path: data for path, data in files(kit / folder).items() if not path.startswith(NAME)}
        assert theirs == files(ROOT / folder), folder


def test_an_engine_change_is_found_and_the_new_graders_and_data_are_not(tmp_path):
    copy = tmp_path / "autograder"
    shutil.copytree(ROOT / "autograder", copy, ignore=IGNORED)
    (copy / "graders" / NAME).mkdir()
    (copy / "graders" / NAME / "test_public.py").write_text("")
    (copy / "points.json").write_text("{}")
    with (copy / "session" / "checks.py").open("a") as file:
        file.write("\n# changed\n")
    assert changed_engine_files(ROOT / "autograder", copy) == ["session/checks.py"]
