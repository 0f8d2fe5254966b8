"""Incident and Change nodes, with their timelines and the links between them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Generic, Self, TypeVar

import strawberry

from service.graphql.types.common import (
    Connection,
    Info,
    Label,
    copied,
    load_node,
    page_of_edge,
    page_of_list,
)
from service.models import enums
from service.models import incidents as models
from service.models.enums import ChangeKind, ChangeStatus

M = TypeVar("M", models.Incident, models.Change)

if TYPE_CHECKING:
    from strawberry.dataloader import DataLoader

    from service.graphql.loaders import Loaders
    from service.graphql.types.service import Service


@strawberry.type(description="One step as the tool reported it.")
class TimelineEntry:
    at: dt.datetime
    what: str
    event_key: str
    recorded_at: dt.datetime
    delivery_id: int | None


async def _service(
    self: Incident | Change, info: Info
) -> Annotated[Service, strawberry.lazy("service.graphql.types.service")] | None:
    from service.graphql.types.service import Service

    if self.model.service is None:
        return None
    return await load_node(info.context.loaders.service_by_slug, self.model.service, Service.of)


def _timeline(steps: Callable[[Loaders], DataLoader[int, list[models.TimelineEntry]]]) -> Any:
    """The `timeline` field of an incident or a change, whose steps `steps` loads."""

    async def timeline(
        self: Incident | Change, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[TimelineEntry]:
        entries = await steps(info.context.loaders).load(self.id)
        return page_of_list([copied(TimelineEntry, e) for e in entries], first, after)

    return strawberry.field(
        resolver=timeline, description="Its steps in the order they happened; cursor-paginated."
    )


@strawberry.type
class Reported(Generic[M]):
    """What an incident and a change share: the model they show, their id, and the tool that
    reported them with its own id for them."""

    model: strawberry.Private[M]
    id: int
    source: str
    external_id: str

    @classmethod
    def of(cls, m: M) -> Self:
        return copied(cls, m, model=m)


@strawberry.type(description="An incident, rebuilt from its timeline of events.")
class Incident(Reported[models.Incident]):
    severity: enums.Severity | None
    priority: str | None
    status: str
    title: str | None
    url: str | None
    started_at: dt.datetime | None
    detected_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    users_affected: int | None
    cost_estimate: float | None
    problem_key: str | None
    link_kind: str | None = strawberry.field(
        description="How caused_by was found: explicit (named by the tool) or inferred."
    )

    service = strawberry.field(resolver=_service)
    timeline = _timeline(lambda loaders: loaders.incident_timeline)

    @strawberry.field(description="The change that caused it, if known.")
    async def caused_by(self, info: Info) -> Change | None:
        if self.model.caused_by_change_id is None:
            return None
        return await load_node(
            info.context.loaders.change, self.model.caused_by_change_id, Change.of
        )


@strawberry.type(description="A change (deployment, config change ...) and what it caused.")
class Change(Reported[models.Change]):
    environment: str | None
    is_production: bool
    kind: ChangeKind
    status: ChangeStatus
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    commit_sha: str | None
    commit_time: dt.datetime | None
    title: str | None
    url: str | None

    service = strawberry.field(resolver=_service)
    timeline = _timeline(lambda loaders: loaders.change_timeline)

    @strawberry.field(description="The change's labels (risk, change type ...), by name.")
    def labels(self) -> list[Label]:
        return Label.pairs(self.model.labels)

    @strawberry.field(
        description="Why it counts as failed whatever its status: a later merged request "
        "reverted a commit this was the first production change to ship."
    )
    async def reverted_by(self, info: Info) -> str | None:
        return (await info.context.loaders.revert_reasons.load(self.id)).reverted_by

    @strawberry.field(description="Why it counts as rework: it shipped a revert.")
    async def reverts(self, info: Info) -> str | None:
        return (await info.context.loaders.revert_reasons.load(self.id)).reverts

    @strawberry.field(
        description="Incidents linked to this change as their cause; cursor-paginated."
    )
    async def incidents(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Incident]:
        loaders = info.context.loaders
        return await page_of_edge(loaders.incidents_caused_by, self.id, loaders.incident,
                                  Incident.of, first, after)  # fmt: skip
