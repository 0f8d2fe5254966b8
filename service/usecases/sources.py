"""Registering sources: the options of each source's kind are checked against the kind's
model (its package's `options`) and stored with their defaults filled in. Every write is
recorded in the audit trail (whether it set a new secret, never the secret)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from service.db import Connection
from service.errors import FieldError, NotFound, from_pydantic
from service.ingest.sources import SOURCES
from service.ingest.sources.definition import NoOptions
from service.models.sources import Source, SourceIn, SourceSecret
from service.store import sources
from service.usecases import audit


def options_model(kind: str) -> type[BaseModel]:
    """The model of a kind's options (none for the generic api kind)."""
    found = SOURCES.get(kind)
    return found.options if found is not None else NoOptions


def with_checked_options(source: SourceIn) -> SourceIn:
    """The source with its options as its kind's model reads them: unknown names and wrong
    values are a 422 naming `options.<name>`; names left out take their defaults."""
    try:
        checked = options_model(source.kind).model_validate(source.options)
    except ValidationError as exc:
        failed = from_pydantic(exc, prefix=("options",))
        # Which options there are depends on the kind: say so, as the spec cannot.
        failed.errors = [
            FieldError(e.pointer, f"{e.detail} (options of {source.kind} sources)")
            for e in failed.errors
        ]
        raise failed from exc
    return source.model_copy(update={"options": checked.model_dump(mode="json")})


async def _source_now(con: Connection, name: str) -> SourceSecret | None:
    try:
        return await sources.get_source_with_secret(con, name=name)
    except NotFound:
        return None


def _audited(source: Source, *, secret_changed: bool) -> dict[str, Any]:
    """A source as the audit trail keeps it: as the API reads it, and whether this change set
    a new secret (the secret itself is never kept)."""
    return {**source.model_dump(mode="json"), "secret_changed": secret_changed}


async def create_source(con: Connection, *, source: SourceIn) -> Source:
    async with audit.atomic(con):
        created = await sources.create_source(con, source=with_checked_options(source))
        after = _audited(created, secret_changed=source.secret is not None)
        await audit.record(con, "source", created.name, None, after)
    return created


async def update_source(con: Connection, *, name: str, source: SourceIn) -> Source:
    async with audit.atomic(con):
        before = await _source_now(con, name)
        updated = await sources.update_source(con, name=name, source=with_checked_options(source))
        given = source.secret.get_secret_value() if source.secret else None
        changed = before is not None and given is not None and given != before.secret
        old = None if before is None else _audited(before.source, secret_changed=False)
        await audit.record(con, "source", name, old, _audited(updated, secret_changed=changed))
    return updated


async def delete_source(con: Connection, *, name: str) -> None:
    async with audit.atomic(con):
        before = await _source_now(con, name)
        await sources.delete_source(con, name=name)
        if before is not None:
            old = _audited(before.source, secret_changed=False)
            await audit.record(con, "source", name, old, None)
