"""Typed wrappers over sql/queries/deploy_gate.sql: error-budget policies and change
annotations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from service.db import Connection, statements
from service.errors import NotFound
from service.models.deploy_gate import ChangeAnnotation, ErrorBudgetPolicy, ErrorBudgetPolicyIn
from service.models.stored import read

q = statements("deploy_gate")


async def put_policy(
    con: Connection, *, service_id: int, kpi_id: int | None, policy: ErrorBudgetPolicyIn
) -> None:
    kinds = sorted({k.value for k in policy.passing_change_types})
    await con.execute(
        q("put_policy"), service_id, kpi_id, policy.window_days,
        policy.freeze_when_budget_exhausted, kinds,
    )  # fmt: skip


async def policies_by_service(
    con: Connection, service_ids: Sequence[int]
) -> dict[int, ErrorBudgetPolicy]:
    rows = await con.fetch(q("policies_by_service"), list(service_ids))
    return {r["service_id"]: read(ErrorBudgetPolicy, r) for r in rows}


async def delete_policy(con: Connection, *, service_id: int) -> bool:
    return await con.fetchval(q("delete_policy"), service_id) is not None


async def create_annotation(
    con: Connection, *, service_id: int, change_type: str, reason: str, reference: str | None,
    gate: dict[str, object], created_by: str, now: dt.datetime,
) -> int:  # fmt: skip
    found: int = await con.fetchval(
        q("create_annotation"), service_id, "gate_override", change_type, reason, reference,
        gate, created_by, now,
    )  # fmt: skip
    return found


async def annotations_by_service(
    con: Connection, service_ids: Sequence[int], limit: int
) -> list[ChangeAnnotation]:
    rows = await con.fetch(q("annotations_by_service"), list(service_ids), limit)
    return [read(ChangeAnnotation, r) for r in rows]


async def annotation_pages_by_service(
    con: Connection, service_ids: Sequence[int], *, after_id: int | None, limit: int
) -> dict[int, list[ChangeAnnotation]]:
    """{service id: a page of its annotations}: newest first, those after the annotation
    `after_id` (None: from the newest), at most `limit` each, in one statement."""
    rows = await con.fetch(q("annotation_pages_by_service"), list(service_ids), after_id, limit)
    found: dict[int, list[ChangeAnnotation]] = {}
    for r in rows:
        found.setdefault(r["service_id"], []).append(read(ChangeAnnotation, r))
    return found


async def get_annotation(con: Connection, annotation_id: int) -> ChangeAnnotation:
    row = await con.fetchrow(q("get_annotation"), annotation_id)
    if row is None:
        raise NotFound(f"no change annotation {annotation_id}")
    return read(ChangeAnnotation, row)
