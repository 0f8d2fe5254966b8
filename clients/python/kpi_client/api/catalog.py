"""Teams, business services, outcomes and KPI definitions: list, get, create, replace, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kpi_client.models import Kpi, KpiIn, Outcome, OutcomeIn, Service, ServiceIn, Team, TeamIn
from kpi_client.operation import Operation, answer, encode, no_content, segment, validated


def list_teams() -> Operation[list[Team]]:
    """Every team."""
    return Operation("GET", "/v1/teams", answer(list[Team]))


def get_team(slug: str) -> Operation[Team]:
    return Operation("GET", f"/v1/teams/{segment(slug)}", answer(Team))


def create_team(
    team: TeamIn | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Operation[Team]:
    """Creates a team (admin). A duplicate slug is a Conflict."""
    body = encode(validated(TeamIn, team))
    return Operation("POST", "/v1/teams", answer(Team), body=body, idempotency_key=idempotency_key)


def replace_team(
    slug: str, team: TeamIn | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Operation[Team]:
    body = encode(validated(TeamIn, team))
    path = f"/v1/teams/{segment(slug)}"
    return Operation("PUT", path, answer(Team), body=body, idempotency_key=idempotency_key)


def delete_team(slug: str, *, idempotency_key: str | None = None) -> Operation[None]:
    """Deletes a team; a Conflict while a service belongs to it."""
    path = f"/v1/teams/{segment(slug)}"
    return Operation("DELETE", path, no_content, idempotency_key=idempotency_key)


def list_services() -> Operation[list[Service]]:
    """Every business service."""
    return Operation("GET", "/v1/services", answer(list[Service]))


def get_service(slug: str) -> Operation[Service]:
    return Operation("GET", f"/v1/services/{segment(slug)}", answer(Service))


def create_service(
    service: ServiceIn | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Operation[Service]:
    body = encode(validated(ServiceIn, service))
    return Operation(
        "POST", "/v1/services", answer(Service), body=body, idempotency_key=idempotency_key
    )


def replace_service(
    slug: str, service: ServiceIn | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Operation[Service]:
    body = encode(validated(ServiceIn, service))
    path = f"/v1/services/{segment(slug)}"
    return Operation("PUT", path, answer(Service), body=body, idempotency_key=idempotency_key)


def delete_service(slug: str, *, idempotency_key: str | None = None) -> Operation[None]:
    """Deletes a service (with its dependency edges, targets and KPI links); a Conflict while
    it has observations, incidents or changes."""
    path = f"/v1/services/{segment(slug)}"
    return Operation("DELETE", path, no_content, idempotency_key=idempotency_key)


def list_outcomes() -> Operation[list[Outcome]]:
    """Every business outcome."""
    return Operation("GET", "/v1/outcomes", answer(list[Outcome]))


def get_outcome(slug: str) -> Operation[Outcome]:
    return Operation("GET", f"/v1/outcomes/{segment(slug)}", answer(Outcome))


def create_outcome(
    outcome: OutcomeIn | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Operation[Outcome]:
    body = encode(validated(OutcomeIn, outcome))
    return Operation(
        "POST", "/v1/outcomes", answer(Outcome), body=body, idempotency_key=idempotency_key
    )


def replace_outcome(
    slug: str, outcome: OutcomeIn | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Operation[Outcome]:
    body = encode(validated(OutcomeIn, outcome))
    path = f"/v1/outcomes/{segment(slug)}"
    return Operation("PUT", path, answer(Outcome), body=body, idempotency_key=idempotency_key)


def delete_outcome(slug: str, *, idempotency_key: str | None = None) -> Operation[None]:
    path = f"/v1/outcomes/{segment(slug)}"
    return Operation("DELETE", path, no_content, idempotency_key=idempotency_key)


def list_kpis() -> Operation[list[Kpi]]:
    """Every KPI definition."""
    return Operation("GET", "/v1/kpis", answer(list[Kpi]))


def get_kpi(key: str) -> Operation[Kpi]:
    return Operation("GET", f"/v1/kpis/{segment(key)}", answer(Kpi))


def create_kpi(
    kpi: KpiIn | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Operation[Kpi]:
    body = encode(validated(KpiIn, kpi))
    return Operation("POST", "/v1/kpis", answer(Kpi), body=body, idempotency_key=idempotency_key)


def replace_kpi(
    key: str, kpi: KpiIn | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Operation[Kpi]:
    body = encode(validated(KpiIn, kpi))
    path = f"/v1/kpis/{segment(key)}"
    return Operation("PUT", path, answer(Kpi), body=body, idempotency_key=idempotency_key)


def delete_kpi(key: str, *, idempotency_key: str | None = None) -> Operation[None]:
    """Deletes a KPI; a Conflict while it has observations or a ratio KPI uses it."""
    path = f"/v1/kpis/{segment(key)}"
    return Operation("DELETE", path, no_content, idempotency_key=idempotency_key)
