"""Maintenance windows, error-budget policies, the deploy gate and its overrides."""

from __future__ import annotations

import datetime as dt

from kpi_client.api.collection import EditableCollection
from kpi_client.models.deploy_gate import (
    ChangeAnnotation,
    ChangeType,
    DeployGate,
    ErrorBudgetPolicy,
    ErrorBudgetPolicyIn,
    GateOverrideIn,
    MaintenanceWindow,
    MaintenanceWindowIn,
)
from kpi_client.operation import (
    Body,
    Operation,
    answer,
    encode,
    no_content,
    query,
    segment,
    validated,
)

WINDOWS = EditableCollection(
    "/v1/maintenance-windows", MaintenanceWindow, list[MaintenanceWindow], MaintenanceWindowIn
)


def _service(slug: str, tail: str) -> str:
    return f"/v1/services/{segment(slug)}/{tail}"


def create_maintenance_window(
    service: str, window: Body[MaintenanceWindowIn], *, idempotency_key: str | None = None
) -> Operation[MaintenanceWindow]:
    """Announces planned downtime for `service` (admin); its start must be after now."""
    body = encode(validated(MaintenanceWindowIn, window))
    return Operation("POST", _service(service, "maintenance-windows"),
                     answer(MaintenanceWindow), body=body,
                     idempotency_key=idempotency_key)  # fmt: skip


def list_service_maintenance_windows(
    service: str, *, from_: dt.datetime | None = None, to: dt.datetime | None = None,
    limit: int | None = None,
) -> Operation[list[MaintenanceWindow]]:  # fmt: skip
    """The service's windows overlapping [from_, to), by start."""
    return Operation("GET", _service(service, "maintenance-windows"),
                     answer(list[MaintenanceWindow]),
                     query=query(from_=from_, to=to, limit=limit))  # fmt: skip


def get_maintenance_window(window_id: int) -> Operation[MaintenanceWindow]:
    return WINDOWS.get(window_id)


def replace_maintenance_window(
    window_id: int, window: Body[MaintenanceWindowIn], *, idempotency_key: str | None = None
) -> Operation[MaintenanceWindow]:
    """Changes a window that has not started (a 409 once it has)."""
    return WINDOWS.replace(window_id, window, idempotency_key)


def delete_maintenance_window(
    window_id: int, *, idempotency_key: str | None = None
) -> Operation[None]:
    """Cancels a window that has not started (a 409 once it has)."""
    return WINDOWS.delete(window_id, idempotency_key)


def put_error_budget_policy(
    service: str, policy: Body[ErrorBudgetPolicyIn], *, idempotency_key: str | None = None
) -> Operation[ErrorBudgetPolicy]:
    """Sets the service's error-budget policy (admin)."""
    body = encode(validated(ErrorBudgetPolicyIn, policy))
    return Operation("PUT", _service(service, "error-budget-policy"),
                     answer(ErrorBudgetPolicy), body=body,
                     idempotency_key=idempotency_key)  # fmt: skip


def get_error_budget_policy(service: str) -> Operation[ErrorBudgetPolicy]:
    return Operation("GET", _service(service, "error-budget-policy"), answer(ErrorBudgetPolicy))


def delete_error_budget_policy(
    service: str, *, idempotency_key: str | None = None
) -> Operation[None]:
    return Operation("DELETE", _service(service, "error-budget-policy"), no_content,
                     idempotency_key=idempotency_key)  # fmt: skip


def get_deploy_gate(service: str, *, change_type: ChangeType = "deploy") -> Operation[DeployGate]:
    """Allow or freeze for a change of `change_type` now, with the reason and the numbers."""
    return Operation("GET", _service(service, "deploy-gate"), answer(DeployGate),
                     query=query(change_type=change_type))  # fmt: skip


def override_deploy_gate(
    service: str, override: Body[GateOverrideIn], *, idempotency_key: str | None = None
) -> Operation[ChangeAnnotation]:
    """Records a change passing the gate anyway, with its reason (a change annotation)."""
    body = encode(validated(GateOverrideIn, override))
    return Operation("POST", _service(service, "deploy-gate/overrides"),
                     answer(ChangeAnnotation), body=body,
                     idempotency_key=idempotency_key)  # fmt: skip


def list_change_annotations(
    service: str, *, limit: int | None = None
) -> Operation[list[ChangeAnnotation]]:
    """The service's change annotations (gate overrides), newest first."""
    return Operation("GET", _service(service, "change-annotations"),
                     answer(list[ChangeAnnotation]), query=query(limit=limit))  # fmt: skip
