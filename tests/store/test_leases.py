"""The evaluating leader's lease (sql/queries/leases.sql): one holder at a time, renewed by
its holder, taken over once expired or given up."""

from __future__ import annotations

from service import db as dbmod
from service.store import leases


async def _expire(con: dbmod.Connection, name: str) -> None:
    await con.execute(
        "update leader_lease set expires_at = clock_timestamp() - interval '1 ms' where name = $1",
        name,
    )


async def test_a_lease_has_one_holder_until_it_expires(con: dbmod.Connection) -> None:
    assert await leases.take_lease(con, "lead", "a", 60)
    assert not await leases.take_lease(con, "lead", "b", 60)
    assert await leases.take_lease(con, "lead", "a", 60)  # renewed by its holder
    assert await leases.take_lease(con, "other", "b", 60)  # another lease is another row
    await _expire(con, "lead")
    assert await leases.take_lease(con, "lead", "b", 60)
    assert not await leases.take_lease(con, "lead", "a", 60)


async def test_a_lease_given_up_is_free_at_once(con: dbmod.Connection) -> None:
    assert await leases.take_lease(con, "lead", "a", 60)
    await leases.release_lease(con, "lead", "b")  # not b's to give up: still a's
    assert not await leases.take_lease(con, "lead", "b", 60)
    await leases.release_lease(con, "lead", "a")
    assert await leases.take_lease(con, "lead", "b", 60)
