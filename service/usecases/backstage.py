"""What a Backstage portal asks: teams and services by entity reference, and the facts a Tech
Insights fact retriever collects (each service's KPIs, with their latest stored status)."""

from __future__ import annotations

from service.db import Connection
from service.errors import invalid
from service.models.backstage import BackstageFacts, backstage_facts
from service.models.catalog import Service, Team
from service.models.entity_refs import SERVICE_REFS, TEAM_REFS, RefContext
from service.store import backstage as backstage_store
from service.store import services, teams


def normalised_ref(context: RefContext, ref: str, *, field: str = "ref") -> str:
    """`ref` as stored (lower case, kind and namespace filled in); a 422 naming `field`."""
    try:
        return context.normalised(ref)
    except ValueError as exc:
        raise invalid(field, str(exc)) from exc


async def services_of_ref(con: Connection, ref: str) -> list[Service]:
    """The service of entity reference `ref` (given in any accepted form), or none."""
    return await services.list_services(con, entity_refs=[normalised_ref(SERVICE_REFS, ref)])


async def teams_of_ref(con: Connection, ref: str) -> list[Team]:
    """The team of entity reference `ref` (given in any accepted form), or none."""
    return await teams.list_teams(con, entity_refs=[normalised_ref(TEAM_REFS, ref)])


async def facts(con: Connection) -> BackstageFacts:
    """Every service entity with its KPIs' latest status, value, target, unit and period."""
    return backstage_facts(await backstage_store.service_kpi_facts(con))
