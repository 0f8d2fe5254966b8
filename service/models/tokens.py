"""API tokens and scopes: tokens are random, shown once, stored as SHA-256; admin implies all."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from pydantic import BaseModel, Field

from service.models.catalog import Body, Name
from service.models.enums import Scope

TOKEN_PREFIX = "kpi_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's id, name and scopes."""

    token_id: int
    name: str
    scopes: frozenset[Scope]

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes


class TokenIn(Body):
    name: Name
    scopes: list[Scope] = Field(min_length=1)


class TokenInfo(BaseModel):
    id: int
    name: str
    scopes: list[Scope]
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class NewToken(TokenInfo):
    token: str = Field(description="The secret; shown only in this response.")


def hash_token(token: str) -> bytes:
    # Tokens carry 256 random bits, so a fast unsalted hash is enough to make a leaked table
    # useless; it also lets the lookup be an index probe instead of a scan of comparisons.
    return hashlib.sha256(token.encode()).digest()
