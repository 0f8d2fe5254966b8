"""The catalog's operations: teams, business services, outcomes and KPI definitions (each a
`Collection` keyed by its slug or key), targets, and the links of KPIs to outcomes and to
services. REST, GraphQL and `kpi apply` all write the catalog through these.

A write runs in the caller's transaction. `upsert` creates or replaces by key under a lock on
the name, so two writers of the same new name do not both try to create it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from service.db import Connection
from service.models.catalog import (
    Kpi,
    KpiIn,
    Outcome,
    OutcomeIn,
    OutcomeLink,
    OutcomeLinkIn,
    Service,
    ServiceIn,
    ServiceLink,
    Target,
    TargetIn,
    Team,
    TeamIn,
)
from service.store import catalog as store

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


@dataclass(frozen=True)
class Collection(Generic[In, Out]):
    """One keyed collection of the catalog and its five operations (plus upsert)."""

    #: What one item is called in errors and locks: team, service, outcome, kpi.
    noun: str
    #: The field that names an item: slug or key.
    key: str
    model_in: type[In]
    model_out: type[Out]
    #: The store's operations; `arg` is the keyword its writes take the body as.
    arg: str
    listed: Callable[..., Awaitable[list[Out]]]
    got: Callable[..., Awaitable[Out]]
    created: Callable[..., Awaitable[Out]]
    updated: Callable[..., Awaitable[Out]]
    deleted: Callable[..., Awaitable[None]]

    async def list(self, con: Connection, keys: Sequence[str] | None = None) -> list[Out]:
        """Every item, or those with these keys."""
        return await self.listed(con, **{f"{self.key}s": keys})

    async def get(self, con: Connection, key: str) -> Out:
        """One item; NotFound (404) when there is none."""
        return await self.got(con, **{self.key: key})

    async def create(self, con: Connection, body: In) -> Out:
        """A new item; Conflict (409) when its key is taken."""
        return await self.created(con, **{self.arg: body})

    async def replace(self, con: Connection, key: str, body: In) -> Out:
        """The item named `key` replaced by `body` (whose key must be the same)."""
        return await self.updated(con, **{self.key: key, self.arg: body})

    async def delete(self, con: Connection, key: str) -> None:
        """The item deleted; Conflict (409) while something still refers to it."""
        await self.deleted(con, **{self.key: key})

    async def upsert(self, con: Connection, body: In) -> Out:
        """Create the item, or replace it if its key exists."""
        key: str = getattr(body, self.key)
        await store.lock_name(con, f"{self.noun}:{key}")
        if await self.list(con, [key]):
            return await self.replace(con, key, body)
        return await self.create(con, body)


TEAMS = Collection[TeamIn, Team](
    "team", "slug", TeamIn, Team, "team",
    store.list_teams, store.get_team, store.create_team, store.update_team, store.delete_team,
)  # fmt: skip
SERVICES = Collection[ServiceIn, Service](
    "service", "slug", ServiceIn, Service, "service", store.list_services, store.get_service,
    store.create_service, store.update_service, store.delete_service,
)  # fmt: skip
OUTCOMES = Collection[OutcomeIn, Outcome](
    "outcome", "slug", OutcomeIn, Outcome, "outcome", store.list_outcomes, store.get_outcome,
    store.create_outcome, store.update_outcome, store.delete_outcome,
)  # fmt: skip
KPIS = Collection[KpiIn, Kpi](
    "kpi", "key", KpiIn, Kpi, "kpi",
    store.list_kpis, store.get_kpi, store.create_kpi, store.update_kpi, store.delete_kpi,
)  # fmt: skip


# Targets ----------------------------------------------------------------------------------------


async def list_targets(con: Connection, *, kpi: str | None = None) -> list[Target]:
    return await store.list_targets(con, kpi=kpi)


async def get_target(con: Connection, target_id: int) -> Target:
    return await store.get_target(con, target_id=target_id)


async def create_target(con: Connection, target: TargetIn) -> Target:
    return await store.create_target(con, target=target)


async def replace_target(con: Connection, target_id: int, target: TargetIn) -> Target:
    return await store.update_target(con, target_id=target_id, target=target)


async def delete_target(con: Connection, target_id: int) -> None:
    await store.delete_target(con, target_id=target_id)


# Links ------------------------------------------------------------------------------------------


async def outcome_links(con: Connection, *, kpi: str) -> list[OutcomeLink]:
    """The outcomes a KPI contributes to; NotFound when there is no such KPI."""
    await store.get_kpi(con, key=kpi)
    return await store.list_outcome_links(con, kpi=kpi)


async def link_outcome(
    con: Connection, *, kpi: str, outcome: str, link: OutcomeLinkIn
) -> OutcomeLink:
    """Link a KPI to an outcome, or change the link's weight and rationale."""
    return await store.link_outcome(con, kpi=kpi, outcome=outcome, link=link)


async def unlink_outcome(con: Connection, *, kpi: str, outcome: str) -> None:
    await store.unlink_outcome(con, kpi=kpi, outcome=outcome)


async def service_links(con: Connection, *, kpi: str) -> list[ServiceLink]:
    """The services a KPI applies to; NotFound when there is no such KPI."""
    await store.get_kpi(con, key=kpi)
    return await store.list_service_links(con, kpi=kpi)


async def link_service(con: Connection, *, kpi: str, service: str) -> ServiceLink:
    """Apply a KPI to a service (again: no change)."""
    return await store.link_service(con, kpi=kpi, service=service)


async def unlink_service(con: Connection, *, kpi: str, service: str) -> None:
    await store.unlink_service(con, kpi=kpi, service=service)


def as_seen(item: Any, *, admin: bool) -> Any:
    """What a token may see of an item: a KPI's webhook addresses only by admins."""
    return item.as_seen(admin=admin) if isinstance(item, Kpi) else item
