"""A REST collection of the service, described once: `path` lists (and creates), `path/{key}`
gets, replaces and deletes. The endpoint functions of the other modules build their
operations from these, so each path and model is named in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from kpi_client.operation import (
    Body,
    Operation,
    Query,
    answer,
    encode,
    no_content,
    segment,
    validated,
)

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out")

Key = str | int


@dataclass(frozen=True)
class Collection(Generic[Out]):
    """Members that are `item`s, listed as `items` (a list of `item`), each at its key."""

    path: str
    item: type[Out]
    items: type[list[Out]]

    def member(self, key: Key) -> str:
        """The path of one member, its key percent-encoded."""
        return f"{self.path}/{segment(key)}"

    def list_all(self, params: Query = ()) -> Operation[list[Out]]:
        return Operation("GET", self.path, answer(self.items), query=params)

    def get(self, key: Key) -> Operation[Out]:
        return Operation("GET", self.member(key), answer(self.item))

    def put(self, key: Key, idempotency_key: str | None) -> Operation[Out]:
        """Puts a member that has no body (a link)."""
        path = self.member(key)
        return Operation("PUT", path, answer(self.item), idempotency_key=idempotency_key)

    def delete(self, key: Key, idempotency_key: str | None) -> Operation[None]:
        path = self.member(key)
        return Operation("DELETE", path, no_content, idempotency_key=idempotency_key)


@dataclass(frozen=True)
class EditableCollection(Collection[Out], Generic[In, Out]):
    """A collection whose members are created (POST) and replaced (PUT) with `body` models, or
    mappings checked against them before sending."""

    body: type[In]

    def create(self, value: Body[In], idempotency_key: str | None) -> Operation[Out]:
        return self._write("POST", self.path, value, idempotency_key)

    def replace(self, key: Key, value: Body[In], idempotency_key: str | None) -> Operation[Out]:
        return self._write("PUT", self.member(key), value, idempotency_key)

    def _write(
        self, method: str, path: str, value: Body[In], idempotency_key: str | None
    ) -> Operation[Out]:
        body = encode(validated(self.body, value))
        parse = answer(self.item)
        return Operation(method, path, parse, body=body, idempotency_key=idempotency_key)
