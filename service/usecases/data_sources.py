"""Registering data sources (Prometheus servers): their URL must be one the service may call
(a public host, or one KPI_OUTBOUND_ALLOW names), checked when written and again at each
query."""

from __future__ import annotations

from typing import Any

from service import outbound
from service.db import Connection
from service.errors import Conflict, NotFound, invalid
from service.models.data_sources import DataSource, DataSourceAuth, DataSourceIn
from service.store import data_sources as store
from service.usecases import audit
from service.usecases.catalog import check_path_key

#: The audit trail's name for a data source (keyed by its name).
KIND = "data-source"


def _audited(source: DataSource, written: DataSourceIn | None) -> dict[str, Any]:
    """A data source as the audit trail keeps it: as the API reads it, without its query
    counters (the background's, not a catalog change), with whether the write set a secret
    (never the secret itself)."""
    kept = source.model_dump(
        mode="json", include=(set(DataSourceIn.model_fields) - {"secret"}) | {"id", "has_secret"}
    )
    return {**kept, "secret_changed": written is not None and written.secret is not None}


async def check_reachable(url: str, allow: outbound.AllowList) -> None:
    """A 422 on `url` when its host is one the service may not call. A name that does not
    resolve now is let through: it is resolved again, and refused or not, at each query."""
    refusal = outbound.refusal_without_lookup(url, allow)
    if refusal is None:
        try:
            await outbound.resolve(url, allow)
        except outbound.OutboundRefused as exc:
            refusal = None if str(exc) != outbound.NOT_ALLOWED else str(exc)
    if refusal is not None:
        raise invalid("url", refusal)


async def list_data_sources(con: Connection) -> list[DataSource]:
    return await store.list_data_sources(con)


async def get_data_source(con: Connection, name: str) -> DataSource:
    return await store.get_data_source(con, name=name)


def _check_secret(source: DataSourceIn, current: DataSource | None) -> None:
    has = source.secret is not None or (
        current is not None and current.has_secret and current.auth is not DataSourceAuth.NONE
    )
    if source.auth is not DataSourceAuth.NONE and not has:
        raise invalid("secret", f"required for {source.auth.value} auth")


async def create_data_source(
    con: Connection, source: DataSourceIn, *, allow: outbound.AllowList
) -> DataSource:
    await check_reachable(source.url, allow)
    _check_secret(source, None)
    async with audit.atomic(con):
        await store.create_data_source(con, source=source)
        created = await store.get_data_source(con, name=source.name)
        await audit.record(con, KIND, source.name, None, _audited(created, source))
    return created


async def replace_data_source(
    con: Connection, name: str, source: DataSourceIn, *, allow: outbound.AllowList
) -> DataSource:
    """Replaces the source's settings; a secret left out keeps the current one."""
    check_path_key("name", name, source.name)
    await check_reachable(source.url, allow)
    current = await store.get_data_source(con, name=name)
    _check_secret(source, current)
    async with audit.atomic(con):
        if not await store.update_data_source(con, source=source):
            raise NotFound(f"no data source {name!r}")
        replaced = await store.get_data_source(con, name=name)
        await audit.record(con, KIND, name, _audited(current, None), _audited(replaced, source))
    return replaced


async def secret_differs(con: Connection, source_id: int, secret: str) -> bool:
    """Whether `secret` is not the data source's stored one."""
    found = await store.data_sources_with_secret(con, [source_id])
    return found[source_id].secret != secret


async def delete_data_source(con: Connection, name: str) -> None:
    current = await store.get_data_source(con, name=name)
    if current.slis:
        raise Conflict(f"data source {name!r} is used by the SLI of KPI {current.slis[0].kpi!r}")
    async with audit.atomic(con):
        if not await store.delete_data_source(con, name=name):
            raise NotFound(f"no data source {name!r}")
        await audit.record(con, KIND, name, _audited(current, None), None)
