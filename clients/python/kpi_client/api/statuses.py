"""KPI statuses and history, the scorecard, on-demand evaluation, service reports and
governance gaps."""

from __future__ import annotations

import datetime as dt
import json

from kpi_client.api.catalog import KPIS, SERVICES
from kpi_client.models import FailureClusters, GovernanceGap, KpiStatus, Scorecard, ServiceReport
from kpi_client.models.base import Cadence
from kpi_client.operation import Operation, answer, instant_text, query


def get_kpi_status(
    key: str, *, period: dt.datetime | None = None, service: str | None = None
) -> Operation[KpiStatus]:
    """The status of the period holding `period` (default: the last closed one), overall or
    for one service: stored if evaluated, else computed now (`evaluated_at` None)."""
    params = query(period=period, service=service)
    return Operation("GET", f"{KPIS.member(key)}/status", answer(KpiStatus), query=params)


def get_kpi_status_history(
    key: str,
    *,
    service: str | None = None,
    before: dt.datetime | None = None,
    limit: int | None = None,
) -> Operation[list[KpiStatus]]:
    """Stored statuses, newest period first."""
    params = query(service=service, before=before, limit=limit)
    path = f"{KPIS.member(key)}/status-history"
    return Operation("GET", path, answer(list[KpiStatus]), query=params)


def get_scorecard(*, period: dt.datetime | None = None) -> Operation[Scorecard]:
    """The board-level KPIs with value, target, status, trend and owners."""
    return Operation("GET", "/v1/scorecard", answer(Scorecard), query=query(period=period))


def evaluate(
    *,
    kpi: str | None = None,
    period: dt.datetime | None = None,
    cadence: Cadence | None = None,
    idempotency_key: str | None = None,
) -> Operation[list[KpiStatus]]:
    """Evaluates one KPI (or every KPI with a cadence) for a period now, replacing the
    period's stored statuses, and escalates (admin)."""
    fields: dict[str, str] = {}
    if kpi is not None:
        fields["kpi"] = kpi
    if period is not None:
        fields["period"] = instant_text("period", period)
    if cadence is not None:
        fields["cadence"] = cadence
    return Operation(
        "POST",
        "/v1/evaluate",
        answer(list[KpiStatus]),
        body=json.dumps(fields).encode(),
        idempotency_key=idempotency_key,
    )


def get_service_report(
    slug: str, *, from_: dt.datetime, to: dt.datetime | None = None
) -> Operation[ServiceReport]:
    """Availability, incident statistics, DORA keys and spend of a service over [from_, to)."""
    params = query(from_=from_, to=to)
    path = f"{SERVICES.member(slug)}/report"
    return Operation("GET", path, answer(ServiceReport), query=params)


def list_governance_gaps() -> Operation[list[GovernanceGap]]:
    """KPIs missing an owner, a cadence, a target or an escalation path."""
    return Operation("GET", "/v1/governance-gaps", answer(list[GovernanceGap]))


def get_failure_clusters(
    by: str,
    *,
    from_: dt.datetime,
    to: dt.datetime | None = None,
    name: str | None = None,
    team: str | None = None,
    tier: int | None = None,
    severity: list[str] | None = None,
    order: str | None = None,
) -> Operation[FailureClusters]:
    """Production changes, failures and incidents' restore time over [from_, to) grouped by
    `by` (service, tier, team, kind, environment, service_attribute or change_label, the
    last two with the attribute's or label's `name`), the largest share first."""
    params = query(by=by, name=name, from_=from_, to=to, team=team, tier=tier,
                   severity=severity, order=order)  # fmt: skip
    return Operation("GET", "/v1/failure-clusters", answer(FailureClusters), query=params)
