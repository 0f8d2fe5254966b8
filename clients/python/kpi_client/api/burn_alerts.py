"""Burn-rate alerts: each KPI's policy, and the alerts fired and resolved."""

from __future__ import annotations

from kpi_client.models import BurnAlert, BurnPolicy, BurnPolicyIn
from kpi_client.models.burn_alerts import BurnAlertState
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


def _policy(kpi: str) -> str:
    return f"/v1/kpis/{segment(kpi)}/burn-policy"


def get_burn_policy(kpi: str) -> Operation[BurnPolicy]:
    return Operation("GET", _policy(kpi), answer(BurnPolicy))


def set_burn_policy(
    kpi: str, policy: Body[BurnPolicyIn], *, idempotency_key: str | None = None
) -> Operation[BurnPolicy]:
    """Creates or replaces the KPI's policy (admin); `{}` takes the KPI's target and the
    SRE workbook's rules."""
    body = encode(validated(BurnPolicyIn, policy, "policy"))
    return Operation("PUT", _policy(kpi), answer(BurnPolicy), body=body,
                     idempotency_key=idempotency_key)  # fmt: skip


def delete_burn_policy(kpi: str, *, idempotency_key: str | None = None) -> Operation[None]:
    """Removes the policy (admin); its firing alerts resolve at the next round."""
    return Operation("DELETE", _policy(kpi), no_content, idempotency_key=idempotency_key)


def list_burn_alerts(
    *, kpi: str | None = None, state: BurnAlertState | None = None,
    before_id: int | None = None, limit: int | None = None,
) -> Operation[list[BurnAlert]]:  # fmt: skip
    """Alerts newest first (`state="firing"`: what burns now), of one KPI or all."""
    found = query(kpi=kpi, state=state, before_id=before_id, limit=limit)
    return Operation("GET", "/v1/burn-alerts", answer(list[BurnAlert]), query=found)


def list_kpi_burn_alerts(
    kpi: str, *, state: BurnAlertState | None = None, before_id: int | None = None,
    limit: int | None = None,
) -> Operation[list[BurnAlert]]:  # fmt: skip
    """One KPI's alerts, newest first: its history."""
    found = query(state=state, before_id=before_id, limit=limit)
    path = f"/v1/kpis/{segment(kpi)}/burn-alerts"
    return Operation("GET", path, answer(list[BurnAlert]), query=found)
