"""The deploy gate: a service's error-budget policy, the gate's answer for a change, and
overrides recorded as change annotations."""

from __future__ import annotations

from service.models.deploy_gate import (
    AnnotationQuery,
    ChangeAnnotation,
    DeployGate,
    ErrorBudgetPolicy,
    ErrorBudgetPolicyIn,
    GateOverrideIn,
    GateQuery,
)
from service.models.enums import Scope
from service.rest.endpoint import Call, Endpoint, path_param
from service.usecases import deploy_gate, team_scope


async def put_error_budget_policy(call: Call) -> ErrorBudgetPolicy:
    async with call.transaction() as con:
        return await deploy_gate.put_policy(con, service=path_param(call, "slug"),
                                            policy=call.body)  # fmt: skip


async def get_error_budget_policy(call: Call) -> ErrorBudgetPolicy:
    async with call.connection() as con:
        return await deploy_gate.get_policy(con, service=path_param(call, "slug"))


async def delete_error_budget_policy(call: Call) -> None:
    async with call.transaction() as con:
        await deploy_gate.delete_policy(con, service=path_param(call, "slug"))


async def get_deploy_gate(call: Call) -> DeployGate:
    """Allow or freeze, with the reason and the budget's numbers."""
    query: GateQuery = call.query
    async with call.connection() as con:
        return await deploy_gate.gate(
            con, service=path_param(call, "slug"), change_type=query.change_type, now=call.now()
        )


async def override_deploy_gate(call: Call) -> ChangeAnnotation:
    service = path_param(call, "slug")
    async with call.transaction() as con:
        # A token limited to a team overrides the gate of its own team's services only.
        limit = await team_scope.write_limit(con, call.principal)
        if limit is not None:
            limit.check(service, "slug")
        return await deploy_gate.override(
            con, service=service, body=call.body,
            created_by=call.principal.name if call.principal else "unknown", now=call.now(),
        )  # fmt: skip


async def list_change_annotations(call: Call) -> list[ChangeAnnotation]:
    query: AnnotationQuery = call.query
    async with call.connection() as con:
        return await deploy_gate.list_annotations(
            con, service=path_param(call, "slug"), limit=query.limit
        )


POLICY = "/v1/services/{slug}/error-budget-policy"
GATE = "/v1/services/{slug}/deploy-gate"
GATE_TEXT = (
    "The error budget over the policy's trailing window (default 30 days): allowed downtime = "
    "(1 - availability target) x window; spent = outage in the window outside maintenance "
    "windows; remaining = allowed - spent. While the policy freezes on an exhausted budget "
    "and remaining is at or below 0 (with some outage), a change is frozen unless its type "
    "passes (hotfix and rollback by default). No policy: allow."
)
ENDPOINTS = [
    Endpoint("PUT", POLICY, put_error_budget_policy, Scope.ADMIN,
             "Set a service's error-budget policy", "gates", body=ErrorBudgetPolicyIn,
             response=ErrorBudgetPolicy, errors=(404, 413, 415, 422)),
    Endpoint("GET", POLICY, get_error_budget_policy, Scope.READ,
             "Get a service's error-budget policy", "gates",
             response=ErrorBudgetPolicy, errors=(404,)),
    Endpoint("DELETE", POLICY, delete_error_budget_policy, Scope.ADMIN,
             "Remove a service's error-budget policy", "gates", status=204,
             errors=(404,)),
    Endpoint("GET", GATE, get_deploy_gate, Scope.READ, "Whether a change may go out now",
             "gates", response=DeployGate, query=GateQuery, errors=(404, 422),
             description=GATE_TEXT),
    Endpoint("POST", GATE + "/overrides", override_deploy_gate, Scope.INGEST,
             "Pass the gate anyway, recording why", "gates", body=GateOverrideIn,
             response=ChangeAnnotation, status=201, errors=(404, 413, 415, 422),
             description="Records a change annotation (kind gate_override) holding the reason, "
             "the change type, an optional reference and the gate's answer at that moment. "
             "`kpi-report gate --override-reason` sends it when the gate freezes."),
    Endpoint("GET", "/v1/services/{slug}/change-annotations", list_change_annotations,
             Scope.READ, "List a service's change annotations", "gates",
             response=list[ChangeAnnotation], query=AnnotationQuery, errors=(404, 422),
             description="Newest first, at most `limit` (default 100).", replica_reads=True),
]  # fmt: skip
