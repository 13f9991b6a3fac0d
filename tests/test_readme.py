"""The README names only files that exist.

Every inline `code` span outside fenced blocks whose first segment is a top-level entry of the
repository (`autograder/...`, `tests/...`, `Makefile`) is a repository path and must exist, and so
is a hyphenated lowercase name, as a cited document is written (`course-spec`). A
placeholder (`<name>`, `<assignment>`) stands for an assignment: the path must exist for at
least one of them (`hints.json` is optional per assignment). The guide's worked example,
`vectors`, names files an instructor writes: those are checked by tests/test_new_assignment.py.
"""

import re
from pathlib import Path

from autograder.course import NAMES, ROOT

TOP_LEVEL = ("autograder", "tests", "solutions", "requirements", "assignments", ".github", "Makefile",
             "constraints.txt", "pyproject.toml", "README.md")
PLACEHOLDER = re.compile(r"<(name|assignment)>")
EXAMPLE = "vectors"   # the assignment the guide "Adding an assignment" creates
FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\s]+)`")
DOCUMENT = re.compile(r"[a-z]+(-[a-z]+)+/?")


def named_paths(readme: str) -> list[str]:
    """The repository paths a README names in inline code, in order, each once."""
    spans = INLINE.findall(FENCED.sub("", readme))
    paths = [s for s in spans if s.rstrip("/").split("/")[0] in TOP_LEVEL or DOCUMENT.fullmatch(s)]
    return list(dict.fromkeys(p for p in paths if EXAMPLE not in re.split(r"[/.]", p)))


def exists(path: str, root: Path = ROOT) -> bool:
    """Whether `path` exists in `root`; with a placeholder, for at least one assignment."""
    candidates = {PLACEHOLDER.sub(name, path) for name in NAMES} if PLACEHOLDER.search(path) else {path}
    return any((root / candidate).exists() for candidate in candidates)


def test_the_extraction_finds_paths_and_leaves_out_code_and_absolute_paths():
    readme = ("See `autograder/course.py`, `tests/`, `Makefile` and `solutions/<name>.py`; not `x.add_(y)`, "
              "`/autograder/results`, `assignments/vectors/vectors.py`, but `course-spec`.\n```\n`autograder/in_a_block.py`\n```\n")
    assert named_paths(readme) == ["autograder/course.py", "tests/", "Makefile", "solutions/<name>.py",
                                    "course-spec"]


def test_a_missing_path_is_found(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / f"{NAMES[0]}.py").write_text("")
    assert exists("solutions/<name>.py", tmp_path)
    assert not exists("course-spec/", tmp_path) and not exists("autograder/graders/<name>/x.json", tmp_path)


def test_every_path_the_readme_names_exists():
    paths = named_paths((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(paths) > 30, paths   # the extraction works on the real README
    missing = [p for p in paths if not exists(p)]
    assert not missing, f"README.md names paths that are not in the repository: {missing}"
