"""KPI statuses, the scorecard, on-demand evaluation, escalations, service reports and
governance gaps: the REST mirror of the leaders' reads in the graph."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.errors import NotFound
from service.kpi.periods import Period
from service.models.catalog import Body, KpiKey
from service.models.enums import Cadence, ClusterDimension, ClusterOrder, Scope, Severity
from service.models.instants import Instant
from service.models.labels import LabelName
from service.models.reports import FailureClusters, GovernanceGap, Scorecard, ServiceReport
from service.models.statuses import Escalation, EscalationAction, KpiStatus
from service.rest import csv_tables
from service.rest.endpoint import Call, Endpoint, id_param, on_connection, path_param
from service.rest.team_reads import check_service
from service.store import kpis, metrics, services
from service.store import kpis as kpi_store
from service.store import services as service_store
from service.usecases import clusters, escalation, evaluation, reports, statuses


class PeriodQuery(BaseModel):
    period: Instant | None = Field(
        default=None,
        description="An instant inside the period wanted (ISO 8601 with zone); default: the "
        "last closed period of the KPI's cadence.",
    )
    service: str | None = Field(default=None, description="A service slug; omit for overall.")


async def kpi_status(call: Call) -> KpiStatus:
    """Stored if evaluated, else computed now (evaluated_at null)."""
    query: PeriodQuery = call.query
    async with call.connection() as con:
        kpi = await kpi_store.get_kpi(con, key=path_param(call, "key"))
        return await statuses.status_for(
            con, kpi, service=query.service, on=query.period, now=call.now()
        )


class HistoryQuery(BaseModel):
    service: str | None = Field(default=None, description="A service slug; omit for overall.")
    before: Instant | None = Field(default=None, description="Periods starting before this.")
    limit: int = Field(default=24, ge=1, le=1000)


async def kpi_status_history(call: Call) -> list[KpiStatus]:
    """Stored statuses, newest period first."""
    query: HistoryQuery = call.query
    async with call.connection() as con:
        kpi = await kpis.get_kpi(con, key=path_param(call, "key"))
        service_id = None
        if query.service is not None:
            (service_id,) = await service_store.service_ids(con, [query.service], field="service")
        return await statuses.history(
            con, kpi, service_id=service_id, slug=query.service, before=query.before,
            limit=query.limit,
        )  # fmt: skip


class ScorecardQuery(BaseModel):
    period: Instant | None = Field(
        default=None,
        description="An instant inside the periods wanted; default: each KPI's last closed period.",
    )


async def get_scorecard(call: Call) -> Scorecard:
    """The board-level KPIs with value, target, status, trend and owners."""
    query: ScorecardQuery = call.query
    async with call.connection() as con:
        return await reports.scorecard(con, query.period, call.now())


class EvaluateIn(Body):
    kpi: KpiKey | None = Field(default=None, description="One KPI; omit for every KPI with "
                               "a cadence.")  # fmt: skip
    period: Instant | None = Field(
        default=None, description="An instant inside the period; default: the last closed one."
    )
    cadence: Cadence | None = Field(default=None, description="Default: the KPI's own.")


async def evaluate(call: Call) -> list[KpiStatus]:
    """Evaluates now, stores (replacing the period's stored statuses) and escalates."""
    body: EvaluateIn = call.body
    async with call.connection() as con:
        return await evaluation.evaluate_on_demand(
            con, kpi=body.kpi, on=body.period, cadence=body.cadence, now=call.now()
        )


# Its fields are the keywords of the use case the handler passes them to.
class EscalationQuery(BaseModel):
    state: str | None = Field(default=None, pattern="^(open|acknowledged|resolved)$")
    kpi: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


async def list_escalations(call: Call) -> list[Escalation]:
    """Newest first, each with its events."""
    return await on_connection(call, escalation.list_escalations, **dict(call.query))


async def get_escalation(call: Call) -> Escalation:
    async with call.connection() as con:
        found = await escalation.list_escalations(con, escalation_id=id_param(call), limit=1)
    if not found:
        raise NotFound(f"no escalation {id_param(call)}")
    return found[0]


async def acknowledge_escalation(call: Call) -> Escalation:
    """Stops the steps that wait for an acknowledgement; breach-count steps still fire."""
    body: EscalationAction = call.body
    async with call.connection() as con:
        return await escalation.act(con, id_param(call), "acknowledge", body.by, body.note,
                                    call.now())  # fmt: skip


async def resolve_escalation(call: Call) -> Escalation:
    body: EscalationAction = call.body
    async with call.connection() as con:
        return await escalation.act(con, id_param(call), "resolve", body.by, body.note,
                                    call.now())  # fmt: skip


class WindowQuery(BaseModel):
    from_: Instant = Field(alias="from", description="Inclusive start, ISO 8601 with zone.")
    to: Instant | None = Field(default=None, description="Exclusive end; default now.")
    kpi: str | None = Field(
        default=None,
        description="The availability KPI whose targets apply (default: the builtin "
        "availability KPI that applies to the service, else the only one there is, else the "
        "tier default).",
    )


async def service_report(call: Call) -> ServiceReport:
    """Availability, incident statistics, DORA and spend of one service over a window."""
    query: WindowQuery = call.query
    now = call.now()
    slug = path_param(call, "slug")
    await check_service(call, slug)
    async with call.connection() as con:
        await services.get_service(con, slug=slug)
        scope = await metrics.resolve_scope(con, service=slug)
        window: Period = reports.measured_window(query.from_, query.to or now, now)
        objective = await reports.availability_kpi(con, query.kpi)
        return ServiceReport(
            service=slug,
            availability=await reports.availability(con, scope, window, now, objective),
            incidents=await reports.incident_report(con, scope, window, now),
            dora=await reports.dora(con, scope, window, now),
            spend=await reports.spend(con, scope, window, now),
        )


class ClustersQuery(BaseModel):
    by: ClusterDimension = Field(description="What to group by.")
    name: LabelName | None = Field(
        default=None,
        description="The attribute (by=service_attribute, e.g. vendor) or label "
        "(by=change_label) to group by.",
    )  # fmt: skip
    from_: Instant = Field(alias="from", description="Inclusive start, ISO 8601 with zone.")
    to: Instant | None = Field(default=None, description="Exclusive end; default now.")
    team: str | None = Field(default=None, description="Only this team's services.")
    tier: int | None = Field(
        default=None, ge=1, le=4, description="Only the services of this tier."
    )
    severity: list[Severity] | Severity | None = Field(
        default=None, description="Only incidents of these severities (default: every one)."
    )
    order: ClusterOrder = Field(
        default=ClusterOrder.FAILURES,
        description="Largest share of failed changes first, or of restore time.",
    )


async def failure_clusters(call: Call) -> FailureClusters:
    """Production changes, failures and incidents' restore time grouped by one dimension."""
    query: ClustersQuery = call.query
    now = call.now()
    severities = [query.severity] if isinstance(query.severity, Severity) else query.severity
    async with call.connection() as con:
        scope = await metrics.resolve_scope(con, team=query.team, tier=query.tier)
        window: Period = reports.measured_window(query.from_, query.to or now, now)
        return await clusters.failure_clusters(
            con, scope, window, now, by=query.by, name=query.name, severities=severities,
            order=query.order,
        )  # fmt: skip


async def governance_gaps(call: Call) -> list[GovernanceGap]:
    """KPIs missing an owner, a cadence, a target or an escalation path."""
    async with call.connection() as con:
        return await reports.governance_gaps(con)


ESCALATION = "/v1/escalations/{id:int}"
ENDPOINTS = [
    Endpoint("GET", "/v1/kpis/{key}/status", kpi_status, Scope.READ,
             "A KPI's status for a period", "statuses", response=KpiStatus, query=PeriodQuery,
             errors=(404, 409, 422), replica_reads=True),
    Endpoint("GET", "/v1/kpis/{key}/status-history", kpi_status_history, Scope.READ,
             "A KPI's stored statuses", "statuses", response=list[KpiStatus],
             query=HistoryQuery, errors=(404, 422), csv=csv_tables.STATUS_HISTORY,
             replica_reads=True),
    Endpoint("GET", "/v1/scorecard", get_scorecard, Scope.READ, "The board scorecard",
             "statuses", response=Scorecard, query=ScorecardQuery, errors=(422,),
             csv=csv_tables.SCORECARD, replica_reads=True),
    Endpoint("POST", "/v1/evaluate", evaluate, Scope.ADMIN, "Evaluate KPIs now", "statuses",
             body=EvaluateIn, response=list[KpiStatus], errors=(404, 413, 415, 422),
             description="Evaluates one KPI (or every KPI with a cadence) for a period, overall "
             "and per service it applies to, stores the statuses (replacing the period's) and "
             "opens, advances or closes escalations. The background evaluation does the same "
             "at each period close without replacing what is stored."),
    Endpoint("GET", "/v1/escalations", list_escalations, Scope.READ, "List escalations",
             "escalations", response=list[Escalation], query=EscalationQuery, errors=(422,),
             replica_reads=True),
    Endpoint("GET", ESCALATION, get_escalation, Scope.READ, "Get one escalation",
             "escalations", response=Escalation, errors=(404,), replica_reads=True),
    Endpoint("POST", ESCALATION + "/acknowledge", acknowledge_escalation, Scope.ADMIN,
             "Acknowledge an escalation", "escalations", body=EscalationAction,
             response=Escalation, errors=(404, 409, 413, 415, 422)),
    Endpoint("POST", ESCALATION + "/resolve", resolve_escalation, Scope.ADMIN,
             "Resolve an escalation", "escalations", body=EscalationAction,
             response=Escalation, errors=(404, 409, 413, 415, 422)),
    Endpoint("GET", "/v1/services/{slug}/report", service_report, Scope.READ,
             "A service's availability, incidents, DORA and spend", "statuses",
             response=ServiceReport, query=WindowQuery, errors=(404, 422),
             csv=csv_tables.SERVICE_REPORT, team_reads=True, replica_reads=True),
    Endpoint("GET", "/v1/failure-clusters", failure_clusters, Scope.READ,
             "Where change failures and restore time cluster", "statuses",
             response=FailureClusters, query=ClustersQuery, errors=(422,),
             description="Production changes finished in the window (and how many failed, as "
             "the change failure rate counts them) and incidents started in it (with their "
             "restore time), grouped by service, tier, team, change kind, environment, a "
             "service attribute such as vendor, or a change label; the group with the largest "
             "share of all failures (or of restore time) first.", replica_reads=True),
    Endpoint("GET", "/v1/governance-gaps", governance_gaps, Scope.READ,
             "KPIs missing owners, cadence, target or escalation path", "statuses",
             response=list[GovernanceGap], replica_reads=True),
]  # fmt: skip
