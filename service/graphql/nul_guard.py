"""Refuses a GraphQL request holding the NUL character (U+0000) in any string, literal or
variable, before it runs: Postgres text cannot hold it, and the request should fail naming the
argument, not when a statement sends it to the database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    GraphQLError,
    ObjectFieldNode,
    StringValueNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

NUL = "\x00"


class _Finder(Visitor):
    """The first argument (or input field) whose literal string holds a NUL."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.found: str | None = None

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.names.append(node.name.value)

    def leave_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.names.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self.names.append(node.name.value)

    def leave_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self.names.pop()

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if self.found is None and NUL in node.value:
            self.found = ".".join(self.names) or "a string"


def _in_value(value: Any, path: str) -> str | None:
    """The path of the first string holding a NUL inside a variable's value."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _in_value(item, f"{path}.{key}")
        if found is not None:
            return found
    return None


def _refused(where: str) -> GraphQLError:
    return GraphQLError(
        f"{where}: must not contain the NUL character (U+0000)",
        extensions={"code": "BAD_USER_INPUT", "field": where},
    )


class RefuseNulCharacters(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is not None:
            finder = _Finder()
            visit(ctx.graphql_document, finder)
            if finder.found is not None:
                raise _refused(finder.found)
        for name, value in (ctx.variables or {}).items():
            found = _in_value(value, f"${name}")
            if found is not None:
                raise _refused(found)
        yield
