"""Postgres constraint violations translated into the service's errors, at the store's edge."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

import asyncpg

from service.errors import Conflict, field_error


@contextlib.asynccontextmanager
async def unique(field: str, value: str) -> AsyncIterator[None]:
    """Turn a unique violation into a 409 naming the field."""
    async with unique_keys({"": (field, value)}):
        yield


@contextlib.asynccontextmanager
async def unique_keys(keys: Mapping[str, tuple[str, str]]) -> AsyncIterator[None]:
    """Turn a unique violation into a 409 naming the field of the violated constraint:
    `keys` maps each constraint's name to its field and the value written to it."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        field, value = keys.get(exc.constraint_name or "", next(iter(keys.values())))
        raise Conflict(
            f"{field} {value!r} already exists", errors=[field_error(field, "already exists")]
        ) from exc


@contextlib.asynccontextmanager
async def still_referenced(what: str) -> AsyncIterator[None]:
    """Turn a foreign key or restrict violation into a 409 saying `what` is still in use."""
    try:
        yield
    except (asyncpg.ForeignKeyViolationError, asyncpg.RestrictViolationError) as exc:
        raise Conflict(f"{what} is still referenced: {exc.detail or exc}") from exc
