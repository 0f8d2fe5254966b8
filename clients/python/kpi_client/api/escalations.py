"""Escalations of breached KPIs: list, get, acknowledge, resolve."""

from __future__ import annotations

import json

from kpi_client.api.collection import Collection
from kpi_client.models import Escalation
from kpi_client.models.base import EscalationState
from kpi_client.operation import Operation, answer, query

ESCALATIONS = Collection("/v1/escalations", Escalation, list[Escalation])


def list_escalations(
    *, state: EscalationState | None = None, kpi: str | None = None, limit: int | None = None
) -> Operation[list[Escalation]]:
    """Escalations, newest first, each with its events."""
    return ESCALATIONS.list_all(query(state=state, kpi=kpi, limit=limit))


def get_escalation(escalation_id: int) -> Operation[Escalation]:
    return ESCALATIONS.get(escalation_id)


def _act(
    escalation_id: int, action: str, by: str, note: str | None, key: str | None
) -> Operation[Escalation]:
    body = json.dumps({"by": by} if note is None else {"by": by, "note": note}).encode()
    path = f"{ESCALATIONS.member(escalation_id)}/{action}"
    return Operation("POST", path, answer(Escalation), body=body, idempotency_key=key)


def acknowledge_escalation(
    escalation_id: int, *, by: str, note: str | None = None, idempotency_key: str | None = None
) -> Operation[Escalation]:
    """Stops the steps that wait for an acknowledgement (admin)."""
    return _act(escalation_id, "acknowledge", by, note, idempotency_key)


def resolve_escalation(
    escalation_id: int, *, by: str, note: str | None = None, idempotency_key: str | None = None
) -> Operation[Escalation]:
    """Closes an escalation (admin)."""
    return _act(escalation_id, "resolve", by, note, idempotency_key)
