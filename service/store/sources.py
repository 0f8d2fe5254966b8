"""Typed wrappers over sql/queries/sources.sql."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from service.db import Connection, statements
from service.errors import Conflict, NotFound, field_error, invalid
from service.models.sources import Source, SourceIn, SourceKind, SourceSecret
from service.store import services, teams

q = statements("sources")


def _source(record: Any) -> Source:
    data = {k: v for k, v in record.items() if k != "secret"}
    return Source(**data, webhook_path=f"/v1/webhooks/{record['name']}")


async def list_sources(con: Connection) -> list[Source]:
    return [_source(r) for r in await con.fetch(q("list_sources"), None)]


async def get_source(con: Connection, *, name: str) -> Source:
    rows = await con.fetch(q("list_sources"), name)
    if not rows:
        raise NotFound(f"no source {name!r}")
    return _source(rows[0])


#: Sources as last read, by their row's content: a webhook reads its source on every delivery,
#: and a row that has not changed needs no validating again.
_PARSED: dict[bytes, SourceSecret] = {}
_PARSED_MAX = 256


async def get_source_with_secret(con: Connection, *, name: str) -> SourceSecret:
    found = await find_source_with_secret(con, name=name)
    if found is None:
        raise NotFound(f"no source {name!r}")
    return found


async def find_source_with_secret(con: Connection, *, name: str) -> SourceSecret | None:
    row = await con.fetchrow(q("get_source_with_secret"), name)
    return None if row is None else _parsed(dict(row.items()))


async def webhook_source_with_client_tokens(
    con: Connection, *, name: str, client_key: str, rate: float, burst: float
) -> tuple[SourceSecret | None, float]:
    """The source named `name` with its secret (None: no such source), and the tokens left in
    the bucket of a webhook client address (limits.tokens_left's), in one round trip."""
    row = dict(
        await con.fetchrow(q("webhook_source_with_client_tokens"), name, client_key, rate, burst)
    )
    tokens = float(row.pop("client_tokens"))
    return (None if row["id"] is None else _parsed(row)), tokens


def _parsed(row: dict[str, Any]) -> SourceSecret:
    """The source of a row read with its secret, validated once per content of the row."""
    key = orjson.dumps(list(row.values()))
    found = _PARSED.get(key)
    if found is None:
        found = SourceSecret(source=_source(row), secret=row["secret"])
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = found
    return found


async def _args(con: Connection, source: SourceIn) -> tuple[Any, ...]:
    slugs = [rule.service for rule in source.service_rules]
    if slugs:
        known = await services.service_ids_by_slug(con, slugs)
        for i, slug in enumerate(slugs):
            if slug not in known:
                raise invalid(f"service_rules.{i}.service", f"unknown service {slug!r}")
    return (
        source.name,
        source.kind.value,
        source.secret.get_secret_value() if source.secret else None,
        source.username,
        {k: v.value for k, v in source.severity_map.items()},
        [rule.model_dump() for rule in source.service_rules],
        source.production_envs,
        source.incident_issue_types,
        source.infer_links,
        source.infer_window_minutes,
        source.open_to_api,
        source.options,
        await _team_id(con, source.team),
    )


async def _team_id(con: Connection, team: str | None) -> int | None:
    """The id of the team a source is limited to; a 422 naming `team` when there is none."""
    if team is None:
        return None
    found = await teams.team_id_by_slug(con, team)
    if found is None:
        raise invalid("team", f"unknown team {team!r}")
    return found


def _check_kind(source: SourceIn) -> None:
    if source.kind is not SourceKind.API and source.secret is None:
        raise invalid("secret", f"a {source.kind} source needs a secret to verify deliveries")


async def create_source(con: Connection, *, source: SourceIn) -> Source:
    _check_kind(source)
    args = await _args(con, source)
    try:
        await con.fetchval(q("create_source"), *args)
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(
            f"source {source.name!r} already exists", errors=[field_error("name", "already exists")]
        ) from exc
    return await get_source(con, name=source.name)


async def update_source(con: Connection, *, name: str, source: SourceIn) -> Source:
    if source.name != name:
        raise invalid("name", f"must match the path ({name!r}); renaming is not supported")
    args = await _args(con, source)
    if await con.fetchval(q("update_source"), *args) is None:
        raise NotFound(f"no source {name!r}")
    return await get_source(con, name=name)


async def delete_source(con: Connection, *, name: str) -> None:
    try:
        if await con.fetchval(q("delete_source"), name) is None:
            raise NotFound(f"no source {name!r}")
    except (asyncpg.ForeignKeyViolationError, asyncpg.RestrictViolationError) as exc:
        raise Conflict(f"source {name!r} has incidents or changes; it cannot be deleted") from exc
