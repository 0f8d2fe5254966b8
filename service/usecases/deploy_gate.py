"""The deploy gate: a service's error-budget policy, the gate's answer for a change from the
budget over the policy's trailing window, and overrides recorded as change annotations."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from service.db import Connection
from service.errors import NotFound
from service.kpi import deploy_gate
from service.kpi.periods import Period
from service.models.deploy_gate import (
    ChangeAnnotation,
    DeployGate,
    ErrorBudgetPolicy,
    ErrorBudgetPolicyIn,
    GateBudget,
    GateOverrideIn,
)
from service.models.enums import ChangeKind
from service.models.reports import AvailabilityReport
from service.store import deploy_gate as store
from service.store import services as service_store
from service.usecases import audit, reports

DAY = dt.timedelta(days=1)
#: The trailing window of a service without a policy (its gate allows, with these numbers).
DEFAULT_DAYS = 30


async def put_policy(
    con: Connection, *, service: str, policy: ErrorBudgetPolicyIn
) -> ErrorBudgetPolicy:
    """Set (create or replace) the service's policy."""
    sid = (await service_store.get_service(con, slug=service)).id
    objective = await reports.availability_kpi(con, policy.kpi)
    async with audit.atomic(con):
        before = (await store.policies_by_service(con, [sid])).get(sid)
        await store.put_policy(
            con, service_id=sid, kpi_id=objective.id if objective else None, policy=policy
        )
        after = (await store.policies_by_service(con, [sid]))[sid]
        await audit.record(con, "error-budget-policy", service, before, after)
    return after


async def get_policy(con: Connection, *, service: str) -> ErrorBudgetPolicy:
    sid = (await service_store.get_service(con, slug=service)).id
    found = (await store.policies_by_service(con, [sid])).get(sid)
    if found is None:
        raise NotFound(f"service {service!r} has no error-budget policy")
    return found


async def delete_policy(con: Connection, *, service: str) -> None:
    sid = (await service_store.get_service(con, slug=service)).id
    async with audit.atomic(con):
        before = (await store.policies_by_service(con, [sid])).get(sid)
        if not await store.delete_policy(con, service_id=sid):
            raise NotFound(f"service {service!r} has no error-budget policy")
        await audit.record(con, "error-budget-policy", service, before, None)


async def gate(
    con: Connection, *, service: str, change_type: ChangeKind, now: dt.datetime
) -> DeployGate:
    """Whether a change of `change_type` may go out now (see service/kpi/deploy_gate.py)."""
    sid = (await service_store.get_service(con, slug=service)).id
    return (await gates_by_service(con, [sid], change_type, now))[sid]


async def gates_by_service(
    con: Connection, service_ids: Sequence[int], change_type: ChangeKind, now: dt.datetime
) -> dict[int, DeployGate]:
    """Each service's gate, from one availability read per distinct (window, objective) of
    their policies, whatever the number of services."""
    policies = await store.policies_by_service(con, service_ids)
    groups: dict[tuple[int, str | None], list[int]] = defaultdict(list)
    for sid in service_ids:
        policy = policies.get(sid)
        groups[(policy.window_days, policy.kpi) if policy else (DEFAULT_DAYS, None)].append(sid)
    slugs = {s.id: s.slug for s in await service_store.services_by_id(con, service_ids)}
    out: dict[int, DeployGate] = {}
    for (days, key), ids in groups.items():
        window = Period(now - days * DAY, now)
        objective = await reports.availability_kpi(con, key)
        found = await reports.availability_by_service(con, ids, window, now, objective)
        for sid in ids:
            out[sid] = _answer(slugs[sid], policies.get(sid), found[sid], change_type, window,
                               days)  # fmt: skip
    return out


def _answer(
    service: str, policy: ErrorBudgetPolicy | None, report: AvailabilityReport,
    change_type: ChangeKind, window: Period, days: int,
) -> DeployGate:  # fmt: skip
    budget = deploy_gate.Budget(
        target=report.target / 100, window_seconds=window.seconds,
        spent_seconds=report.outage_minutes * 60,
    )  # fmt: skip
    decision, reason = deploy_gate.decide(
        budget, change_type.value, has_policy=policy is not None,
        freeze=policy.freeze_when_budget_exhausted if policy else False,
        passing=frozenset(k.value for k in policy.passing_change_types) if policy else frozenset(),
    )  # fmt: skip
    return DeployGate(
        service=service, change_type=change_type, decision=decision, reason=reason,
        policy=policy,
        budget=GateBudget(
            target=report.target, window=f"{days}d", window_start=window.start,
            window_end=window.end, allowed_downtime_minutes=budget.allowed_seconds / 60,
            spent_minutes=budget.spent_seconds / 60,
            remaining_minutes=budget.remaining_seconds / 60,
            remaining=report.error_budget_remaining,
            planned_downtime_minutes=report.planned_downtime_minutes,
        ),
    )  # fmt: skip


async def override(
    con: Connection, *, service: str, body: GateOverrideIn, created_by: str, now: dt.datetime
) -> ChangeAnnotation:
    """Record a change passing the gate anyway, with the gate's answer at this moment."""
    answer = await gate(con, service=service, change_type=body.change_type, now=now)
    sid = (await service_store.get_service(con, slug=service)).id
    annotation_id = await store.create_annotation(
        con, service_id=sid, change_type=body.change_type.value, reason=body.reason,
        reference=body.reference, gate=answer.model_dump(mode="json"), created_by=created_by,
        now=now,
    )  # fmt: skip
    return await store.get_annotation(con, annotation_id)


async def list_annotations(con: Connection, *, service: str, limit: int) -> list[ChangeAnnotation]:
    sid = (await service_store.get_service(con, slug=service)).id
    return await store.annotations_by_service(con, [sid], limit)
