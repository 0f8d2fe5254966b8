"""Targets, and the links KPI -> outcome and KPI -> service."""

from __future__ import annotations

from kpi_client.api.catalog import KPIS
from kpi_client.api.collection import Collection, EditableCollection
from kpi_client.models import OutcomeLink, OutcomeLinkIn, ServiceLink, Target, TargetIn
from kpi_client.operation import Body, Operation, query

TARGETS = EditableCollection("/v1/targets", Target, list[Target], TargetIn)


def list_targets(kpi: str | None = None) -> Operation[list[Target]]:
    """Every target, or those of one KPI."""
    return TARGETS.list_all(query(kpi=kpi))


def get_target(target_id: int) -> Operation[Target]:
    return TARGETS.get(target_id)


def create_target(
    target: Body[TargetIn], *, idempotency_key: str | None = None
) -> Operation[Target]:
    return TARGETS.create(target, idempotency_key)


def replace_target(
    target_id: int, target: Body[TargetIn], *, idempotency_key: str | None = None
) -> Operation[Target]:
    return TARGETS.replace(target_id, target, idempotency_key)


def delete_target(target_id: int, *, idempotency_key: str | None = None) -> Operation[None]:
    return TARGETS.delete(target_id, idempotency_key)


def _outcomes_of(key: str) -> EditableCollection[OutcomeLinkIn, OutcomeLink]:
    path = f"{KPIS.member(key)}/outcomes"
    return EditableCollection(path, OutcomeLink, list[OutcomeLink], OutcomeLinkIn)


def list_kpi_outcomes(key: str) -> Operation[list[OutcomeLink]]:
    """The outcomes a KPI contributes to, with weights."""
    return _outcomes_of(key).list_all()


def link_kpi_outcome(
    key: str,
    outcome: str,
    link: Body[OutcomeLinkIn] | None = None,
    *,
    idempotency_key: str | None = None,
) -> Operation[OutcomeLink]:
    """Links a KPI to an outcome, or changes the link's weight and rationale."""
    return _outcomes_of(key).replace(outcome, link if link is not None else {}, idempotency_key)


def unlink_kpi_outcome(
    key: str, outcome: str, *, idempotency_key: str | None = None
) -> Operation[None]:
    return _outcomes_of(key).delete(outcome, idempotency_key)


def _services_of(key: str) -> Collection[ServiceLink]:
    return Collection(f"{KPIS.member(key)}/services", ServiceLink, list[ServiceLink])


def list_kpi_services(key: str) -> Operation[list[ServiceLink]]:
    """The services a KPI applies to."""
    return _services_of(key).list_all()


def link_kpi_service(
    key: str, service: str, *, idempotency_key: str | None = None
) -> Operation[ServiceLink]:
    """Applies a KPI to a service."""
    return _services_of(key).put(service, idempotency_key)


def unlink_kpi_service(
    key: str, service: str, *, idempotency_key: str | None = None
) -> Operation[None]:
    return _services_of(key).delete(service, idempotency_key)
