"""Typed wrappers over sql/queries/locks.sql: advisory locks held until commit."""

from __future__ import annotations

from service.db import Connection, sql


async def lock_name(con: Connection, name: str) -> None:
    """Serialise, until commit, the writers that check and then write the same thing."""
    await con.execute(sql("locks", "lock_name"), name)
