"""Burn-rate alerts: each KPI's policy (objective and rules) and the alerts it fired."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.models.burn_alerts import BurnAlert, BurnAlertState, BurnPolicy, BurnPolicyIn
from service.models.enums import Scope
from service.rest.endpoint import Call, Endpoint, in_transaction, on_connection, path_param
from service.usecases import burn_alerts


async def get_burn_policy(call: Call) -> BurnPolicy:
    return await on_connection(call, burn_alerts.get_policy, kpi=path_param(call, "key"))


async def put_burn_policy(call: Call) -> BurnPolicy:
    """Creates or replaces the policy; the next background round applies it."""
    return await in_transaction(
        call, burn_alerts.set_policy, kpi=path_param(call, "key"), policy=call.body,
        now=call.now(),
    )  # fmt: skip


async def delete_burn_policy(call: Call) -> None:
    await in_transaction(call, burn_alerts.delete_policy, kpi=path_param(call, "key"))


class AlertQuery(BaseModel):
    state: BurnAlertState | None = Field(default=None, description="firing or resolved.")
    before_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="Alerts older than this id (next page)."
    )
    limit: int = Field(default=100, ge=1, le=1000)


class AllAlertsQuery(AlertQuery):
    kpi: str | None = Field(default=None, description="One KPI's alerts only.")


async def list_kpi_burn_alerts(call: Call) -> list[BurnAlert]:
    """One KPI's alerts, newest first: its history."""
    query: AlertQuery = call.query
    return await on_connection(
        call, burn_alerts.list_alerts, kpi=path_param(call, "key"), state=query.state,
        before_id=query.before_id, limit=query.limit,
    )  # fmt: skip


async def list_burn_alerts(call: Call) -> list[BurnAlert]:
    """Every KPI's alerts, newest first."""
    query: AllAlertsQuery = call.query
    return await on_connection(
        call, burn_alerts.list_alerts, kpi=query.kpi, state=query.state,
        before_id=query.before_id, limit=query.limit,
    )  # fmt: skip


POLICY = "/v1/kpis/{key}/burn-policy"
ENDPOINTS = [
    Endpoint("GET", POLICY, get_burn_policy, Scope.READ, "A KPI's burn-rate policy",
             "alerts", response=BurnPolicy, errors=(404,)),
    Endpoint(
        "PUT", POLICY, put_burn_policy, Scope.ADMIN, "Set a KPI's burn-rate policy",
        "alerts", body=BurnPolicyIn, response=BurnPolicy, idempotency="natural",
        errors=(404, 413, 415, 422),
        description="Builtin availability KPIs and ratio KPIs of two observed KPIs (good or "
        "bad events over total events) only. Every background round the leader computes the "
        "burn rate (error ratio / (1 - objective)) over each rule's long and short window "
        "ending now; a rule fires while both reach its burn rate and resolves when either "
        "drops below it. Rules left out: the SRE workbook's three (page at 14.4 over 1 h and "
        "5 min, page at 6 over 6 h and 30 min, ticket at 1 over 3 days and 6 h).",
    ),
    Endpoint("DELETE", POLICY, delete_burn_policy, Scope.ADMIN,
             "Remove a KPI's burn-rate policy", "alerts", status=204, errors=(404,),
             description="Its firing alerts are resolved by the next background round."),
    Endpoint("GET", "/v1/kpis/{key}/burn-alerts", list_kpi_burn_alerts, Scope.READ,
             "A KPI's burn-rate alerts", "alerts", response=list[BurnAlert],
             query=AlertQuery, errors=(404, 422), replica_reads=True),
    Endpoint("GET", "/v1/burn-alerts", list_burn_alerts, Scope.READ, "List burn-rate alerts",
             "alerts", response=list[BurnAlert], query=AllAlertsQuery, errors=(404, 422),
             description="Newest first; `state=firing` lists what is burning now.",
             replica_reads=True),
]  # fmt: skip
