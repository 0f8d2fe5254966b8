"""API tokens (sql/queries/tokens.sql): only a SHA-256 of each token is stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.db import Connection, fetch_models, statements
from service.errors import invalid
from service.models.enums import Scope
from service.models.stored import read
from service.models.tokens import Principal, ReadScope, TokenInfo

q = statements("tokens")


async def insert_token(
    con: Connection, *, name: str, token_hash: bytes, scopes: Sequence[str],
    team: str | None = None, read_scope: ReadScope = ReadScope.ALL,
) -> TokenInfo:  # fmt: skip
    """The new token; a 422 naming `team` when there is no team of that slug."""
    row = await con.fetchrow(
        q("insert_token"), name, token_hash, list(scopes), team, read_scope.value
    )
    if row is None:
        raise invalid("team", f"unknown team {team!r}")
    return read(TokenInfo, row)


async def token_by_hash(con: Connection, token_hash: bytes) -> Principal | None:
    """The holder of an unrevoked token, None when there is none."""
    row = await con.fetchrow(q("token_by_hash"), token_hash)
    return None if row is None else principal_of(row)


def principal_of(row: Mapping[str, Any]) -> Principal:
    """The holder a token row names (id, name, scopes, team slug, read scope, and the WAL
    position after its last write when the row has one)."""
    return Principal(
        row["id"], row["name"], frozenset(Scope(s) for s in row["scopes"]), row["team"],
        ReadScope(row["read_scope"]), row.get("written_lsn"),
    )  # fmt: skip


async def list_tokens(con: Connection) -> list[TokenInfo]:
    return await fetch_models(con, TokenInfo, q("list_tokens"))


async def revoke_token(con: Connection, token_id: int) -> bool:
    """Whether there was such a token (revoking twice keeps the first time)."""
    return await con.fetchval(q("revoke_token"), token_id) is not None
