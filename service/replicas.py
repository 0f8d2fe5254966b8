"""Read replicas (KPI_DATABASE_READ_URL): a pool per replica, a check every
KPI_REPLICA_CHECK_SECONDS of each replica's replay position against the primary's, and the
Database a replica-eligible read gets (service/read_routing.py says which).

Each server process checks on its own. A replica that fails to answer a check, or a
connection to it that cannot be had when a read asks, counts as down until a check finds it
back; its reads go to the primary meanwhile, and a REST read the replica fails under is read
again from the primary (read_with_fallback). After a token's write commits, the primary's WAL
position is recorded against the token on the primary (one statement), and the statement
that looks the token up on its next request reads it back: so read-your-writes holds across
requests and processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import asyncpg
from starlette.datastructures import State

from service import db as dbmod
from service import db_url
from service.config import Settings
from service.db import Connection, Database, DatabaseUnavailable, PoolDatabase
from service.models.tokens import Principal
from service.read_routing import (
    PRIMARY,
    ReplicaReading,
    reading,
    replica_for_read,
    replica_name,
    usable,
)
from service.store import replicas as store

log = logging.getLogger(__name__)
T = TypeVar("T")


class ReplicaSet:
    """The primary, the replicas and what was last measured of them, with the reads served
    by each database (connections lent to replica-eligible reads) since the process started."""

    def __init__(self, primary: Database, replicas: list[PoolDatabase], settings: Settings) -> None:
        self.primary = primary
        self.replicas = replicas
        self.max_lag_bytes = settings.replica_max_lag_bytes
        self.check_seconds = settings.replica_check_seconds
        self.readings = [ReplicaReading(replica_name(i)) for i in range(len(replicas))]
        self.primary_reachable = False
        self.primary_position: int | None = None
        self.reads: dict[str, int] = dict.fromkeys([PRIMARY, *(r.name for r in self.readings)], 0)
        self._turns = itertools.count()

    @property
    def check_timeout(self) -> float:
        """How long one check waits for a database's answer before counting it down."""
        return max(2.0, self.check_seconds)

    # Measuring ---------------------------------------------------------------------------------

    async def check(self) -> None:
        """Measure every replica, then the primary (so a lag is never understated)."""
        replayed = await asyncio.gather(*(self._replayed(r) for r in self.replicas))
        try:
            async with asyncio.timeout(self.check_timeout), self.primary.acquire() as con:
                position: int | None = await store.primary_wal_position(con)
            self.primary_reachable = True
        except Exception as exc:
            if self.primary_reachable:
                log.warning("primary not measured", extra={"error": repr(exc)})
            self.primary_reachable = False
            position = None
        self.primary_position = position
        for index, (answered, found) in enumerate(replayed):
            name = replica_name(index)
            new = reading(name, found, position) if answered else ReplicaReading(name)
            self._note_change(self.readings[index], new)
            self.readings[index] = new

    async def _replayed(self, replica: PoolDatabase) -> tuple[bool, int | None]:
        """Whether the replica answered, and the position it replayed (None: not a replica)."""
        try:
            async with asyncio.timeout(self.check_timeout), replica.acquire() as con:
                return True, await store.replay_position(con)
        except Exception:
            return False, None

    def _note_change(self, old: ReplicaReading, new: ReplicaReading) -> None:
        was, now = usable(old, self.max_lag_bytes), usable(new, self.max_lag_bytes)
        if was == now:
            return
        extra = {"replica": new.name, "reachable": new.reachable, "lag_bytes": new.lag_bytes}
        if now:
            log.info("replica used for reads", extra=extra)
        else:
            log.warning("replica not used for reads", extra=extra)

    def mark_down(self, index: int) -> None:
        """A read could not get a connection to the replica: down until a check finds it."""
        old = self.readings[index]
        new = ReplicaReading(old.name)
        self._note_change(old, new)
        self.readings[index] = new

    async def run(self, stop: asyncio.Event) -> None:
        """Check every KPI_REPLICA_CHECK_SECONDS until `stop` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.check_seconds):
                    await stop.wait()
            if not stop.is_set():
                await self.check()

    # Routing -----------------------------------------------------------------------------------

    def reads_for(self, principal: Principal) -> Database:
        """The Database one replica-eligible request of `principal` reads through."""
        index = replica_for_read(
            self.readings, self.max_lag_bytes, principal.written_lsn, next(self._turns)
        )
        return ReadDatabase(self, index)

    async def record_write(self, principal: Principal) -> None:
        """After `principal`'s write committed: its reads wait for a replica that replayed it."""
        async with self.primary.acquire() as con:
            await store.record_token_write(con, principal.token_id)


class ReadDatabase:
    """A read's door: the chosen replica (None: the primary), or the primary when a
    connection to the replica cannot be had."""

    def __init__(self, replicas: ReplicaSet, index: int | None) -> None:
        self.set = replicas
        self.index = index
        #: The replica whose connection was lent last, if one was.
        self.lent: int | None = None

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        async with contextlib.AsyncExitStack() as stack:
            con = await self._replica_connection(stack)
            if con is None:
                con = await stack.enter_async_context(self.set.primary.acquire())
                self.set.reads[PRIMARY] += 1
            yield con

    async def _replica_connection(self, stack: contextlib.AsyncExitStack) -> Connection | None:
        if self.index is None:
            return None
        name = replica_name(self.index)
        try:
            con = await stack.enter_async_context(self.set.replicas[self.index].acquire())
        except DatabaseUnavailable as exc:
            log.warning("replica unreachable: reading from the primary",
                        extra={"replica": name, "error": str(exc)})  # fmt: skip
            self.set.mark_down(self.index)
            self.index = None
            return None
        self.set.reads[name] += 1
        self.lent = self.index
        return con


#: What a read on a replica may meet that the primary would not: the replica going away
#: mid-statement (stopped, restarted, crashed) or a statement cancelled for a conflict with
#: the replay of the primary's changes (SQLSTATE 40001 on a standby).
_REPLICA_LOST: tuple[type[BaseException], ...] = (
    DatabaseUnavailable,
    OSError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
)
_REPLAY_CONFLICT = asyncpg.exceptions.SerializationError


async def read_with_fallback(db: Database, read: Callable[[Database], Awaitable[T]]) -> T:
    """`read(db)`; when `db` lent a replica's connection and the replica failed under the read
    (gone, or the statement cancelled by replay), the same read once more on the primary, so a
    replica stopping under load costs no request. Reads only: running twice is harmless."""
    try:
        return await read(db)
    except (*_REPLICA_LOST, _REPLAY_CONFLICT) as exc:
        if not isinstance(db, ReadDatabase) or db.lent is None:
            raise
        replica = db.lent
        log.warning("read failed on a replica: read again from the primary",
                    extra={"replica": replica_name(replica), "error": repr(exc)})  # fmt: skip
        if not isinstance(exc, _REPLAY_CONFLICT):
            db.set.mark_down(replica)
        return await read(ReadDatabase(db.set, None))


def replica_set(state: State) -> ReplicaSet | None:
    """The app's read replicas (app.state.replicas), if it has any."""
    found: ReplicaSet | None = getattr(state, "replicas", None)
    return found


async def open_replicas(primary: Database, settings: Settings) -> ReplicaSet | None:
    """A pool per KPI_DATABASE_READ_URL (connecting only when first used, so a replica that is
    down does not keep the service from starting) and a first check; None without any."""
    urls = settings.database_read_urls()
    if not urls:
        return None
    pools = []
    try:
        for url in urls:
            pool = await dbmod.create_pool(
                url, settings.db_schema, 0, settings.pool_max_size, settings=settings,
                hosts_wanted=db_url.STANDBY,
            )  # fmt: skip
            pools.append(PoolDatabase(pool, settings.db_acquire_timeout_seconds))
    except BaseException:
        await asyncio.gather(*(p.pool.close() for p in pools))
        raise
    replicas = ReplicaSet(primary, pools, settings)
    await replicas.check()
    return replicas


async def close_replicas(replicas: ReplicaSet) -> None:
    await asyncio.gather(*(r.pool.close() for r in replicas.replicas))
