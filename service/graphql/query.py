"""The GraphQL queries (scope read): the catalog, incidents and changes, deliveries and the
reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from service.graphql import read_model
from service.graphql.types.common import Connection as Page
from service.graphql.types.common import Info, decode_cursor, encode_cursor, page_size
from service.graphql.types.delivery import Delivery
from service.graphql.types.incident import Change, Incident
from service.graphql.types.kpi import Kpi
from service.graphql.types.outcome import Outcome
from service.graphql.types.reports import Escalation, GovernanceGap, Scorecard, convert
from service.graphql.types.service import Service
from service.graphql.types.team import Team
from service.models.enums import Scope
from service.models.instants import check_instant
from service.store import deliveries as ingest_store
from service.store import kpis as kpi_store
from service.store import outcomes as outcome_store
from service.store import services as service_store
from service.store import teams as team_store
from service.usecases import escalation, reports

N = TypeVar("N")


def page(items: list[Any], first: int, wrap: Callable[[Any], N]) -> Page[N]:
    more = len(items) > first
    return Page.of([(encode_cursor(i.id), wrap(i)) for i in items[:first]], more)


@strawberry.type
class Query:
    @strawberry.field(description="Business services, ordered by creation; cursor-paginated.")
    async def services(
        self, info: Info, first: int = 50, after: str | None = None,
        tier: int | None = None, team: str | None = None,
    ) -> Page[Service]:  # fmt: skip
        size = page_size(first)
        async with info.context.db.acquire() as con:
            rows = await service_store.list_services(
                con, tier=tier, team=team, after_id=decode_cursor(after), limit=size + 1
            )
        for row in rows:
            info.context.loaders.service.prime(row.id, row)
        await read_model.services_page(info, rows[:size])
        return page(rows, size, Service.of)

    @strawberry.field
    async def service(self, info: Info, slug: str) -> Service | None:
        async with info.context.db.acquire() as con:
            found = await service_store.list_services(con, slugs=[slug])
        return Service.of(found[0]) if found else None

    @strawberry.field(description="KPI definitions, ordered by creation; cursor-paginated.")
    async def kpis(
        self, info: Info, first: int = 50, after: str | None = None,
        board_level: bool | None = None,
    ) -> Page[Kpi]:  # fmt: skip
        size = page_size(first)
        async with info.context.db.acquire() as con:
            rows = await kpi_store.list_kpis(
                con, after_id=decode_cursor(after), board_level=board_level, limit=size + 1
            )
        return page(rows, size, Kpi.of)

    @strawberry.field
    async def kpi(self, info: Info, key: str) -> Kpi | None:
        async with info.context.db.acquire() as con:
            found = await kpi_store.list_kpis(con, keys=[key])
        return Kpi.of(found[0]) if found else None

    @strawberry.field
    async def outcomes(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Page[Outcome]:
        size = page_size(first)
        after_id = decode_cursor(after) or 0
        async with info.context.db.acquire() as con:
            rows = await outcome_store.page_outcomes(con, after_id=after_id, limit=size + 1)
        return page(rows, size, Outcome.of)

    @strawberry.field
    async def outcome(self, info: Info, slug: str) -> Outcome | None:
        async with info.context.db.acquire() as con:
            found = await outcome_store.list_outcomes(con, slugs=[slug])
        return Outcome.of(found[0]) if found else None

    @strawberry.field
    async def incident(self, info: Info, id: int) -> Incident | None:
        found = await info.context.loaders.incident.load(id)
        return Incident.of(found) if found else None

    @strawberry.field
    async def change(self, info: Info, id: int) -> Change | None:
        found = await info.context.loaders.change.load(id)
        return Change.of(found) if found else None

    @strawberry.field(
        description="The webhook delivery log, newest first (admin scope); cursor-paginated."
    )
    async def deliveries(
        self, info: Info, status: str | None = None, source: str | None = None,
        first: int = 50, after: str | None = None,
    ) -> Page[Delivery]:  # fmt: skip
        if not info.context.principal.allows(Scope.ADMIN):
            raise GraphQLError(
                "deliveries need the 'admin' scope",
                extensions={"code": "FORBIDDEN", "required_scope": "admin"},
            )
        size = page_size(first)
        async with info.context.db.acquire() as con:
            rows = await ingest_store.list_deliveries(
                con, status=status, source=source, before_id=decode_cursor(after),
                limit=size + 1,
            )  # fmt: skip
        return page(rows, size, Delivery.from_pydantic)

    @strawberry.field
    async def teams(self, info: Info, first: int = 50, after: str | None = None) -> Page[Team]:
        size = page_size(first)
        after_id = decode_cursor(after) or 0
        async with info.context.db.acquire() as con:
            rows = await team_store.page_teams(con, after_id=after_id, limit=size + 1)
        return page(rows, size, Team.of)

    @strawberry.field(
        description="The board-level KPIs for the period of their cadence holding `period` "
        "(default: each KPI's last closed period), with value, target, status, trend and "
        "owners; warns when more than eight KPIs are flagged board-level."
    )
    async def scorecard(self, info: Info, period: dt.datetime | None = None) -> Scorecard:
        on = check_instant("period", period)
        async with info.context.db.acquire() as con:
            found = await reports.scorecard(con, on, info.context.now())
        return convert(Scorecard, found)  # type: ignore[no-any-return]

    @strawberry.field(
        description="KPIs missing an owner, a cadence, a target or an escalation path."
    )
    async def governance_gaps(self, info: Info) -> list[GovernanceGap]:
        async with info.context.db.acquire() as con:
            found = await reports.governance_gaps(con)
        return [convert(GovernanceGap, g) for g in found]

    @strawberry.field(description="Escalations, newest first, with their events; cursor-paginated.")
    async def escalations(
        self, info: Info, state: str | None = None, kpi: str | None = None, first: int = 50,
        after: str | None = None,
    ) -> Page[Escalation]:  # fmt: skip
        size = page_size(first)
        async with info.context.db.acquire() as con:
            found = await escalation.list_escalations(
                con, state=state, kpi=kpi, before_id=decode_cursor(after), limit=size + 1
            )
        return page(found, size, lambda e: convert(Escalation, e))
