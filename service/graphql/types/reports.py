"""Leader-facing GraphQL types, generated from the pydantic models the REST API answers with,
so both speak the same fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry.experimental.pydantic as from_model

from service.graphql.types.common import Info
from service.models import reports, statuses
from service.models.instants import check_instant


@from_model.type(model=reports.Window, all_fields=True)
class Window:
    pass


@from_model.type(model=reports.AvailabilityReport, all_fields=True)
class AvailabilityReport:
    pass


@from_model.type(model=reports.DurationStats, all_fields=True)
class DurationStats:
    pass


@from_model.type(model=reports.IncidentGroup, all_fields=True)
class IncidentGroup:
    pass


@from_model.type(model=reports.IncidentReport, all_fields=True)
class IncidentReport:
    pass


@from_model.type(model=reports.BandedValue, all_fields=True)
class BandedValue:
    pass


@from_model.type(model=reports.DoraReport, all_fields=True)
class DoraReport:
    pass


@from_model.type(model=reports.FailureCluster, all_fields=True)
class FailureCluster:
    pass


@from_model.type(model=reports.FailureClusters, all_fields=True)
class FailureClusters:
    pass


@from_model.type(model=reports.CategoryAmount, all_fields=True)
class CategoryAmount:
    pass


@from_model.type(model=reports.CurrencySpend, all_fields=True)
class CurrencySpend:
    pass


@from_model.type(model=reports.SpendReport, all_fields=True)
class SpendReport:
    pass


@from_model.type(model=statuses.StatusDriver, all_fields=True)
class StatusDriver:
    pass


@from_model.type(model=reports.ScorecardItem, all_fields=True)
class ScorecardItem:
    pass


@from_model.type(model=reports.Scorecard, all_fields=True)
class Scorecard:
    pass


@from_model.type(model=reports.KpiHealth, all_fields=True)
class KpiHealth:
    pass


@from_model.type(model=reports.OutcomeHealth, all_fields=True)
class OutcomeHealth:
    pass


@from_model.type(model=reports.ServiceAtRisk, all_fields=True)
class ServiceAtRisk:
    pass


@from_model.type(model=reports.GovernanceGap, all_fields=True)
class GovernanceGap:
    pass


@from_model.type(model=statuses.KpiStatus, all_fields=True)
class KpiStatus:
    pass


@from_model.type(model=statuses.EscalationEvent, all_fields=True)
class EscalationEvent:
    pass


@from_model.type(model=statuses.Escalation, all_fields=True)
class Escalation:
    pass


def convert(graphql_type: Any, value: Any) -> Any:
    """The GraphQL object of a pydantic value (nested models converted too)."""
    return graphql_type.from_pydantic(value)


async def period_report(
    info: Info, period: dt.datetime | None, read: Callable[..., Awaitable[Any]], graphql_type: Any
) -> Any:
    """The GraphQL object of what `read` finds for the period holding `period` (None: the
    last closed one): `read` takes the connection, then that instant and now as `on` and
    `now`."""
    on = check_instant("period", period)
    async with info.context.db.acquire() as con:
        found = await read(con, on=on, now=info.context.now())
    return convert(graphql_type, found)
