"""The AuditEntry node: one change to the catalog as the audit trail keeps it (admin only).

Annotations here are evaluated at once (no postponed annotations), as strawberry reads them
when the type is made."""

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from service.models import audit

# Registers the enums with strawberry; the fields use the enum classes themselves.
strawberry.enum(audit.AuditVia, description="How a change was made.")
strawberry.enum(audit.AuditAction)


@strawberry.type(description="One change to the catalog: who, when, how, before and after.")
class AuditEntry:
    id: int
    at: dt.datetime
    actor_token_id: int | None = strawberry.field(
        description="The API token that made the change; null from the command line."
    )
    actor_name: str
    via: audit.AuditVia
    entity_kind: str
    entity_key: str
    action: audit.AuditAction
    before: JSON | None = strawberry.field(
        description="The entity as the API read it before; null for a creation."
    )
    after: JSON | None = strawberry.field(
        description="The entity as the API reads it after; null for a deletion."
    )
    file_name: str | None = strawberry.field(description="For `kpi apply`: the file applied.")
    file_sha256: str | None = strawberry.field(description="For `kpi apply`: its SHA-256.")

    @classmethod
    def of(cls, m: audit.AuditEntry) -> "AuditEntry":
        return cls(**m.model_dump())
