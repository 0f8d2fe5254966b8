"""API tokens and scopes: tokens are random, shown once, stored as SHA-256; admin implies all."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from pydantic import BaseModel, Field

from service.db import Connection, sql
from service.errors import Forbidden, NotFound, Unauthorized
from service.models.catalog import Body, Name
from service.models.enums import Scope
from service.models.stored import read

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


async def create_token(con: Connection, *, name: str, scopes: list[Scope]) -> NewToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    unique_scopes = sorted({s.value for s in scopes})
    row = await con.fetchrow(sql("tokens", "insert_token"), name, hash_token(token), unique_scopes)
    return NewToken(token=token, **row)


async def list_tokens(con: Connection) -> list[TokenInfo]:
    return [read(TokenInfo, r) for r in await con.fetch(sql("tokens", "list_tokens"))]


async def revoke_token(con: Connection, *, token_id: int) -> None:
    if await con.fetchval(sql("tokens", "revoke_token"), token_id) is None:
        raise NotFound(f"no token {token_id}")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized(
            "an API token is required: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "use the Bearer scheme: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


async def authenticate(con: Connection, authorization: str | None) -> Principal:
    token = bearer_token(authorization)
    row = await con.fetchrow(sql("tokens", "token_by_hash"), hash_token(token))
    if row is None:
        raise Unauthorized(
            "the token is unknown or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return Principal(row["id"], row["name"], frozenset(Scope(s) for s in row["scopes"]))


def require(principal: Principal, scope: Scope) -> None:
    if not principal.allows(scope):
        raise Forbidden(f"this token lacks the {scope.value!r} scope", required_scope=scope.value)
