"""API tokens: issuing (the secret is shown once), listing, revoking, and knowing who calls.
Issuing and revoking are recorded in the audit trail (never the secret or its hash)."""

from __future__ import annotations

import secrets

from service.db import Connection
from service.errors import Forbidden, NotFound, Unauthorized
from service.models.enums import Scope
from service.models.tokens import TOKEN_PREFIX, NewToken, Principal, TokenInfo, hash_token
from service.store import tokens
from service.usecases import audit


async def create_token(con: Connection, *, name: str, scopes: list[Scope]) -> NewToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    unique_scopes = sorted({s.value for s in scopes})
    async with audit.atomic(con):
        info = await tokens.insert_token(
            con, name=name, token_hash=hash_token(token), scopes=unique_scopes
        )
        await audit.record(con, "token", str(info.id), None, info)
    return NewToken(token=token, **info.model_dump())


async def list_tokens(con: Connection) -> list[TokenInfo]:
    return await tokens.list_tokens(con)


async def _token_now(con: Connection, token_id: int) -> TokenInfo | None:
    return next((t for t in await tokens.list_tokens(con) if t.id == token_id), None)


async def revoke_token(con: Connection, *, token_id: int) -> None:
    """Revoke the token (again: no change); the audit trail records it as an update setting
    revoked_at, since the token is kept."""
    async with audit.atomic(con):
        before = await _token_now(con, token_id)
        if not await tokens.revoke_token(con, token_id):
            raise NotFound(f"no token {token_id}")
        await audit.record(con, "token", str(token_id), before, await _token_now(con, token_id))


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
        raise Unauthorized(
            "the token is unknown or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return principal


def require(principal: Principal, scope: Scope) -> None:
    if not principal.allows(scope):
        raise Forbidden(f"this token lacks the {scope.value!r} scope", required_scope=scope.value)
