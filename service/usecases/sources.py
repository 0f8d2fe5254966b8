"""Registering sources: the options of each source's kind are checked against the kind's
model (its package's `options`) and stored with their defaults filled in."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from service.db import Connection
from service.errors import FieldError, from_pydantic
from service.ingest.sources import SOURCES
from service.ingest.sources.definition import NoOptions
from service.models.sources import Source, SourceIn
from service.store import sources


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


async def create_source(con: Connection, *, source: SourceIn) -> Source:
    return await sources.create_source(con, source=with_checked_options(source))


async def update_source(con: Connection, *, name: str, source: SourceIn) -> Source:
    return await sources.update_source(con, name=name, source=with_checked_options(source))
