"""The edge from a service to a KPI that applies to it: the KPI, and its status, series and
status history as that service's own (not the KPI's fleet-wide figures)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from service.graphql.loaders import HISTORY_PAGE, HistoryKey, ServiceSeriesKey, ServiceStatusKey
from service.graphql.types.common import Connection, Info, OptionalFrom, SeriesPoint, page_size
from service.graphql.types.kpi import Kpi, history_page, history_start
from service.graphql.types.reports import KpiStatus, convert
from service.models import enums
from service.models.instants import check_instant

if TYPE_CHECKING:
    from service.graphql.types.service import Service


@strawberry.type(
    description="A KPI as it applies to one service: its status, series and status history "
    "are that service's own, against the service's target (its own, its tier's or the "
    "global one)."
)
class ServiceKpi:
    service_id: strawberry.Private[int]
    kpi: Kpi

    @strawberry.field(description="The service.")
    async def service(
        self, info: Info
    ) -> Annotated[Service, strawberry.lazy("service.graphql.types.service")]:
        from service.graphql.types.service import Service

        found = await info.context.loaders.service.load(self.service_id)
        assert found is not None
        return Service.of(found)

    @strawberry.field(
        description="The service's status for the period of the KPI's cadence holding "
        "`period` (default: the last closed one): stored if evaluated, else computed now "
        "(evaluatedAt null); null for a KPI without a cadence."
    )
    async def status(self, info: Info, period: dt.datetime | None = None) -> KpiStatus | None:
        key = ServiceStatusKey(
            self.kpi.model.id, self.service_id, check_instant("period", period),
            info.context.now(),
        )  # fmt: skip
        found = await info.context.loaders.service_status.load(key)
        return None if found is None else convert(KpiStatus, found)

    @strawberry.field(
        description="The KPI's series for this service, bucketed by grain (UTC); as "
        "Kpi.series(service:)."
    )
    async def series(
        self,
        info: Info,
        from_: OptionalFrom = None,
        to: dt.datetime | None = None,
        grain: enums.Grain = enums.Grain.DAY,
    ) -> list[SeriesPoint]:
        key = ServiceSeriesKey(
            self.kpi.model.id, self.service_id, enums.Grain(grain), check_instant("from", from_),
            check_instant("to", to), info.context.now(),
        )  # fmt: skip
        return [SeriesPoint.of(p) for p in await info.context.loaders.service_series.load(key)]

    @strawberry.field(
        description="The service's stored statuses, newest period first (before `before` if "
        "given); cursor-paginated."
    )
    async def status_history(
        self, info: Info, before: dt.datetime | None = None, first: int = HISTORY_PAGE,
        after: str | None = None,
    ) -> Connection[KpiStatus]:  # fmt: skip
        start = history_start(check_instant("before", before), after)
        size = page_size(first)
        found = await info.context.loaders.service.load(self.service_id)
        assert found is not None
        key = HistoryKey(self.kpi.model.id, self.kpi.model.key, self.service_id, found.slug,
                         start, size + 1)  # fmt: skip
        return history_page(info, key, size)(await info.context.loaders.status_history.load(key))
