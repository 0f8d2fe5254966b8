"""WAL positions for routing reads to replicas (sql/queries/replicas.sql), as bytes from 0/0."""

from __future__ import annotations

from service.db import Connection, statements

q = statements("replicas")


async def record_token_write(con: Connection, token_id: int) -> None:
    """Remember, on the primary, that `token_id` wrote up to the WAL position of now."""
    await con.execute(q("record_token_write"), token_id)


async def primary_wal_position(con: Connection) -> int:
    return int(await con.fetchval(q("primary_wal_position")))


async def replay_position(con: Connection) -> int | None:
    """The position a replica has replayed up to; None when the server is not a replica (in
    recovery), e.g. once promoted."""
    row = await con.fetchrow(q("replay_position"))
    if not row["in_recovery"] or row["replayed"] is None:
        return None
    return int(row["replayed"])
