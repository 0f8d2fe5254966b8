"""The audit trail: every change to the catalog recorded with who made it, how, and the
entity before and after, in the transaction of the change (so a change rolled back leaves
no entry), and read back by admins.

Who is acting is set once where a request or command comes in (`acting`: the REST handler,
the GraphQL mutation, the `kpi` command) and read where the change is made (`current`), so
the use cases writing the catalog need no extra argument. A change made with no one set as
acting is the service's own (`system`: demo data, the starter catalog).

`before` and `after` are the entity's public representation, as the API reads it; an update
after which the entity reads the same as before records nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from service.db import Connection
from service.models.audit import Actor, ApplyFile, AuditAction, AuditEntry, AuditVia
from service.store import audit as store
from service.store.audit import AuditFilter

#: The actor of what the service writes by itself.
SYSTEM = Actor(name="system")


@dataclass(frozen=True)
class Acting:
    """Who is making changes now, how, and for `kpi apply` the file."""

    actor: Actor
    via: AuditVia
    file: ApplyFile | None = None


_BY_ITSELF = Acting(SYSTEM, AuditVia.SYSTEM)
_ACTING: ContextVar[Acting | None] = ContextVar("audit_acting", default=None)


@contextlib.contextmanager
def acting(actor: Actor, via: AuditVia, file: ApplyFile | None = None) -> Iterator[Acting]:
    """Changes made inside the block are recorded as made by `actor`, through `via`."""
    now = Acting(actor, via, file)
    token = _ACTING.set(now)
    try:
        yield now
    finally:
        _ACTING.reset(token)


def current() -> Acting:
    """Who is acting now (the service itself when no one was set)."""
    return _ACTING.get() or _BY_ITSELF


def atomic(con: Connection) -> contextlib.AbstractAsyncContextManager[Any]:
    """Where a change and its entry are written together: the caller's transaction when one
    is open (they commit or roll back with it), else a transaction of their own. No savepoint:
    a failed statement fails the caller's transaction anyway."""
    if con.is_in_transaction():
        return contextlib.nullcontext()
    return con.transaction()  # type: ignore[no-any-return]


def public(value: Any) -> Any:
    """An entity as JSON: a model as the API shows it, a mapping or list as it is."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def action_of(before: Any, after: Any) -> AuditAction:
    """create when nothing was there before, delete when nothing is there after."""
    if before is None:
        return AuditAction.CREATE
    return AuditAction.DELETE if after is None else AuditAction.UPDATE


async def record_change(
    con: Connection, actor: Actor, via: AuditVia, kind: str, key: str, action: AuditAction,
    before: Any, after: Any, *, file: ApplyFile | None = None,
) -> bool:  # fmt: skip
    """Record one change of the entity `kind` `key` on `con`, in its transaction: `before` and
    `after` are its public representation (a model or JSON value; None on the side that does
    not exist). Whether an entry was written: an update leaving the entity as it was writes
    none."""
    old, new = public(before), public(after)
    if action is AuditAction.UPDATE and old == new:
        return False
    await store.insert_audit_entry(
        con, actor=actor, via=via, kind=kind, key=key, action=action, before=old, after=new,
        file=file,
    )  # fmt: skip
    return True


async def record(con: Connection, kind: str, key: str, before: Any, after: Any) -> bool:
    """`record_change` by whoever is acting now, the action read from the sides given."""
    now = current()
    return await record_change(
        con, now.actor, now.via, kind, key, action_of(before, after), before, after,
        file=now.file,
    )  # fmt: skip


async def list_entries(
    con: Connection, *, kind: str | None = None, key: str | None = None,
    actor: str | None = None, token_id: int | None = None, start: dt.datetime | None = None,
    end: dt.datetime | None = None, before_id: int | None = None, limit: int = 100,
) -> list[AuditEntry]:  # fmt: skip
    """Entries newest first, filtered by entity, actor and time; `before_id` pages."""
    where = AuditFilter(kind=kind, key=key, actor=actor, token_id=token_id, start=start, end=end)
    return await store.list_audit_entries(con, where=where, before_id=before_id, limit=limit)
