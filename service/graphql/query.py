"""The GraphQL queries (scope read): the catalog, incidents and changes, deliveries and the
reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from service.errors import invalid
from service.graphql import read_model
from service.graphql.types.audit import AuditEntry
from service.graphql.types.burn_alert import BurnAlert
from service.graphql.types.common import Connection as Page
from service.graphql.types.common import (
    From,
    Info,
    OptionalFrom,
    decode_cursor,
    encode_cursor,
    load_node,
    page_of_list,
    page_size,
)
from service.graphql.types.data_source import DataSource
from service.graphql.types.delivery import Delivery
from service.graphql.types.incident import Change, Incident
from service.graphql.types.initiative import Initiative
from service.graphql.types.kpi import Kpi
from service.graphql.types.outcome import Outcome
from service.graphql.types.reports import (
    Escalation,
    FailureClusters,
    GovernanceGap,
    Scorecard,
    convert,
    period_report,
)
from service.graphql.types.service import Service
from service.graphql.types.team import Team
from service.models.burn_alerts import BurnAlertState
from service.models.enums import ClusterDimension, ClusterOrder, Scope, Severity
from service.models.instants import check_instant
from service.store import deliveries as ingest_store
from service.store import initiatives as initiative_store
from service.store import kpis as kpi_store
from service.store import outcomes as outcome_store
from service.store import services as service_store
from service.store import teams as team_store
from service.store.metrics import resolve_scope
from service.usecases import (
    audit,
    backstage,
    burn_alerts,
    clusters,
    data_sources,
    escalation,
    reports,
)

N = TypeVar("N")
R = TypeVar("R")


def page(items: list[Any], first: int, wrap: Callable[[Any], N]) -> Page[N]:
    more = len(items) > first
    return Page.of([(encode_cursor(i.id), wrap(i)) for i in items[:first]], more)


async def read_page(
    info: Info, first: int, wrap: Callable[[R], N], read: Callable[..., Awaitable[list[R]]]
) -> Page[N]:
    """A page of `first` rows in id order, each wrapped as a node: `read` takes the connection
    and the `limit` of rows to read (one more than the page, to know whether more follow)."""
    size = page_size(first)
    async with info.context.db.acquire() as con:
        rows = await read(con, limit=size + 1)
    return page(rows, size, wrap)


def _lookup(slug: str | None, ref: str | None) -> tuple[str, bool]:
    """The key of a lookup by slug or by Backstage entity reference (exactly one of them),
    and whether it is a reference."""
    if slug is not None and ref is None:
        return slug, False
    if ref is not None and slug is None:
        return ref, True
    raise invalid("ref", "give a slug or a ref (a Backstage entity reference): one of the two")


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

    @strawberry.field(
        description="One service, by slug or by Backstage entity reference (kind and "
        "namespace may be left out: `checkout` is `component:default/checkout`)."
    )
    async def service(
        self, info: Info, slug: str | None = None, ref: str | None = None
    ) -> Service | None:
        key, by_ref = _lookup(slug, ref)
        if not by_ref:
            return await load_node(info.context.loaders.service_by_slug, key, Service.of)
        async with info.context.db.acquire() as con:
            found = await backstage.services_of_ref(con, key)
        return Service.of(found[0]) if found else None

    @strawberry.field(description="KPI definitions, ordered by creation; cursor-paginated.")
    async def kpis(
        self, info: Info, first: int = 50, after: str | None = None,
        board_level: bool | None = None,
    ) -> Page[Kpi]:  # fmt: skip
        read = partial(kpi_store.list_kpis, after_id=decode_cursor(after), board_level=board_level)
        return await read_page(info, first, Kpi.of, read)

    @strawberry.field
    async def kpi(self, info: Info, key: str) -> Kpi | None:
        return await load_node(info.context.loaders.kpi_by_key, key, Kpi.of)

    @strawberry.field
    async def outcomes(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Page[Outcome]:
        read = partial(outcome_store.page_outcomes, after_id=decode_cursor(after) or 0)
        return await read_page(info, first, Outcome.of, read)

    @strawberry.field
    async def outcome(self, info: Info, slug: str) -> Outcome | None:
        async with info.context.db.acquire() as con:
            found = await outcome_store.list_outcomes(con, slugs=[slug])
        return Outcome.of(found[0]) if found else None

    @strawberry.field(description="Initiatives (technology programs), by key; cursor-paginated.")
    async def initiatives(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Page[Initiative]:
        page_size(first)
        async with info.context.db.acquire() as con:
            found = await initiative_store.list_initiatives(con)
        return page_of_list([Initiative.of(i) for i in found], first, after)

    @strawberry.field
    async def initiative(self, info: Info, key: str) -> Initiative | None:
        async with info.context.db.acquire() as con:
            found = await initiative_store.list_initiatives(con, keys=[key])
        return Initiative.of(found[0]) if found else None

    @strawberry.field
    async def incident(self, info: Info, id: int) -> Incident | None:
        return await load_node(info.context.loaders.incident, id, Incident.of)

    @strawberry.field
    async def change(self, info: Info, id: int) -> Change | None:
        return await load_node(info.context.loaders.change, id, Change.of)

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
        read = partial(ingest_store.list_deliveries, status=status, source=source,
                       before_id=decode_cursor(after))  # fmt: skip
        return await read_page(info, first, Delivery.from_pydantic, read)

    @strawberry.field(
        description="The audit trail of catalog changes, newest first (admin scope), by "
        "entity kind and key, actor name or token id, and time; cursor-paginated."
    )
    async def audit_entries(
        self, info: Info, kind: str | None = None, key: str | None = None,
        actor: str | None = None, token_id: int | None = None, from_: OptionalFrom = None,
        to: dt.datetime | None = None, first: int = 50, after: str | None = None,
    ) -> Page[AuditEntry]:  # fmt: skip
        if not info.context.principal.allows(Scope.ADMIN):
            raise GraphQLError(
                "the audit trail needs the 'admin' scope",
                extensions={"code": "FORBIDDEN", "required_scope": "admin"},
            )
        read = partial(audit.list_entries, kind=kind, key=key, actor=actor, token_id=token_id,
                       start=check_instant("from", from_), end=check_instant("to", to),
                       before_id=decode_cursor(after))  # fmt: skip
        return await read_page(info, first, AuditEntry.of, read)

    @strawberry.field(
        description="Data sources KPIs take SLIs from, by id, with their SLIs' state (admin "
        "scope); cursor-paginated."
    )
    async def data_sources(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Page[DataSource]:
        if not info.context.principal.allows(Scope.ADMIN):
            raise GraphQLError(
                "data sources need the 'admin' scope",
                extensions={"code": "FORBIDDEN", "required_scope": "admin"},
            )
        size, since = page_size(first), decode_cursor(after) or 0
        async with info.context.db.acquire() as con:
            found = await data_sources.list_data_sources(con)
        return page(sorted((d for d in found if d.id > since), key=lambda d: d.id), size,
                    DataSource.of)  # fmt: skip

    @strawberry.field(
        description="One team, by slug or by Backstage entity reference (kind and namespace "
        "may be left out: `payments-team` is `group:default/payments-team`)."
    )
    async def team(
        self, info: Info, slug: str | None = None, ref: str | None = None
    ) -> Team | None:
        key, by_ref = _lookup(slug, ref)
        async with info.context.db.acquire() as con:
            if by_ref:
                found = await backstage.teams_of_ref(con, key)
            else:
                found = await team_store.list_teams(con, slugs=[key])
        return Team.of(found[0]) if found else None

    @strawberry.field
    async def teams(self, info: Info, first: int = 50, after: str | None = None) -> Page[Team]:
        read = partial(team_store.page_teams, after_id=decode_cursor(after) or 0)
        return await read_page(info, first, Team.of, read)

    @strawberry.field(
        description="The board-level KPIs for the period of their cadence holding `period` "
        "(default: each KPI's last closed period), with value, target, status, trend and "
        "owners; warns when more than eight KPIs are flagged board-level."
    )
    async def scorecard(self, info: Info, period: dt.datetime | None = None) -> Scorecard:
        return await period_report(info, period, reports.scorecard, Scorecard)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Where change failures and restore time cluster: production changes "
        "finished in the window and incidents started in it, grouped by `by` (`name`: the "
        "service attribute or change label), the largest share of failures (or of restore "
        "time) first; only `team`'s or `tier`'s services when given."
    )
    async def failure_clusters(
        self, info: Info, by: ClusterDimension, from_: From, to: dt.datetime | None = None,
        name: str | None = None, team: str | None = None, tier: int | None = None,
        severities: list[Severity] | None = None, order: ClusterOrder = ClusterOrder.FAILURES,
    ) -> FailureClusters:  # fmt: skip
        now = info.context.now()
        start = check_instant("from", from_)
        assert start is not None
        end = check_instant("to", to) or now
        async with info.context.db.acquire() as con:
            scope = await resolve_scope(con, team=team, tier=tier)
            found = await clusters.failure_clusters(
                con, scope, reports.measured_window(start, end, now), now, by=by, name=name,
                severities=severities, order=order,
            )  # fmt: skip
        return convert(FailureClusters, found)  # type: ignore[no-any-return]

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
        read = partial(escalation.list_escalations, state=state, kpi=kpi,
                       before_id=decode_cursor(after))  # fmt: skip
        return await read_page(info, first, lambda e: convert(Escalation, e), read)

    @strawberry.field(
        description="Burn-rate alerts, newest first (`state: FIRING`: what burns now); "
        "cursor-paginated."
    )
    async def burn_alerts(
        self, info: Info, state: BurnAlertState | None = None, kpi: str | None = None,
        first: int = 50, after: str | None = None,
    ) -> Page[BurnAlert]:  # fmt: skip
        read = partial(burn_alerts.list_alerts, state=state, kpi=kpi,
                       before_id=decode_cursor(after))  # fmt: skip
        return await read_page(info, first, lambda a: convert(BurnAlert, a), read)
