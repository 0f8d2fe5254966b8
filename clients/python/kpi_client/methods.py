"""Turns each endpoint's operation builder into a method: a plain one on Client, an awaitable
one on AsyncClient, with the builder's own signature and docstring."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Generic, ParamSpec, Protocol, Self, TypeVar, overload

from kpi_client.operation import Operation

P = ParamSpec("P")
T = TypeVar("T")


class Executes(Protocol):
    def execute(self, operation: Operation[T]) -> T: ...


class ExecutesAsync(Protocol):
    async def execute(self, operation: Operation[T]) -> T: ...


class SyncEndpoint(Generic[P, T]):
    """`Client.<name>(...)`: builds the operation and sends it."""

    def __init__(self, build: Callable[P, Operation[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, client: Executes, owner: type[Any]) -> Callable[P, T]: ...

    def __get__(self, client: Executes | None, owner: type[Any]) -> Self | Callable[P, T]:
        if client is None:
            return self
        build = self.build

        @functools.wraps(build)
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return client.execute(build(*args, **kwargs))

        return method


class AsyncEndpoint(Generic[P, T]):
    """`await AsyncClient.<name>(...)`: builds the operation and sends it."""

    def __init__(self, build: Callable[P, Operation[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, client: ExecutesAsync, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...

    def __get__(
        self, client: ExecutesAsync | None, owner: type[Any]
    ) -> Self | Callable[P, Awaitable[T]]:
        if client is None:
            return self
        build = self.build

        @functools.wraps(build)
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await client.execute(build(*args, **kwargs))

        return method
