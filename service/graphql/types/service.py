"""The business Service node and its edges: team, dependencies both ways, KPIs, outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry

from service.graphql.loaders import ChangeFilter, IncidentFilter, PageFilter, WindowKey, ready
from service.graphql.read_model import selection
from service.graphql.types.common import (
    Connection,
    From,
    Info,
    Label,
    OptionalFrom,
    Owners,
    copied,
    decode_cursor,
    page_by_id,
    page_mapped,
    page_of_edge,
    page_of_list,
    page_size,
)
from service.graphql.types.deploy_gate import (
    ChangeAnnotation,
    DeployGate,
    ErrorBudgetPolicy,
    MaintenanceWindow,
)
from service.graphql.types.incident import Change, Incident
from service.graphql.types.reports import (
    AvailabilityReport,
    DoraReport,
    IncidentReport,
    SpendReport,
    convert,
)
from service.graphql.types.team import Ownership, Team
from service.kpi.periods import Period
from service.models import enums
from service.models.catalog import Kpi as KpiModel
from service.models.catalog import Outcome as OutcomeModel
from service.models.catalog import Service as ServiceModel
from service.models.enums import ChangeStatus
from service.models.instants import check_instant
from service.models.maintenance import MaintenanceWindow as WindowModel
from service.store.metrics import MetricScope
from service.usecases import reports

F = TypeVar("F", bound=PageFilter)

if TYPE_CHECKING:
    from strawberry.dataloader import DataLoader

    from service.graphql.types.initiative import Initiative
    from service.graphql.types.outcome import Outcome
    from service.graphql.types.service_kpi import ServiceKpi


async def services_page(
    info: Info, edge: DataLoader[int, list[int]], key: int, first: int, after: str | None
) -> Connection[Service]:
    """A page of the services an edge loader gives for `key` (a service, KPI, team ...)."""
    return await page_of_edge(edge, key, info.context.loaders.service, Service.of, first, after)


def page_filter(
    kind: type[F], from_: dt.datetime | None, to: dt.datetime | None, after: str | None,
    size: int, **only: tuple[str, ...],
) -> F:  # fmt: skip
    """The filter of a page of a service's incidents or changes: those overlapping the window
    `from_` to `to`, `only` those of the values given, at most `size` after the cursor (one
    more is read to know whether more follow)."""
    return kind(start=check_instant("from", from_), end=check_instant("to", to),
                before_id=decode_cursor(after), limit=size + 1, **only)  # fmt: skip


def window_report(
    report: Callable[[Info], DataLoader[WindowKey, Any]], graphql_type: Any, description: str
) -> Any:
    """A field of a service's report over the window `from` to `to` (default now), which the
    loader `report` chooses for the field's selection gives."""

    async def resolve(
        self: Service, info: Info, from_: From,
        to: dt.datetime | None = None,
    ) -> Any:  # fmt: skip
        _, window, now = await self._window(info, from_, to)
        found = await report(info).load(WindowKey(self.id, window, now))
        assert found is not None
        return convert(graphql_type, found)

    return strawberry.field(resolver=resolve, graphql_type=graphql_type, description=description)


#: What `incidentStats` may select and still be answered from the resolution times by
#: severity alone: its fields, and those of each `bySeverity` group.
RESOLUTION_REPORT_FIELDS = frozenset({"window", "bySeverity", "__typename"})
RESOLUTION_GROUP_FIELDS = frozenset({"severity", "incidents", "mttr", "__typename"})


def incident_stats_loader(info: Info) -> DataLoader[WindowKey, Any]:
    """The loader of an `incidentStats` field: the resolution times by severity alone when
    that is all its selection asks for (a portal's MTTR by severity), else every figure."""
    loaders = info.context.loaders
    selected = selection(info).under(info.field_name)
    groups = selected.under("bySeverity")
    if {f.name for f in selected.fields} <= RESOLUTION_REPORT_FIELDS and {
        f.name for f in groups.fields
    } <= RESOLUTION_GROUP_FIELDS:
        return loaders.incident_resolution
    return loaders.incident_stats


@strawberry.type(description="A business service, as the business sees it.")
class Service:
    id: strawberry.Private[int]
    team_id: strawberry.Private[int | None]
    slug: str
    name: str
    tier: int
    revenue_per_hour: float | None
    users: int | None
    outage_threshold: enums.Severity
    owners: Owners
    attributes: list[Label] = strawberry.field(
        description="Free-form pairs to group figures by (vendor ...), by name."
    )
    entity_ref: str = strawberry.field(
        description="The service's Backstage entity reference: component:default/checkout."
    )

    @classmethod
    def of(cls, m: ServiceModel) -> Service:
        return copied(cls, m, owners=Owners.of(m), attributes=Label.pairs(m.attributes))

    @strawberry.field
    def team(self, info: Info) -> Team | None:
        if self.team_id is None:
            return None
        return ready(info.context.loaders.team.load(self.team_id),
                     lambda team: Team.of(team) if team else None)  # fmt: skip

    @strawberry.field(
        description="The teams that owned this service, oldest first, with when each took it "
        "over and handed it on (the current owner's `until` is null)."
    )
    def team_history(self, info: Info) -> list[Ownership]:
        return ready(info.context.loaders.teams.ownership.load(self.id),
                     lambda rows: [Ownership.from_pydantic(r) for r in rows])  # fmt: skip

    @strawberry.field(description="Services this one depends on; cursor-paginated.")
    async def dependencies(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Service]:
        return await services_page(info, info.context.loaders.dependencies, self.id, first, after)

    @strawberry.field(description="Services that depend on this one; cursor-paginated.")
    async def dependents(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Service]:
        return await services_page(info, info.context.loaders.dependents, self.id, first, after)

    @strawberry.field(
        description="The KPIs that apply to this service, each with this service's own status, "
        "series and status history; cursor-paginated."
    )
    def kpis(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[
        Annotated[ServiceKpi, strawberry.lazy("service.graphql.types.service_kpi")]
    ]:  # fmt: skip
        from service.graphql.types.kpi import Kpi
        from service.graphql.types.service_kpi import ServiceKpi

        page_size(first)

        def page(kpis: list[KpiModel]) -> Connection[ServiceKpi]:
            window = page_of_list(kpis, first, after)
            return page_mapped(
                window,
                window.nodes,
                lambda k: ServiceKpi(service_id=self.id, kpi=Kpi.node(info, k)),
            )

        return ready(info.context.loaders.kpis_of_service.load(self.id), page)

    @strawberry.field(
        description="Outcomes served, through the KPIs that apply here; cursor-paginated."
    )
    def outcomes(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Annotated[Outcome, strawberry.lazy("service.graphql.types.outcome")]]:
        from service.graphql.types.outcome import Outcome

        page_size(first)

        def page(outcomes: list[OutcomeModel]) -> Connection[Outcome]:
            window = page_of_list(outcomes, first, after)
            return page_mapped(window, window.nodes, Outcome.of)

        return ready(info.context.loaders.outcomes_of_service.load(self.id), page)

    @strawberry.field(description="Initiatives that change this service; cursor-paginated.")
    async def initiatives(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Annotated[Initiative, strawberry.lazy("service.graphql.types.initiative")]]:
        from service.graphql.types.initiative import Initiative

        loaders = info.context.loaders
        return await page_of_edge(loaders.initiatives_of_service, self.id, loaders.initiative,
                                  Initiative.of, first, after)  # fmt: skip

    @strawberry.field(
        description="Incidents of this service overlapping the window, newest first; "
        "cursor-paginated."
    )
    async def incidents(
        self, info: Info, from_: OptionalFrom = None, to: dt.datetime | None = None,
        severity: list[enums.Severity] | None = None, status: list[str] | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[Incident]:  # fmt: skip
        size = page_size(first)
        f = page_filter(IncidentFilter, from_, to, after, size,
                        severities=tuple(s.value for s in severity or ()),
                        statuses=tuple(status or ()))  # fmt: skip
        found = await info.context.loaders.incidents_of_service.load((self.id, f))
        return page_by_id([Incident.of(i) for i in found], size, lambda i: i.id)

    @strawberry.field(
        description="Changes of this service overlapping the window, newest first; "
        "cursor-paginated."
    )
    async def changes(
        self, info: Info, from_: OptionalFrom = None, to: dt.datetime | None = None,
        environment: list[str] | None = None, status: list[ChangeStatus] | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[Change]:  # fmt: skip
        size = page_size(first)
        f = page_filter(ChangeFilter, from_, to, after, size,
                        environments=tuple(environment or ()),
                        statuses=tuple(s.value for s in status or ()))  # fmt: skip
        found = await info.context.loaders.changes_of_service.load((self.id, f))
        return page_by_id([Change.of(c) for c in found], size, lambda c: c.id)

    async def _window(
        self, info: Info, from_: dt.datetime, to: dt.datetime | None
    ) -> tuple[MetricScope, Period, dt.datetime]:
        now = info.context.now()
        start = check_instant("from", from_)
        assert start is not None
        end = check_instant("to", to) or now
        scope = MetricScope("service", self.slug, (self.id,))
        return scope, reports.measured_window(start, end, now), now

    @strawberry.field(
        description="Availability over the window (up to now): merged outage time, the "
        "target (service, tier or global target of `kpi`, else of the availability KPI that "
        "applies to the service, else of the only one there is; else the tier default), "
        "error budget and burn rate."
    )
    async def availability(
        self, info: Info, from_: From,
        to: dt.datetime | None = None, kpi: str | None = None,
    ) -> AvailabilityReport:  # fmt: skip
        from service.graphql.loaders import AvailabilityKey

        _, window, now = await self._window(info, from_, to)
        key = AvailabilityKey(self.id, window, now, kpi)
        report = await info.context.loaders.availability.load(key)
        assert report is not None
        return convert(AvailabilityReport, report)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Maintenance windows announced for this service, by start; cursor-paginated."
    )
    def maintenance_windows(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[MaintenanceWindow]:
        page_size(first)

        def page(found: list[WindowModel]) -> Connection[MaintenanceWindow]:
            window = page_of_list(found, first, after)
            return page_mapped(window, window.nodes, MaintenanceWindow.of)

        return ready(info.context.loaders.gates.maintenance_windows.load(self.id), page)

    @strawberry.field(description="The service's error-budget policy, if it has one.")
    def error_budget_policy(self, info: Info) -> ErrorBudgetPolicy | None:
        return ready(info.context.loaders.gates.policy.load(self.id),
                     lambda p: ErrorBudgetPolicy.of(p) if p else None)  # fmt: skip

    @strawberry.field(
        description="Whether a change of `changeType` may go out now: allow or freeze from "
        "the error budget over the policy's window, as GET /v1/services/{slug}/deploy-gate."
    )
    def deploy_gate(
        self, info: Info, change_type: enums.ChangeKind = enums.ChangeKind.DEPLOY
    ) -> DeployGate:
        from service.graphql.gate_loaders import GateKey

        key = GateKey(self.id, change_type, info.context.now())
        return ready(info.context.loaders.gates.gate.load(key), DeployGate.of)

    @strawberry.field(
        description="The service's change annotations (deploy-gate overrides), newest first; "
        "cursor-paginated."
    )
    async def change_annotations(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[ChangeAnnotation]:
        from service.graphql.gate_loaders import AnnotationPage

        size = page_size(first)
        # One more than the page, to know whether more follow.
        key = AnnotationPage(self.id, decode_cursor(after), size + 1)
        found = await info.context.loaders.gates.annotations.load(key)
        return page_by_id([ChangeAnnotation.of(a) for a in found], size, lambda a: a.id)

    incident_stats = window_report(
        incident_stats_loader, IncidentReport,
        "Incidents whose impact started in the window: MTTD, MTTA, MTTR and time to restore "
        "(mean, median, p90 in minutes) overall and by severity; recurrence, users affected and "
        "downtime cost.",
    )  # fmt: skip
    dora = window_report(
        lambda info: info.context.loaders.dora, DoraReport,
        "The DORA keys over production changes finished in the window, each with its DORA 2023 "
        "band, and the rework rate.",
    )  # fmt: skip
    spend = window_report(
        lambda info: info.context.loaders.spend, SpendReport,
        "Spend in the window per currency and category.",
    )  # fmt: skip
