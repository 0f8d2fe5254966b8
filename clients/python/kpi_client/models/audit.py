"""The audit trail: one entry per change to the catalog."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from kpi_client.models.base import ApiModel

#: How a change was made.
AuditVia = Literal["rest", "graphql", "apply", "cli", "system"]


class AuditEntry(ApiModel):
    id: int
    at: dt.datetime
    actor_name: str
    via: AuditVia
    entity_kind: str
    entity_key: str
    action: Literal["create", "update", "delete"]
    actor_token_id: int | None = None
    before: Any = None
    after: Any = None
    file_name: str | None = None
    file_sha256: str | None = None
