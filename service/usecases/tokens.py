"""API tokens: issuing (the secret is shown once), listing, revoking, and knowing who calls."""

from __future__ import annotations

import secrets

from service.db import Connection
from service.errors import Forbidden, NotFound, Unauthorized
from service.models.enums import Scope
from service.models.tokens import TOKEN_PREFIX, NewToken, Principal, TokenInfo, hash_token
from service.store import tokens


async def create_token(con: Connection, *, name: str, scopes: list[Scope]) -> NewToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    unique_scopes = sorted({s.value for s in scopes})
    info = await tokens.insert_token(
        con, name=name, token_hash=hash_token(token), scopes=unique_scopes
    )
    return NewToken(token=token, **info.model_dump())


async def list_tokens(con: Connection) -> list[TokenInfo]:
    return await tokens.list_tokens(con)


async def revoke_token(con: Connection, *, token_id: int) -> None:
    if not await tokens.revoke_token(con, token_id):
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
    principal = await tokens.token_by_hash(con, hash_token(bearer_token(authorization)))
    if principal is None:
        raise unknown_token()
    return principal


def unknown_token() -> Unauthorized:
    return Unauthorized(
        "the token is unknown or revoked",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def require(principal: Principal, scope: Scope) -> None:
    if not principal.allows(scope):
        raise Forbidden(f"this token lacks the {scope.value!r} scope", required_scope=scope.value)
