"""What a graded function's source reaches: its helpers, transitively, and the modules it uses.

    reached = Reach(program, "matmul_shape")
    reached.definitions     # [(helper name or "", ast node)]: the function, then what it uses
    reached.modules()       # {"torch": Use(line=5, name="T", helper="_dims")} : non-aliased names

Source checks ("no loops", "pure Python") must look at more than the function's own body: a loop
moved into a helper, `import torch as T`, `from torch import tensor as t`, `mm = torch.matmul`,
`__import__("torch")` or `importlib.import_module("torch")` all count. Names are resolved
with what `autograder.submission.program` already knows about each top-level statement (the module-level
names it sets and uses, from `symtable`): a name used by the function leads to the statements
that set it, and from those, transitively, to every statement they use. A name set by several
statements leads to all of them (a later notebook cell may replace an earlier one). This reads
the source only; nothing runs.
"""

from __future__ import annotations

import ast
import builtins
import sys
from collections import defaultdict
from dataclasses import dataclass

from autograder.submission.program import DEFINITIONS, Program, Statement

_IMPORTERS = {"__import__", "import_module"}   # builtins.__import__, importlib.import_module
STANDARD_LIBRARY = frozenset(sys.stdlib_module_names) | {"__future__"}


@dataclass(frozen=True)
class Use:
    """Where a reached definition uses a module: its line, the name it goes by, and the helper."""

    line: int
    name: str
    helper: str = ""   # "" when it is the graded function itself

    def describe(self, where) -> str:
        how = f"`{self.name}`" + (f" in its helper `{self.helper}`" if self.helper else "")
        return f"{how} ({where(self.line)})"


class Reach:
    def __init__(self, program: Program, function: str) -> None:
        self.program = program
        self.body = program.body
        self.setters: dict[str, list[Statement]] = defaultdict(list)
        for statement in program.statements:
            if not statement.ipython and statement.index < len(self.body):
                for name in statement.binds:
                    self.setters[name].append(statement)
        self.function = function
        self.statements = self._closure([function])
        self._origins: dict[str, frozenset[str]] = {}

    # ---------------------------------------------------------------- what is reached

    def _closure(self, names: list[str]) -> list[Statement]:
        """The statements that set `names`, then everything those use, in the order met."""
        order, seen, queue = [], set(), list(names)
        while queue:
            name = queue.pop(0)
            for statement in self._setters_of(name):
                if statement.index not in seen:
                    seen.add(statement.index)
                    order.append(statement)
                    queue.extend(statement.uses)
        return order

    def _setters_of(self, name: str) -> list[Statement]:
        if name in self.setters:
            return self.setters[name]
        if name in vars(builtins):
            return []
        return self.setters.get("*", [])   # a star import may be where it comes from

    @property
    def definitions(self) -> list[tuple[str, ast.AST, Statement]]:
        """The graded function and every function or class it reaches: (name, node, statement),
        the name "" for the graded function itself; lambdas in reached statements count too."""
        found = []
        for statement in self.statements:
            node = self.body[statement.index]
            if isinstance(node, DEFINITIONS):
                found.append((node.name, node, statement))
            else:   # lambdas, and definitions inside `if`/`try` blocks
                found += [(getattr(inner, "name", _first(statement.binds)), inner, statement)
                          for inner in ast.walk(node) if isinstance(inner, DEFINITIONS + (ast.Lambda,))]
        return [("" if name == self.function else name, node, statement) for name, node, statement in found]

    # ---------------------------------------------------------------- modules

    def origins(self, name: str) -> frozenset[str]:
        """The top-level modules a module-level name's value may come from: its imports and what
        the statements that set it use (a function or class counts as itself: it is scanned as a
        definition, so a use inside it is reported where it is)."""
        if name not in self._origins:
            modules, seen, queue = set(), set(), [name]
            while queue:   # a worklist, not recursion: a chain `a2 = a1; a3 = a2; ...` may be long
                for statement in self._setters_of(queue.pop()):
                    if statement.kind != "definition" and statement.index not in seen:
                        seen.add(statement.index)
                        modules |= _imported(self.body[statement.index])
                        queue.extend(statement.uses)
            self._origins[name] = frozenset(modules)
        return self._origins[name]

    def modules(self) -> dict[str, Use]:
        """Each top-level module the function reaches, with its first use in a reached definition
        (or the statement that imports it, when no definition names it), in line order."""
        found: dict[str, Use] = {}
        for helper, node, statement in self.definitions:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name) and inner.id in statement.uses:
                    for module in self.origins(inner.id):
                        found.setdefault(module, Use(inner.lineno, inner.id, helper))
                elif isinstance(inner, (ast.Import, ast.ImportFrom, ast.Call)):
                    for module in _imported(inner, nested=False):
                        found.setdefault(module, Use(inner.lineno, ast.unparse(inner)[:60], helper))
        for statement in self.statements:
            for module in _imported(self.body[statement.index]):
                found.setdefault(module, Use(statement.line, statement.text))
        return dict(sorted(found.items(), key=lambda item: item[1].line))

    def outside_standard_library(self) -> dict[str, Use]:
        return {m: use for m, use in self.modules().items() if m not in STANDARD_LIBRARY}


def _first(names) -> str:
    return names[0] if names else ""


def _imported(node: ast.AST, nested: bool = True) -> set[str]:
    """Top-level modules an import statement, or a dynamic import inside `node`, brings in."""
    modules = set()
    for inner in ast.walk(node) if nested else (node,):
        if isinstance(inner, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in inner.names}
        elif isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
            modules.add(inner.module.split(".")[0])
        elif isinstance(inner, ast.Call) and _dynamic_import(inner):
            modules.add(inner.args[0].value.split(".")[0])
    return modules


def _dynamic_import(call: ast.Call) -> bool:
    """`__import__("torch")`, `importlib.import_module("torch")`, `import_module("torch")`."""
    function = call.func
    name = function.id if isinstance(function, ast.Name) else function.attr if isinstance(function, ast.Attribute) else ""
    return (name in _IMPORTERS and bool(call.args) and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str) and bool(call.args[0].value))
