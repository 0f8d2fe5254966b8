"""The background leader's lease (sql/queries/leases.sql): a row with a holder and an expiry,
taken over once expired, so leading needs no session-level lock."""

from __future__ import annotations

from service.db import Connection, statements

q = statements("leases")


async def take_lease(con: Connection, name: str, holder: str, seconds: float) -> bool:
    """Take or renew lease `name` for `seconds`; whether `holder` holds it now."""
    return bool(await con.fetchval(q("take_lease"), name, holder, seconds) == holder)


async def release_lease(con: Connection, name: str, holder: str) -> None:
    await con.execute(q("release_lease"), name, holder)
