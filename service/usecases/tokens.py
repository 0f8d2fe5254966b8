"""API tokens: issuing (the secret is shown once), listing, revoking, and knowing who calls.
Issuing and revoking are recorded in the audit trail (never the secret or its hash)."""

from __future__ import annotations

import secrets

from service.db import Connection
from service.errors import Forbidden, NotFound, Unauthorized, invalid
from service.models.enums import Scope
from service.models.tokens import (
    TOKEN_PREFIX,
    NewToken,
    Principal,
    ReadScope,
    TokenInfo,
    hash_token,
)
from service.store import tokens
from service.usecases import audit


async def create_token(
    con: Connection, *, name: str, scopes: list[Scope], team: str | None = None,
    read_scope: ReadScope = ReadScope.ALL,
) -> NewToken:  # fmt: skip
    """A new token; limited to a team's services when `team` is given (never with the admin
    scope, which could lift the limit), its reads too when `read_scope` is team."""
    if team is not None and Scope.ADMIN in scopes:
        raise invalid("team", "a token limited to a team cannot have the admin scope")
    if read_scope is ReadScope.TEAM and team is None:
        raise invalid("read_scope", "limiting reads to a team needs `team`")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    unique_scopes = sorted({s.value for s in scopes})
    async with audit.atomic(con):
        info = await tokens.insert_token(
            con, name=name, token_hash=hash_token(token), scopes=unique_scopes, team=team,
            read_scope=read_scope,
        )  # fmt: skip
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


def require_unlimited_reads(principal: Principal, what: str) -> None:
    """A 403 for a token whose reads are limited to a team, on a read that does not filter
    by team (refused rather than answered with other teams' figures)."""
    team = principal.reads_team
    if team is not None:
        raise Forbidden(
            f"this token's reads are limited to team {team!r}, and {what} is not filtered by "
            "team: use a token without read_scope team",
            team=team,
        )
