"""API tokens (sql/queries/tokens.sql): only a SHA-256 of each token is stored."""

from __future__ import annotations

from collections.abc import Sequence

from service.db import Connection, fetch_models, statements
from service.models.enums import Scope
from service.models.stored import read
from service.models.tokens import Principal, TokenInfo

q = statements("tokens")


async def insert_token(
    con: Connection, *, name: str, token_hash: bytes, scopes: Sequence[str]
) -> TokenInfo:
    return read(TokenInfo, await con.fetchrow(q("insert_token"), name, token_hash, list(scopes)))


async def token_by_hash(con: Connection, token_hash: bytes) -> Principal | None:
    """The holder of an unrevoked token, None when there is none."""
    row = await con.fetchrow(q("token_by_hash"), token_hash)
    if row is None:
        return None
    return Principal(row["id"], row["name"], frozenset(Scope(s) for s in row["scopes"]))


async def list_tokens(con: Connection) -> list[TokenInfo]:
    return await fetch_models(con, TokenInfo, q("list_tokens"))


async def revoke_token(con: Connection, token_id: int) -> bool:
    """Whether there was such a token (revoking twice keeps the first time)."""
    return await con.fetchval(q("revoke_token"), token_id) is not None
