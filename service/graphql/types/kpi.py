"""The Kpi node: definition, owners, escalation path, targets, edges and its series."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from service.graphql.loaders import HISTORY_PAGE, HistoryKey, ready
from service.graphql.types.burn_alert import BurnAlert, BurnPolicy
from service.graphql.types.common import (
    Connection,
    Contribution,
    Info,
    OptionalFrom,
    Owners,
    SeriesPoint,
    copied,
    decode_cursor,
    encode_cursor,
    load_node,
    page_of_edge,
    page_of_links,
    page_of_list,
    page_size,
)
from service.graphql.types.data_source import PrometheusSli
from service.graphql.types.reports import KpiStatus, convert, period_report
from service.models import enums
from service.models.burn_alerts import BurnAlert as BurnAlertModel
from service.models.burn_alerts import BurnAlertState
from service.models.burn_alerts import BurnPolicy as BurnPolicyModel
from service.models.catalog import Kpi as KpiModel
from service.models.catalog import Target as TargetModel
from service.models.enums import ChangeKind, Scope
from service.models.instants import check_instant
from service.models.statuses import KpiStatus as StatusModel
from service.store import metrics
from service.store import services as service_store
from service.usecases import measure, statuses

if TYPE_CHECKING:
    from service.graphql.types.initiative import Initiative
    from service.graphql.types.outcome import Outcome
    from service.graphql.types.service import Service


@strawberry.type
class EscalationStep:
    position: int
    who: str
    channel: enums.Channel
    address: str
    after_breached_periods: int
    after_unacknowledged_minutes: int | None


@strawberry.type(description="Target value and warning threshold from a date, for a scope.")
class Target:
    id: int
    service: str | None
    tier: int | None
    value: float
    warning: float | None
    effective_from: dt.date
    effective_to: dt.date | None

    @classmethod
    def of(cls, m: TargetModel) -> Target:
        return copied(cls, m)


@strawberry.type
class OutcomeContribution(Contribution[Any]):
    node: Annotated[Outcome, strawberry.lazy("service.graphql.types.outcome")] = strawberry.field(
        name="outcome"
    )


@strawberry.type(description="Which incidents and changes a builtin KPI counts.")
class BuiltinFilter:
    severities: list[enums.Severity] | None
    environments: list[str] | None
    change_kinds: list[ChangeKind] | None


@strawberry.type(description="A KPI definition and what hangs off it.")
class Kpi:
    model: strawberry.Private[KpiModel]
    key: str
    name: str
    strategic_question: str | None
    business_impact: str | None
    unit: str
    direction: enums.Direction
    aggregation: enums.Aggregation | None
    kind: enums.KpiKind
    metric: enums.BuiltinMetric | None
    cadence: enums.Cadence | None
    time_zone: str | None = strawberry.field(
        description="The KPI's own IANA time zone for its periods and series buckets; null: "
        "the organisation's (KPI_TIME_ZONE)."
    )
    board_level: bool
    tags: list[str]
    owners: Owners
    filter: BuiltinFilter | None
    availability_kpi: str | None = strawberry.field(
        description="For an error budget KPI: the availability KPI whose targets are its "
        "objectives."
    )
    prometheus: PrometheusSli | None = strawberry.field(
        description="For a ratio KPI: its good and total events from Prometheus queries."
    )

    @strawberry.field(
        description="Who is told, how and when the KPI stays breached; webhook URLs whole for "
        "admin tokens only, others get the URL's host."
    )
    def escalation_path(self, info: Info) -> list[EscalationStep]:
        # built once per request for each KPI row, wherever the KPI appears
        nodes = info.context.nodes
        key = ("escalation", self.model.id)
        held = nodes.get(key)
        if held is None or held[0] is not self.model:
            admin = info.context.principal.allows(Scope.ADMIN)
            steps = [
                EscalationStep(position=i + 1, **step.model_dump())
                for i, step in enumerate(self.model.as_seen(admin=admin).escalation_path)
            ]
            held = nodes[key] = (self.model, steps)
        path: list[EscalationStep] = held[1]
        return path

    @classmethod
    def of(cls, m: KpiModel) -> Kpi:
        return copied(
            cls, m, model=m, owners=Owners.of(m),
            filter=BuiltinFilter(**m.filter.model_dump()) if m.filter else None,
            prometheus=PrometheusSli.of(m.prometheus) if m.prometheus else None,
        )  # fmt: skip

    @classmethod
    def node(cls, info: Info, m: KpiModel) -> Kpi:
        """The request's one object for this KPI row, wherever it appears."""
        nodes = info.context.nodes
        key = ("kpi", m.id)
        found = nodes.get(key)
        if found is None or found.model is not m:
            found = nodes[key] = cls.of(m)
        return found

    @strawberry.field(description="For a ratio KPI: the KPI divided.")
    async def numerator(self, info: Info) -> Kpi | None:
        return await self._by_key(info, self.model.numerator)

    @strawberry.field(description="For a ratio KPI: the KPI divided by.")
    async def denominator(self, info: Info) -> Kpi | None:
        return await self._by_key(info, self.model.denominator)

    @staticmethod
    async def _by_key(info: Info, key: str | None) -> Kpi | None:
        if key is None:
            return None
        return await load_node(info.context.loaders.kpi_by_key, key, Kpi.of)

    @strawberry.field(
        description="Targets (service ones, tier ones, then global, each by "
        "start date); cursor-paginated."
    )
    def targets(self, info: Info, first: int = 50, after: str | None = None
                ) -> Connection[Target]:  # fmt: skip
        nodes = info.context.nodes
        page_size(first)

        def wrap(found: list[TargetModel]) -> Connection[Target]:
            key = ("targets", id(found))
            held = nodes.get(key)
            if held is None or held[0] is not found:
                held = nodes[key] = (found, [Target.of(t) for t in found])
            return page_of_list(held[1], first, after)

        return ready(info.context.loaders.targets_of_kpi.load(self.model.id), wrap)

    @strawberry.field(description="Outcomes this KPI contributes to; cursor-paginated.")
    async def outcomes(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[OutcomeContribution]:
        from service.graphql.types.outcome import Outcome

        loaders = info.context.loaders
        return await page_of_links(loaders.outcome_links_of_kpi, self.model.id, loaders.outcome,
                                   Outcome.of, OutcomeContribution, first, after)  # fmt: skip

    @strawberry.field(description="Initiatives meant to move this KPI; cursor-paginated.")
    async def initiatives(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Annotated[Initiative, strawberry.lazy("service.graphql.types.initiative")]]:
        from service.graphql.types.initiative import Initiative

        loaders = info.context.loaders
        return await page_of_edge(loaders.initiatives_of_kpi, self.model.id, loaders.initiative,
                                  Initiative.of, first, after)  # fmt: skip

    @strawberry.field(description="Services this KPI applies to; cursor-paginated.")
    async def services(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Annotated[Service, strawberry.lazy("service.graphql.types.service")]]:
        from service.graphql.types.service import services_page

        edge = info.context.loaders.services_of_kpi
        return await services_page(info, edge, self.model.id, first, after)

    @strawberry.field(
        description="The KPI's series bucketed by grain (UTC), for a service, a team, a tier "
        "or the fleet: observed points combined by the KPI's aggregation, builtin metrics for "
        "every bucket up to now (null where undefined), ratios divided bucket by bucket. "
        "Months whose points retention has dropped keep their figures at DAY and coarser "
        "grains and have no buckets at HOUR."
    )
    async def series(
        self, info: Info, service: str | None = None, team: str | None = None,
        tier: int | None = None, from_: OptionalFrom = None, to: dt.datetime | None = None,
        grain: enums.Grain = enums.Grain.DAY,
    ) -> list[SeriesPoint]:  # fmt: skip
        from_, to = check_instant("from", from_), check_instant("to", to)
        async with info.context.db.acquire() as con:
            scope = await metrics.scope_of_kpi(
                con, self.model, service=service, team=team, tier=tier
            )
            points = await measure.series(
                con, kpi=self.model, scope=scope, grain=enums.Grain(grain), start=from_, end=to,
                now=info.context.now(),
            )  # fmt: skip
        return [SeriesPoint.of(p) for p in points]

    @strawberry.field(
        description="The status for the period of the KPI's cadence holding `period` (default: "
        "the last closed one), overall or for one service: stored if evaluated, else computed "
        "now (evaluatedAt null)."
    )
    async def status(
        self, info: Info, period: dt.datetime | None = None, service: str | None = None
    ) -> KpiStatus:
        status = partial(statuses.status_for, kpi=self.model, service=service)
        return await period_report(info, period, status, KpiStatus)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The burn-rate policy watching the KPI's error budget (null: none)."
    )
    def burn_policy(self, info: Info) -> BurnPolicy | None:
        def wrap(found: BurnPolicyModel | None) -> BurnPolicy | None:
            return None if found is None else convert(BurnPolicy, found)

        return ready(info.context.loaders.burn_policy_of_kpi.load(self.model.id), wrap)

    @strawberry.field(
        description="Burn-rate alerts the KPI's rules fired, newest first (of the latest 200; "
        "`state`: firing or resolved only); cursor-paginated."
    )
    def burn_alerts(
        self, info: Info, state: BurnAlertState | None = None, first: int = 50,
        after: str | None = None,
    ) -> Connection[BurnAlert]:  # fmt: skip
        page_size(first)

        def wrap(found: list[BurnAlertModel]) -> Connection[BurnAlert]:
            chosen = [a for a in found if state is None or a.state is state]
            return page_of_list([convert(BurnAlert, a) for a in chosen], first, after)

        return ready(info.context.loaders.burn_alerts_of_kpi.load(self.model.id), wrap)

    @strawberry.field(
        description="Stored statuses, newest period first (before `before` if given); "
        "cursor-paginated."
    )
    def status_history(
        self, info: Info, service: str | None = None, before: dt.datetime | None = None,
        first: int = HISTORY_PAGE, after: str | None = None,
    ) -> Connection[KpiStatus]:  # fmt: skip
        before = history_start(check_instant("before", before), after)
        size = page_size(first)
        if service is not None:
            return self._service_history(info, service, before, size)  # type: ignore[return-value]
        key = HistoryKey(self.model.id, self.model.key, None, None, before, size + 1)
        return ready(info.context.loaders.status_history.load(key), history_page(info, key, size))

    async def _service_history(
        self, info: Info, service: str, before: dt.datetime | None, size: int
    ) -> Connection[KpiStatus]:
        async with info.context.db.acquire() as con:
            (service_id,) = await service_store.service_ids(con, [service], field="service")
        key = HistoryKey(self.model.id, self.model.key, service_id, service, before, size + 1)
        found = await info.context.loaders.status_history.load(key)
        return history_page(info, key, size)(found)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def history_start(before: dt.datetime | None, after: str | None) -> dt.datetime | None:
    """Periods before this start: `before`, or the cursor's period if earlier."""
    micros = decode_cursor(after, "period")
    if micros is None:
        return before
    cursor = _EPOCH + dt.timedelta(microseconds=micros)
    return cursor if before is None else min(before, cursor)


def _period_cursor(st: StatusModel) -> str:
    return encode_cursor((st.period_start - _EPOCH) // dt.timedelta(microseconds=1), "period")


def _status_node(st: StatusModel) -> KpiStatus:
    """convert(KpiStatus, st) for a model of plain fields only: the same object, built
    directly (the generic conversion walks every field's type)."""
    return KpiStatus(**dict(st))


def history_page(
    info: Info, key: HistoryKey, size: int
) -> Callable[[list[StatusModel]], Connection[KpiStatus]]:
    """A page of stored statuses (read `size + 1` to know whether more follow) as GraphQL
    objects, built once per request for each KPI and page."""
    nodes = info.context.nodes

    def wrap(found: list[StatusModel]) -> Connection[KpiStatus]:
        held = nodes.get(key)
        if held is None or held[0] is not found:
            built = Connection.of([(_period_cursor(st), _status_node(st)) for st in found[:size]],
                                  len(found) > size)  # fmt: skip
            held = nodes[key] = (found, built)
        page: Connection[KpiStatus] = held[1]
        return page

    return wrap
