"""Teams, business services, outcomes and KPI definitions: list, get, create, replace, delete."""

from __future__ import annotations

from kpi_client.api.collection import EditableCollection
from kpi_client.models import Kpi, KpiIn, Outcome, OutcomeIn, Service, ServiceIn, Team, TeamIn
from kpi_client.operation import Body, Operation, query

TEAMS = EditableCollection("/v1/teams", Team, list[Team], TeamIn)
SERVICES = EditableCollection("/v1/services", Service, list[Service], ServiceIn)
OUTCOMES = EditableCollection("/v1/outcomes", Outcome, list[Outcome], OutcomeIn)
KPIS = EditableCollection("/v1/kpis", Kpi, list[Kpi], KpiIn)


def list_teams(ref: str | None = None) -> Operation[list[Team]]:
    """Every team, or the one of a Backstage entity reference (`group:default/payments`)."""
    return TEAMS.list_all(query(ref=ref))


def get_team(slug: str) -> Operation[Team]:
    return TEAMS.get(slug)


def create_team(team: Body[TeamIn], *, idempotency_key: str | None = None) -> Operation[Team]:
    """Creates a team (admin). A duplicate slug is a Conflict."""
    return TEAMS.create(team, idempotency_key)


def replace_team(
    slug: str, team: Body[TeamIn], *, idempotency_key: str | None = None
) -> Operation[Team]:
    return TEAMS.replace(slug, team, idempotency_key)


def delete_team(slug: str, *, idempotency_key: str | None = None) -> Operation[None]:
    """Deletes a team; a Conflict while a service belongs to it."""
    return TEAMS.delete(slug, idempotency_key)


def list_services(ref: str | None = None) -> Operation[list[Service]]:
    """Every business service, or the one of a Backstage entity reference
    (`component:default/checkout`)."""
    return SERVICES.list_all(query(ref=ref))


def get_service(slug: str) -> Operation[Service]:
    return SERVICES.get(slug)


def create_service(
    service: Body[ServiceIn], *, idempotency_key: str | None = None
) -> Operation[Service]:
    return SERVICES.create(service, idempotency_key)


def replace_service(
    slug: str, service: Body[ServiceIn], *, idempotency_key: str | None = None
) -> Operation[Service]:
    return SERVICES.replace(slug, service, idempotency_key)


def delete_service(slug: str, *, idempotency_key: str | None = None) -> Operation[None]:
    """Deletes a service (with its dependency edges, targets and KPI links); a Conflict while
    it has observations, incidents or changes."""
    return SERVICES.delete(slug, idempotency_key)


def list_outcomes() -> Operation[list[Outcome]]:
    """Every business outcome."""
    return OUTCOMES.list_all()


def get_outcome(slug: str) -> Operation[Outcome]:
    return OUTCOMES.get(slug)


def create_outcome(
    outcome: Body[OutcomeIn], *, idempotency_key: str | None = None
) -> Operation[Outcome]:
    return OUTCOMES.create(outcome, idempotency_key)


def replace_outcome(
    slug: str, outcome: Body[OutcomeIn], *, idempotency_key: str | None = None
) -> Operation[Outcome]:
    return OUTCOMES.replace(slug, outcome, idempotency_key)


def delete_outcome(slug: str, *, idempotency_key: str | None = None) -> Operation[None]:
    return OUTCOMES.delete(slug, idempotency_key)


def list_kpis() -> Operation[list[Kpi]]:
    """Every KPI definition."""
    return KPIS.list_all()


def get_kpi(key: str) -> Operation[Kpi]:
    return KPIS.get(key)


def create_kpi(kpi: Body[KpiIn], *, idempotency_key: str | None = None) -> Operation[Kpi]:
    return KPIS.create(kpi, idempotency_key)


def replace_kpi(
    key: str, kpi: Body[KpiIn], *, idempotency_key: str | None = None
) -> Operation[Kpi]:
    return KPIS.replace(key, kpi, idempotency_key)


def delete_kpi(key: str, *, idempotency_key: str | None = None) -> Operation[None]:
    """Deletes a KPI; a Conflict while it has observations or a ratio KPI uses it."""
    return KPIS.delete(key, idempotency_key)
