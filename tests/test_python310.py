"""Gradescope's Ubuntu 22.04 image has Python 3.10: every file of the kit must parse there."""

import ast

import pytest

from kit import ROOT

# tests/corpus holds students' files, some broken on purpose: they are data, not the kit.
FILES = sorted(p for folder in ("autograder", "solutions", "assignments", "tests") for p in (ROOT / folder).rglob("*.py")
               if "corpus" not in p.relative_to(ROOT).parts)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_parses_as_python_310(path):
    ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 10))
