"""The audit trail over REST (admin only): every change to the catalog, newest first."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from service.models.audit import AuditEntry
from service.models.catalog import NoNul, RowId
from service.models.enums import Scope
from service.models.instants import Instant
from service.rest.endpoint import Call, Endpoint, on_connection
from service.usecases import audit

AUDIT_DOC = (
    "Every change to the catalog (teams, services, outcomes, KPIs with their escalation paths, "
    "targets, links, sources, tokens, initiatives, OpenSLO documents) with who made it (the "
    "token's name and id, or the command line's user), how (rest, graphql, apply, cli, system), "
    "and the entity as the API read it before and after. Entries are written in the "
    "transaction of the change and are never updated or deleted. Page with `before` (the "
    "last id of the previous page)."
)


#: A filter's text: Postgres text holds no NUL, so one is refused naming the parameter.
Text = Annotated[str, StringConstraints(max_length=500), NoNul]


class AuditQuery(BaseModel):
    kind: Text | None = Field(default=None, description="Only this kind of entity.")
    key: Text | None = Field(default=None, description="Only this entity's key.")
    actor: Text | None = Field(default=None, description="Only this actor's name.")
    token_id: RowId | None = Field(default=None, description="Only changes made with this token.")
    from_: Instant | None = Field(default=None, alias="from", description="Changes at or after.")
    to: Instant | None = Field(default=None, description="Changes before this.")
    before: RowId | None = Field(default=None, description="Page: ids below this.")
    limit: int = Field(default=100, ge=1, le=1000)


async def list_audit_entries(call: Call) -> list[AuditEntry]:
    query: AuditQuery = call.query
    return await on_connection(
        call, audit.list_entries, kind=query.kind, key=query.key, actor=query.actor,
        token_id=query.token_id, start=query.from_, end=query.to, before_id=query.before,
        limit=query.limit,
    )  # fmt: skip


ENDPOINTS = [
    Endpoint("GET", "/v1/audit", list_audit_entries, Scope.ADMIN,
             "The audit trail of catalog changes, newest first", "audit",
             response=list[AuditEntry], query=AuditQuery, description=AUDIT_DOC),
]  # fmt: skip
