"""API tokens and scopes: tokens are random, shown once, stored as SHA-256; admin implies all."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, model_validator

from service.models.catalog import Body, FieldProblem, Name, Slug
from service.models.enums import Scope

TOKEN_PREFIX = "kpi_"


# What a token may read: everything, or only its team's services. (No docstring: it would
# become the enum's description in the OpenAPI document.)
class ReadScope(StrEnum):
    ALL = "all"
    TEAM = "team"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's id, name and scopes, and the team it is limited to (its
    slug; the services of that team and of every team under it), if any."""

    token_id: int
    name: str
    scopes: frozenset[Scope]
    team: str | None = None
    read_scope: ReadScope = ReadScope.ALL
    #: The primary's WAL position (bytes from 0/0) after the token's last write, when one
    #: was recorded (read replicas): its reads go to a replica that has replayed that far.
    written_lsn: int | None = None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes

    @property
    def reads_team(self) -> str | None:
        """The team the token's reads are limited to, if they are."""
        return self.team if self.read_scope is ReadScope.TEAM else None


TEAM_DOC = (
    "Limit the token to this team's services: those the team or any team under it owns. "
    "Ingestion for any other service (or for none) is a 403 naming the service. A token "
    "limited to a team cannot have the admin scope."
)
READ_SCOPE_DOC = (
    "`team`: the token's reads are limited to its team's services as well (lists filtered, "
    "another team's service a 404; reads that do not filter by team are a 403). Needs `team`."
)


class TokenIn(Body):
    name: Name
    scopes: list[Scope] = Field(min_length=1)
    team: Slug | None = Field(default=None, description=TEAM_DOC)
    read_scope: ReadScope = Field(default=ReadScope.ALL, description=READ_SCOPE_DOC)

    @model_validator(mode="after")
    def _team_limits(self) -> Self:
        if self.team is not None and Scope.ADMIN in self.scopes:
            raise FieldProblem("team", "a token limited to a team cannot have the admin scope")
        if self.read_scope is ReadScope.TEAM and self.team is None:
            raise FieldProblem("read_scope", "limiting reads to a team needs `team`")
        return self


class TokenInfo(BaseModel):
    id: int
    name: str
    scopes: list[Scope]
    team: str | None = Field(default=None, description="The team the token is limited to.")
    read_scope: ReadScope = ReadScope.ALL
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class NewToken(TokenInfo):
    token: str = Field(description="The secret; shown only in this response.")


def hash_token(token: str) -> bytes:
    # Tokens carry 256 random bits, so a fast unsalted hash is enough to make a leaked table
    # useless; it also lets the lookup be an index probe instead of a scan of comparisons.
    return hashlib.sha256(token.encode()).digest()
