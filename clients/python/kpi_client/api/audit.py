"""The audit trail of catalog changes (admin tokens only)."""

from __future__ import annotations

import datetime as dt
from typing import Unpack

from kpi_client.api.collection import Collection
from kpi_client.models import AuditEntry
from kpi_client.operation import Operation, Page, query

AUDIT = Collection("/v1/audit", AuditEntry, list[AuditEntry])


class AuditFilters(Page, total=False):
    """Which entries: an entity's kind and key, an actor's name or token id, the window
    [from_, to)."""

    kind: str | None
    key: str | None
    actor: str | None
    token_id: int | None
    from_: dt.datetime | None
    to: dt.datetime | None


def list_audit_entries(**filters: Unpack[AuditFilters]) -> Operation[list[AuditEntry]]:
    """Catalog changes, newest first, with who made them, how, and before and after;
    `before` (an id) pages."""
    return AUDIT.list_all(query(**filters))
