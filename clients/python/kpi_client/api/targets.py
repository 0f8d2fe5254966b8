"""Targets, and the links KPI -> outcome and KPI -> service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kpi_client.models import OutcomeLink, OutcomeLinkIn, ServiceLink, Target, TargetIn
from kpi_client.operation import (
    Operation,
    answer,
    encode,
    no_content,
    query,
    segment,
    validated,
)


def list_targets(kpi: str | None = None) -> Operation[list[Target]]:
    """Every target, or those of one KPI."""
    return Operation("GET", "/v1/targets", answer(list[Target]), query=query(kpi=kpi))


def get_target(target_id: int) -> Operation[Target]:
    return Operation("GET", f"/v1/targets/{segment(target_id)}", answer(Target))


def create_target(
    target: TargetIn | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Operation[Target]:
    body = encode(validated(TargetIn, target))
    return Operation(
        "POST", "/v1/targets", answer(Target), body=body, idempotency_key=idempotency_key
    )


def replace_target(
    target_id: int, target: TargetIn | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Operation[Target]:
    body = encode(validated(TargetIn, target))
    path = f"/v1/targets/{segment(target_id)}"
    return Operation("PUT", path, answer(Target), body=body, idempotency_key=idempotency_key)


def delete_target(target_id: int, *, idempotency_key: str | None = None) -> Operation[None]:
    path = f"/v1/targets/{segment(target_id)}"
    return Operation("DELETE", path, no_content, idempotency_key=idempotency_key)


def list_kpi_outcomes(key: str) -> Operation[list[OutcomeLink]]:
    """The outcomes a KPI contributes to, with weights."""
    path = f"/v1/kpis/{segment(key)}/outcomes"
    return Operation("GET", path, answer(list[OutcomeLink]))


def link_kpi_outcome(
    key: str,
    outcome: str,
    link: OutcomeLinkIn | Mapping[str, Any] | None = None,
    *,
    idempotency_key: str | None = None,
) -> Operation[OutcomeLink]:
    """Links a KPI to an outcome, or changes the link's weight and rationale."""
    body = encode(validated(OutcomeLinkIn, link if link is not None else {}))
    path = f"/v1/kpis/{segment(key)}/outcomes/{segment(outcome)}"
    return Operation("PUT", path, answer(OutcomeLink), body=body, idempotency_key=idempotency_key)


def unlink_kpi_outcome(
    key: str, outcome: str, *, idempotency_key: str | None = None
) -> Operation[None]:
    path = f"/v1/kpis/{segment(key)}/outcomes/{segment(outcome)}"
    return Operation("DELETE", path, no_content, idempotency_key=idempotency_key)


def list_kpi_services(key: str) -> Operation[list[ServiceLink]]:
    """The services a KPI applies to."""
    path = f"/v1/kpis/{segment(key)}/services"
    return Operation("GET", path, answer(list[ServiceLink]))


def link_kpi_service(
    key: str, service: str, *, idempotency_key: str | None = None
) -> Operation[ServiceLink]:
    """Applies a KPI to a service."""
    path = f"/v1/kpis/{segment(key)}/services/{segment(service)}"
    return Operation("PUT", path, answer(ServiceLink), idempotency_key=idempotency_key)


def unlink_kpi_service(
    key: str, service: str, *, idempotency_key: str | None = None
) -> Operation[None]:
    path = f"/v1/kpis/{segment(key)}/services/{segment(service)}"
    return Operation("DELETE", path, no_content, idempotency_key=idempotency_key)
