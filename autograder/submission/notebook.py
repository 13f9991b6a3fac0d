"""Read a student's Jupyter notebook: its code cells, numbered as the student sees them.

Cells are read with nbformat (any version it knows, converted to v4), leniently: Colab and
Jupyter save metadata that nbformat's validator dislikes, and that never matters here. Nothing
in the notebook is executed. `autograder.submission.source` turns the cells into the Python that is graded.
"""

from __future__ import annotations

import json
import warnings

import nbformat


class NotebookError(Exception):
    """The notebook cannot be read; the message says why, for the student."""


def code_cells(text: str, name: str) -> list[tuple[int, str]]:
    """(cell number, source) of every code cell of the notebook JSON `text`; cells are numbered
    from 1 among ALL cells, markdown included, as a student counts them. NotebookError when the
    cells cannot be read."""
    def invalid(reason: str) -> NotebookError:
        return NotebookError(f"{name} is not a valid Jupyter notebook: {reason}")

    data = _parse_json(text, invalid)
    version = data.get("nbformat")
    if type(version) is not int or version not in nbformat.versions:
        raise invalid(f"unsupported notebook format version {version!r}")
    if version == 4:
        _check_v4_cells(data, invalid)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # nbformat.reads() minus its validate() step, which only logs what it finds: unknown
            # metadata and missing cell ids are common in notebooks Colab and Jupyter save.
            node = nbformat.versions[version].to_notebook_json(data, minor=data.get("nbformat_minor", 0))
            notebook = nbformat.convert(node, 4)
    except Exception as error:  # nbformat raises many types for a malformed notebook
        raise invalid(str(error) or type(error).__name__) from None
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise invalid('it has no list of "cells"')
    code_cells = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise invalid(f"cell {number} is not a JSON object")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if not isinstance(source, str):
            raise invalid(f"the source of cell {number} is not text")
        code_cells.append((number, source))
    return code_cells


def _parse_json(text: str, invalid) -> dict:
    if not text.strip():
        raise invalid("the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise invalid(f"it is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    except (ValueError, RecursionError):
        raise invalid("it is not valid JSON") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise invalid('it is JSON, but not a notebook (no "nbformat" version and "cells")')
    return data


def _check_v4_cells(data: dict, invalid) -> None:
    """Check that the cells can be read; fill in the `metadata` that nbformat insists on."""
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise invalid('it has no list of "cells"')
    if not isinstance(data.get("metadata", {}), dict):
        raise invalid('its "metadata" is not a JSON object')
    data.setdefault("metadata", {})
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise invalid(f"cell {number} is not a JSON object")
        source = cell.get("source", "")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            raise invalid(f"the source of cell {number} is not text")
        if not isinstance(cell.get("metadata", {}), dict):
            raise invalid(f'the "metadata" of cell {number} is not a JSON object')
        cell.setdefault("metadata", {})
