"""Typed wrappers over sql/queries/audit.sql: the audit trail, appended to and read back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from service.db import Connection, fetch_models, statements
from service.models.audit import Actor, ApplyFile, AuditAction, AuditEntry, AuditVia

q = statements("audit")


@dataclass(frozen=True)
class AuditFilter:
    """Which entries a read wants; None matches any."""

    kind: str | None = None
    key: str | None = None
    actor: str | None = None
    token_id: int | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


async def insert_audit_entry(
    con: Connection, *, actor: Actor, via: AuditVia, kind: str, key: str, action: AuditAction,
    before: Any, after: Any, file: ApplyFile | None,
) -> int:  # fmt: skip
    """Append one entry; `before` and `after` are JSON values (None for a missing side)."""
    entry_id: int = await con.fetchval(
        q("insert_audit_entry"), actor.token_id, actor.name, via.value, kind, key,
        action.value, before, after, file.name if file else None, file.sha256 if file else None,
    )  # fmt: skip
    return entry_id


async def list_audit_entries(
    con: Connection, *, where: AuditFilter, before_id: int | None, limit: int
) -> list[AuditEntry]:
    """Entries newest first, those below `before_id` when given (the page's cursor)."""
    return await fetch_models(
        con, AuditEntry, q("list_audit_entries"), where.kind, where.key, where.actor,
        where.token_id, where.start, where.end, limit, before_id,
    )  # fmt: skip
