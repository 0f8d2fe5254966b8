"""Incident and Change nodes, with their timelines and the links between them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from service.graphql.types.common import Connection, Info, page_mapped, page_of_list
from service.models import enums
from service.models import incidents as models
from service.models.enums import ChangeKind, ChangeStatus

if TYPE_CHECKING:
    from service.graphql.types.service import Service


@strawberry.type(description="One step as the tool reported it.")
class TimelineEntry:
    at: dt.datetime
    what: str
    event_key: str
    recorded_at: dt.datetime
    delivery_id: int | None

    @classmethod
    def of(cls, m: models.TimelineEntry) -> TimelineEntry:
        return cls(at=m.at, what=m.what, event_key=m.event_key, recorded_at=m.recorded_at,
                   delivery_id=m.delivery_id)  # fmt: skip


async def _service(info: Info, slug: str | None) -> Service | None:
    from service.graphql.types.service import Service

    if slug is None:
        return None
    found = await info.context.loaders.service_by_slug.load(slug)
    return Service.of(found) if found else None


@strawberry.type(description="An incident, rebuilt from its timeline of events.")
class Incident:
    model: strawberry.Private[models.Incident]
    id: int
    source: str
    external_id: str
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

    @classmethod
    def of(cls, m: models.Incident) -> Incident:
        return cls(
            model=m, id=m.id, source=m.source, external_id=m.external_id, severity=m.severity,
            priority=m.priority, status=m.status, title=m.title, url=m.url,
            started_at=m.started_at, detected_at=m.detected_at,
            acknowledged_at=m.acknowledged_at, resolved_at=m.resolved_at,
            users_affected=m.users_affected, cost_estimate=m.cost_estimate,
            problem_key=m.problem_key, link_kind=m.link_kind,
        )  # fmt: skip

    @strawberry.field
    async def service(
        self, info: Info
    ) -> Annotated[Service, strawberry.lazy("service.graphql.types.service")] | None:
        return await _service(info, self.model.service)

    @strawberry.field(description="Its steps in the order they happened; cursor-paginated.")
    async def timeline(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[TimelineEntry]:
        entries = await info.context.loaders.incident_timeline.load(self.id)
        return page_of_list([TimelineEntry.of(e) for e in entries], first, after)

    @strawberry.field(description="The change that caused it, if known.")
    async def caused_by(self, info: Info) -> Change | None:
        if self.model.caused_by_change_id is None:
            return None
        found = await info.context.loaders.change.load(self.model.caused_by_change_id)
        return Change.of(found) if found else None


@strawberry.type(description="A change (deployment, config change ...) and what it caused.")
class Change:
    model: strawberry.Private[models.Change]
    id: int
    source: str
    external_id: str
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

    @classmethod
    def of(cls, m: models.Change) -> Change:
        return cls(
            model=m, id=m.id, source=m.source, external_id=m.external_id,
            environment=m.environment, is_production=m.is_production, kind=m.kind,
            status=m.status, started_at=m.started_at, finished_at=m.finished_at,
            commit_sha=m.commit_sha, commit_time=m.commit_time, title=m.title, url=m.url,
        )  # fmt: skip

    @strawberry.field
    async def service(
        self, info: Info
    ) -> Annotated[Service, strawberry.lazy("service.graphql.types.service")] | None:
        return await _service(info, self.model.service)

    @strawberry.field(description="Its steps in the order they happened; cursor-paginated.")
    async def timeline(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[TimelineEntry]:
        entries = await info.context.loaders.change_timeline.load(self.id)
        return page_of_list([TimelineEntry.of(e) for e in entries], first, after)

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
        window = page_of_list(await loaders.incidents_caused_by.load(self.id), first, after)
        return page_mapped(window, await loaders.incident.load_many(window.nodes), Incident.of)


@strawberry.type(description="A webhook delivery as logged (admin only).")
class Delivery:
    id: int
    source: str
    delivery_key: str | None
    event_type: str | None
    received_at: dt.datetime
    status: str
    detail: str | None
    attempts: int
