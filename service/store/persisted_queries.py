"""Typed wrappers over sql/queries/persisted_queries.sql: GraphQL documents by SHA-256."""

from __future__ import annotations

from service.db import Connection, statements

q = statements("persisted_queries")


async def persisted_query(con: Connection, *, sha256: str) -> str | None:
    found = await con.fetchval(q("persisted_query"), sha256)
    return None if found is None else str(found)


async def persist_query(con: Connection, *, sha256: str, query: str) -> None:
    await con.execute(q("persist_query"), sha256, query)


async def evict_persisted_queries(con: Connection, *, keep: int) -> None:
    await con.execute(q("evict_persisted_queries"), keep)
