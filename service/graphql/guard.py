"""One GraphQL request's door to the database: at most a few connections at once, and every
task that holds or waits for one known, so that a deadline can cancel them all and hand
their connections back before the request is answered."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from service.db import Connection, Database


class WorkCancelled(RuntimeError):
    """The request's deadline has passed: no more connections are lent to it."""


class RequestDatabase:
    """A Database for one request. Resolvers and DataLoaders acquire through it: at most
    `limit` of them hold a connection at once, the others wait their turn (the deadline
    bounds the wait). `cancel()` cancels every task still holding or awaiting a connection
    (asyncpg then cancels a running statement on the server) and waits until each has
    given its connection back."""

    def __init__(self, db: Database, limit: int) -> None:
        self.db = db
        #: Where a query's reads go when not to `db` (a read replica); writes (the rate
        #: limit a costly query takes from) go through `primary`.
        self.reads: Database | None = None
        self.limit = limit
        self.slots = asyncio.Semaphore(limit)
        #: tasks inside acquire(), with how many acquires each has open
        self.tasks: dict[asyncio.Task[object], int] = {}
        self.held = 0
        #: the most connections the request held at once
        self.most_held = 0
        self.cancelled = False

    def acquire(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        return self.acquire_from(self.reads if self.reads is not None else self.db)

    @property
    def primary(self) -> Database:
        """The request's door to `db` (the primary) even when its reads go elsewhere."""
        return PrimaryDoor(self)

    @contextlib.asynccontextmanager
    async def acquire_from(self, db: Database) -> AsyncIterator[Connection]:
        if self.cancelled:
            raise WorkCancelled("the request's deadline has passed")
        task = asyncio.current_task()
        assert task is not None
        self.tasks[task] = self.tasks.get(task, 0) + 1
        try:
            async with self.slots, db.acquire() as con:
                self.held += 1
                self.most_held = max(self.most_held, self.held)
                try:
                    yield con
                finally:
                    self.held -= 1
        finally:
            left = self.tasks.pop(task) - 1
            if left:
                self.tasks[task] = left

    async def cancel(self) -> None:
        """Cancel the request's database work and wait until its connections are back."""
        self.cancelled = True
        current = asyncio.current_task()
        pending = [t for t in self.tasks if t is not current and not t.done()]
        for task in pending:
            # Once only: a task already cancelled (by the gather that ran it) may be handing
            # its connection back, which the pool shields; a second cancellation would end
            # the task before the connection is back.
            if not task.cancelling():
                task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


class PrimaryDoor:
    """A RequestDatabase's connections to its primary, counted and cancelled like the rest."""

    def __init__(self, work: RequestDatabase) -> None:
        self.work = work

    def acquire(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        return self.work.acquire_from(self.work.db)
