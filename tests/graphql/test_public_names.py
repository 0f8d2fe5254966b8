"""service/graphql/ uses strawberry and graphql-core through their public names only: no
import of a module or a name starting with an underscore from them, and no attribute starting
with one that the service does not define itself (a library's private attribute, read on an
object of theirs)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import service

PACKAGES = ("strawberry", "graphql")
GRAPHQL = Path(service.__file__).parent / "graphql"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _trees() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(GRAPHQL.rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def _own_names(trees: list[tuple[Path, ast.Module]]) -> set[str]:
    """Private names the service's own GraphQL code defines: functions, classes, attributes
    it assigns and fields it declares."""
    own: set[str] = set()
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                own.add(node.attr)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                own.add(node.target.id)
    return {n for n in own if _private(n)}


def _uses(path: Path, tree: ast.Module, own: set[str]) -> Iterator[str]:
    for node in ast.walk(tree):
        where = f"{path.relative_to(GRAPHQL.parent.parent)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] not in PACKAGES:
                continue
            if any(_private(part) for part in node.module.split(".")):
                yield f"{where}: from {node.module} import ..."
            for alias in node.names:
                if _private(alias.name):
                    yield f"{where}: from {node.module} import {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in PACKAGES and any(_private(p) for p in parts):
                    yield f"{where}: import {alias.name}"
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if _private(node.attr) and node.attr not in own:
                yield f"{where}: .{node.attr}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            yield f"{where}: {node.func.id}(..., {node.args[1].value!r})"
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.isidentifier()
            and node.value.startswith("_")
            and not node.value.startswith("__")  # introspection's __Type ... are public
            and node.value not in own
        ):
            yield f"{where}: the name {node.value!r}"


def test_graphql_code_uses_no_private_name_of_strawberry_or_graphql_core() -> None:
    trees = list(_trees())
    own = _own_names(trees)
    found = [use for path, tree in trees for use in _uses(path, tree, own)]
    assert not found, "private names of strawberry or graphql-core:\n" + "\n".join(found)


def test_the_check_finds_what_the_execution_override_used() -> None:
    sample = ast.parse(
        "from graphql.execution.collect_fields import FieldDetailsList\n"
        "from strawberry.schema._x import y\n"
        "m = self.middleware_manager._middleware_resolvers\n"
        "t = type(value)._pydantic_type\n"
        "ok = getattr(resolve, '__name__', '') == '_get_basic_result'\n"
    )
    found = list(_uses(GRAPHQL / "sample.py", sample, set()))
    assert len(found) == 4, found
