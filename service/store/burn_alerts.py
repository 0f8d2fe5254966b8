"""Typed wrappers over sql/queries/burn_alerts.sql: burn-rate policies per KPI, the alerts
they fire (one firing alert per KPI and rule, by a partial unique index), and the observed
sides of ratio KPIs over arbitrary windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.db import Connection, fetch_models, statements
from service.kpi.burn_rate import Reading
from service.kpi.periods import Period
from service.models.burn_alerts import BurnAlert, BurnAlertState, BurnPolicy
from service.models.catalog import Kpi
from service.models.stored import read

q = statements("burn_alerts")


@dataclass(frozen=True)
class StoredPolicy:
    kpi_id: int
    policy: BurnPolicy


def _policy(row: Any) -> BurnPolicy:
    return read(BurnPolicy, {"kpi": row["kpi"], "objective": row["objective"],
                             "rules": row["rules"]})  # fmt: skip


async def get_policy(con: Connection, kpi_id: int) -> BurnPolicy | None:
    row = await con.fetchrow(q("get_policy"), kpi_id)
    return None if row is None else _policy(row)


async def put_policy(con: Connection, kpi_id: int, policy: BurnPolicy, now: dt.datetime) -> None:
    rules = [r.model_dump(mode="json") for r in policy.rules]
    await con.execute(q("put_policy"), kpi_id, policy.objective, rules, now)


async def delete_policy(con: Connection, kpi_id: int) -> bool:
    return await con.fetchval(q("delete_policy"), kpi_id) is not None


async def policies_by_kpi(con: Connection, kpi_ids: Sequence[int]) -> dict[int, BurnPolicy]:
    rows = await con.fetch(q("policies_by_kpi"), list(kpi_ids))
    return {r["key"]: _policy(r) for r in rows}


async def list_policies(con: Connection) -> list[StoredPolicy]:
    return [StoredPolicy(r["kpi_id"], _policy(r)) for r in await con.fetch(q("list_policies"))]


async def firing_alerts(con: Connection) -> dict[tuple[int, str], int]:
    """(KPI id, rule) -> alert id of every firing alert, locked until the transaction ends."""
    return {(r["kpi_id"], r["rule"]): r["id"] for r in await con.fetch(q("firing_alerts"))}


async def fire_alert(
    con: Connection, kpi_id: int, reading: Reading, objective: float, at: dt.datetime
) -> int | None:
    """The new alert's id; None when the rule fires already."""
    rule = reading.rule
    found: int | None = await con.fetchval(
        q("fire_alert"), kpi_id, rule.name, rule.severity, rule.burn_rate,
        int(rule.long_window.total_seconds()) // 60, int(rule.short_window.total_seconds()) // 60,
        objective, at, reading.long_burn_rate, reading.short_burn_rate,
    )  # fmt: skip
    return found


async def resolve_alert(
    con: Connection, alert_id: int, at: dt.datetime, reading: Reading | None
) -> bool:
    """Resolves a firing alert, with the burn rates that no longer fire it (None when its rule
    is gone); False when it was resolved already."""
    long_rate = reading.long_burn_rate if reading else None
    short_rate = reading.short_burn_rate if reading else None
    return await con.fetchval(q("resolve_alert"), alert_id, at, long_rate, short_rate) is not None


async def list_alerts(
    con: Connection, *, kpi_id: int | None = None, state: BurnAlertState | None = None,
    before_id: int | None = None, limit: int = 100, alert_id: int | None = None,
) -> list[BurnAlert]:  # fmt: skip
    """Alerts newest first."""
    return await fetch_models(
        con, BurnAlert, q("list_alerts"), kpi_id, state.value if state else None, before_id,
        limit, alert_id,
    )  # fmt: skip


async def alerts_by_kpi(
    con: Connection, kpi_ids: Sequence[int], limit: int
) -> dict[int, list[BurnAlert]]:
    """The latest `limit` alerts of each KPI, newest first, in one statement."""
    found: dict[int, list[BurnAlert]] = {k: [] for k in kpi_ids}
    for r in await con.fetch(q("alerts_by_kpi"), list(kpi_ids), limit):
        data = dict(r.items())
        found[data.pop("key")].append(read(BurnAlert, data))
    return found


async def observed_in_windows(
    con: Connection, sides: Sequence[Kpi], windows: Sequence[Period]
) -> list[list[float | None]]:
    """Per window, the value of each observed KPI of `sides` over every point in it (None
    without points), in one statement."""
    pairs = [(k, w) for w in windows for k in sides]
    rows = await con.fetch(
        q("observed_in_windows"), [k.id for k, _ in pairs],
        [k.aggregation.value if k.aggregation else "sum" for k, _ in pairs],
        [w.start for _, w in pairs], [w.end for _, w in pairs],
    )  # fmt: skip
    values = [r["value"] for r in rows]
    n = len(sides)
    return [values[i * n : (i + 1) * n] for i in range(len(windows))]
