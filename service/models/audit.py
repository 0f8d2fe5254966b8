"""The audit trail's vocabulary: who changed the catalog, how, and the entries read back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, Field, JsonValue


class AuditVia(StrEnum):
    # How a change was made: the REST API, GraphQL, `kpi apply` of a file, another `kpi`
    # command, or the service by itself (demo data, the starter catalog). (No docstring: it
    # would become the enum's description in the OpenAPI document.)
    REST = "rest"
    GRAPHQL = "graphql"
    APPLY = "apply"
    CLI = "cli"
    SYSTEM = "system"


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Actor:
    """Who makes a change: an API token (its name and id), or a person at the command line
    (the OS user, or `--actor`), who has no token id."""

    name: str
    token_id: int | None = None


@dataclass(frozen=True)
class ApplyFile:
    """The file `kpi apply` applied: its name as given and the SHA-256 of its bytes (hex)."""

    name: str
    sha256: str


class AuditEntry(BaseModel):
    id: int
    at: dt.datetime = Field(description="When the change was made (its transaction's time).")
    actor_token_id: int | None = Field(
        description="The id of the API token that made the change; null from the command line."
    )
    actor_name: str = Field(description="The token's name, or the command line's user.")
    via: AuditVia
    entity_kind: str = Field(
        description="team, service, outcome, kpi, target, kpi-outcome, kpi-service, source, "
        "token, initiative, openslo-slo, openslo-service, delivery (discarded)."
    )
    entity_key: str = Field(
        description="The entity's slug or key; a target's or token's id; `kpi/outcome` or "
        "`kpi/service` for a link."
    )
    action: AuditAction
    before: JsonValue = Field(
        description="The entity as the API read it before the change; null for a creation."
    )
    after: JsonValue = Field(
        description="The entity as the API reads it after the change; null for a deletion."
    )
    file_name: str | None = Field(description="For `kpi apply`: the file applied.")
    file_sha256: str | None = Field(description="For `kpi apply`: the SHA-256 of the file.")
