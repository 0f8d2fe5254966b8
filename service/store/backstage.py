"""Typed wrappers over sql/queries/backstage.sql: what Backstage's fact retrievers read."""

from __future__ import annotations

from service.db import Connection, fetch_models, statements
from service.models.backstage import ServiceKpiFact

q = statements("backstage")


async def service_kpi_facts(con: Connection) -> list[ServiceKpiFact]:
    """Each service with each KPI applying to it and its latest stored status there,
    ordered by service reference and KPI key."""
    return await fetch_models(con, ServiceKpiFact, q("service_kpi_facts"))
