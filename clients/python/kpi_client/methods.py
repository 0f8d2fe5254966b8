"""Turns an endpoint's operation builder (see api/) into a method of both clients: a plain one
on Client, an awaitable one on AsyncClient, with the builder's own signature and docstring."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, ParamSpec, Protocol, Self, TypeVar, cast, overload

from kpi_client.operation import Operation

P = ParamSpec("P")
T = TypeVar("T")


class Executes(Protocol):
    def execute(self, operation: Operation[T], /) -> T: ...


class ExecutesAsync(Protocol):
    def execute(self, operation: Operation[T], /) -> Coroutine[Any, Any, T]: ...


class Endpoint(Generic[P, T]):
    """`Client.<name>(...)` or `await AsyncClient.<name>(...)`: builds the operation and sends
    it with the client's `execute`."""

    def __init__(self, build: Callable[P, Operation[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, client: Executes, owner: type[Any]) -> Callable[P, T]: ...

    @overload
    def __get__(self, client: ExecutesAsync, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...

    def __get__(
        self, client: Executes | ExecutesAsync | None, owner: type[Any]
    ) -> Self | Callable[P, T] | Callable[P, Awaitable[T]]:
        if client is None:
            return self
        if inspect.iscoroutinefunction(client.execute):
            return self._awaitable(cast(ExecutesAsync, client))
        return self._plain(cast(Executes, client))

    def _plain(self, client: Executes) -> Callable[P, T]:
        build = self.build

        @functools.wraps(build)
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return client.execute(build(*args, **kwargs))

        return method

    def _awaitable(self, client: ExecutesAsync) -> Callable[P, Awaitable[T]]:
        build = self.build

        @functools.wraps(build)
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await client.execute(build(*args, **kwargs))

        return method
